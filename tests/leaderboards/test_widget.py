"""Notebook 03's exercise checks (they pass right answers and fail typical mistakes) and the widget logic."""

from __future__ import annotations

import pytest

from labkit.exercises.leaderboards import check_around_me, check_competition_rank, check_page
from labkit.leaderboards.board import Entry, Leaderboard
from labkit.leaderboards.game import SimulatedGame
from labkit.leaderboards.widget import LeaderboardView, LoadProgress, Row, standings_html, standings_rows


def competition_rank(client, key, player):
    score = client.zscore(key, player)
    return None if score is None else client.zcount(key, f"({score}", "+inf") + 1


def ordinal_rank(client, key, player):
    index = client.zrevrank(key, player)
    return None if index is None else index + 1


def page(client, key, number, size):
    start = (number - 1) * size
    return client.zrevrange(key, start, start + size - 1, withscores=True)


def around_me(client, key, player, radius):
    index = client.zrevrank(key, player)
    if index is None:
        return []
    start = max(0, index - radius)
    rows = client.zrevrange(key, start, index + radius, withscores=True)
    return [(start + i + 1, p, s) for i, (p, s) in enumerate(rows)]


def _unclipped(client, key, player, radius):
    index = client.zrevrank(key, player)
    if index is None:
        return []
    rows = client.zrevrange(key, index - radius, index + radius, withscores=True)
    return [(index - radius + i + 1, p, s) for i, (p, s) in enumerate(rows)]


def test_checks_pass_right_answers(space, capsys):
    assert check_competition_rank(competition_rank, space)
    assert check_page(page, space)
    assert check_around_me(around_me, space)
    lines = capsys.readouterr().out.splitlines()
    assert [line[:17] for line in lines] == ["✓ Exercise 03.1 p", "✓ Exercise 03.2 p", "✓ Exercise 03.3 p"]
    assert list(space.keys()) == []  # the checks clean up their boards


@pytest.mark.parametrize("check, answer, hint", [
    (check_competition_rank, ordinal_rank, "equal points share a rank"),
    (check_competition_rank, lambda c, k, p: competition_rank(c, k, p) - 1, "one too few"),
    (check_competition_rank, lambda c, k, p: competition_rank(c, k, p) if p != "nobody" else 0, "return None"),
    (check_page, lambda c, k, n, s: c.zrevrange(k, (n - 1) * s, (n - 1) * s + s, withscores=True), "inclusive"),
    (check_page, lambda c, k, n, s: c.zrevrange(k, n * s, n * s + s - 1, withscores=True), "start at 1"),
    (check_page, lambda c, k, n, s: c.zrange(k, (n - 1) * s, n * s - 1, withscores=True), "ZREVRANGE"),
    (check_around_me, _unclipped, "counts from the END"),
    (check_around_me, lambda c, k, p, r: [(n - 1, q, s) for n, q, s in around_me(c, k, p, r)], "0-based"),
    (check_around_me, lambda c, k, p, r: around_me(c, k, p, r) or None, "return []"),
])
def test_checks_fail_typical_mistakes_with_a_specific_hint(space, capsys, check, answer, hint):
    assert not check(answer, space)
    out = capsys.readouterr().out
    assert out.startswith(f"✗ Exercise {check.exercise_id}, not yet:") and hint in out, out


def test_a_stub_is_reported_not_raised(space, capsys):
    def stub(*args):
        raise NotImplementedError  # your code here

    assert not check_page(stub, space)
    assert "still has its stub" in capsys.readouterr().out


def test_rows_show_rank_movement():
    before = [Entry(1, "amy", 50), Entry(2, "zoe", 40), Entry(3, "bob", 30)]
    after = [Entry(1, "zoe", 60), Entry(2, "amy", 50), Entry(3, "cat", 35)]
    assert [r.move for r in standings_rows(before)] == ["", "", ""]
    previous = {r.player: r.rank for r in standings_rows(before)}
    assert [r.move for r in standings_rows(after, previous)] == ["▲1", "▼1", "new"]
    assert standings_rows([Entry(1, "amy", 50)], {"amy": 1}) == [Row(1, "amy", 50, "=")]


def test_html_table_is_accessible_and_escaped():
    text = standings_html([Row(1, "<b>", 5, "▲2")], "Top 10 of 1 players")
    assert "<caption" in text and 'scope="col"' in text and 'aria-live="polite"' in text
    assert "&lt;b&gt;" in text and "<b>" not in text and 'aria-label="up 2"' in text
    assert "No players on the board yet." in standings_html([], "Top 10 of 0 players")


def test_view_plays_rounds_from_its_button(space):
    board = Leaderboard(space, "view")
    view = LeaderboardView(board, n=5, game=SimulatedGame(seed=2), rounds_per_click=3)
    assert "Top 5 of 0 players" in view.table.value
    view.button.click()
    assert view.game.rounds_played == 3 and view.status.value == "3 rounds played"
    assert [r.player for r in view.rows] == [e.player for e in board.top(5)]
    assert {r.move for r in view.refresh()} == {"="}  # nothing changed since the click
    assert view.button.description == "Play 3 rounds" and view.button.tooltip
    with pytest.raises(ValueError, match="no game"):
        LeaderboardView(board).play(1)


def test_move_shows_the_change_over_the_whole_click(space):
    # Redrawing after every round must not make Move compare with the round before: it compares with
    # the table as it was before the click.
    board = Leaderboard(space, "moves")
    view = LeaderboardView(board, n=5, game=SimulatedGame(seed=2), rounds_per_click=10)
    view.play(5)
    before = {r.player: r.rank for r in view.rows}
    view.button.click()  # 10 rounds, a redraw after each
    assert view.rows == standings_rows(board.top(5), before)
    # The control: the same game, with Move against the ranks one round before the end, differs.
    shadow = Leaderboard(space, "moves-shadow")
    game = SimulatedGame(seed=2)
    game.play(shadow, 14)
    one_round_before = {e.player: e.rank for e in shadow.top(5)}
    game.play(shadow, 1)
    assert [e.player for e in shadow.top(5)] == [r.player for r in view.rows]
    assert view.rows != standings_rows(shadow.top(5), one_round_before)


def test_progress_bar_counts_up_to_done():
    progress = LoadProgress(2_500)
    assert progress.label.value == "0 of 2,500 players" and progress.bar.description == "Loading"
    progress(2_500)
    assert progress.bar.value == 2_500 and progress.bar.bar_style == "success"
