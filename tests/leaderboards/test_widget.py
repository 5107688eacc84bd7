"""The leaderboard views: rows with rank movement, the accessible table, the live view and its button, the load bar.

Notebook 03's exercise checks are tested in tests/exercises/test_leaderboards.py."""

from __future__ import annotations

import pytest

from labkit.leaderboards.board import Entry, Leaderboard
from labkit.leaderboards.game import SimulatedGame
from labkit.leaderboards.widget import LeaderboardView, LoadProgress, Row, standings_html, standings_rows


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
