"""The leaderboard against a plain-Python reference model, on both backends; bad input; ties; windows."""

from __future__ import annotations

from datetime import date

import pytest
from redis.cluster import key_slot

from labkit.backend.connection import is_cluster
from labkit.errors import BadArgument
from labkit.leaderboards.board import MAX_PLAYER_BYTES, Entry, Leaderboard
from labkit.leaderboards.combine import send_to_one_node
from labkit.leaderboards.game import SimulatedGame, bulk_scores, player_names
from labkit.leaderboards.ties import EarliestFirst
from labkit.leaderboards.windows import WindowedBoards


def test_equal_scores_follow_redis_order_reverse_alphabetical_on_a_descending_board(space):
    board = Leaderboard(space, "ties")
    board.load({"amy": 90, "zoe": 90, "bob": 80, "cat": 80, "dan": 80, "eve": 70})
    assert [e.player for e in board.top(6)] == ["zoe", "amy", "dan", "cat", "bob", "eve"]
    assert [e.rank for e in board.top(6, "competition")] == [1, 1, 3, 3, 3, 6]
    assert board.rank("amy") == 2 and board.rank("amy", "competition") == 1
    assert [e.rank for e in board.page(2, 3, "competition")] == [3, 3, 6]


def test_submit_keeps_the_best_and_earliest_first_breaks_ties(space):
    board, ties = Leaderboard(space, "best"), EarliestFirst()
    assert board.submit("amy", ties.encode(500, 1_000)) == ties.encode(500, 1_000)
    board.submit("zoe", ties.encode(500, 900))     # same points, earlier: ranks above amy
    board.submit("zoe", ties.encode(500, 5_000))   # the same points again, later: GT keeps the earlier
    board.submit("bob", ties.encode(499, 1))
    assert [e.player for e in board.top(3)] == ["zoe", "amy", "bob"]
    assert ties.decode(board.score("zoe")) == (500, 900)
    assert ties.decode(ties.encode(ties.max_points, ties.max_time)) == (ties.max_points, ties.max_time)


def test_earliest_first_refuses_points_a_double_cannot_hold():
    ties = EarliestFirst(time_bits=32)
    assert ties.max_points == 2**21 - 1
    assert float(2**53 + 1) == float(2**53)  # why: a double stops counting by ones at 2**53
    with pytest.raises(ValueError, match=r"2\*\*53"):
        ties.encode(2**21, 0)
    with pytest.raises(ValueError, match="achieved_at"):
        ties.encode(1, 2**32)
    with pytest.raises(ValueError, match="time_bits"):
        EarliestFirst(time_bits=53)


@pytest.mark.parametrize("score, problem", [
    ("12", "must be a number"), (None, "must be a number"), (True, "must be a number"),
    (float("nan"), "NaN"), (float("inf"), "infinite"), (float("-inf"), "infinite"),
])
def test_bad_scores_raise_a_clear_error_and_change_nothing(space, score, problem):
    board = Leaderboard(space, "bad")
    board.add_points("amy", 5)
    for call in (lambda: board.submit("amy", score), lambda: board.add_points("amy", score),
                 lambda: board.load({"bob": 1, "amy": score})):
        with pytest.raises(ValueError, match=problem):
            call()
    assert board.top(5) == [Entry(1, "amy", 5.0)]


@pytest.mark.parametrize("player, problem", [
    ("", "empty"), ("   ", "empty"), ("x" * (MAX_PLAYER_BYTES + 1), "over the limit"),
    ("é" * 33, "66 bytes"), (42, "must be a str"), (None, "must be a str"),
])
def test_bad_player_names_raise_a_clear_error(space, player, problem):
    board = Leaderboard(space, "bad")
    for call in (lambda: board.submit(player, 1), lambda: board.add_points(player, 1),
                 lambda: board.rank(player), lambda: board.load([("ok", 1), (player, 2)])):
        with pytest.raises(ValueError, match=problem):
            call()
    assert board.count() == 0


def test_bulk_load_names_the_first_bad_item_whatever_the_mix(space):
    board = Leaderboard(space, "bulk-bad")
    cases = [({"a": float("inf"), "b": float("-inf")}, "infinite"), ({"a": 1e308, "b": 1e308, "c": float("nan")}, "NaN"),
             ({"ok": 1, "x" * 17 + "é" * 24: 2}, "over the limit"), ({"ok": 1, "bo": "3"}, "score of 'bo'")]
    for scores, problem in cases:
        with pytest.raises(ValueError, match=problem):
            board.load(scores)
    assert board.load({"a": 1e308, "b": 1e308, "é" * 32: -1}) == 3 and board.rank("é" * 32) == 3


def test_longest_allowed_name_and_unknown_players(space):
    board = Leaderboard(space, "edge")
    assert board.rank("ghost") is None and board.score("ghost") is None and board.entry("ghost") is None
    assert board.around("ghost") == [] and board.remove("ghost") is False and board.top() == []
    board.submit("x" * MAX_PLAYER_BYTES, 1)
    assert board.rank("x" * MAX_PLAYER_BYTES) == 1
    for bad in (lambda: board.top(0), lambda: board.page(0), lambda: board.page(1, 0), lambda: board.around("x", -1),
                lambda: board.top(3, "fractional"), lambda: board.load({}, batch=0)):
        with pytest.raises(ValueError):
            bad()


@pytest.mark.parametrize("call, problem", [
    (lambda b: b.top(1.5), "whole number"), (lambda b: b.top(10**400), "digits"), (lambda b: b.top("3"), "whole number"),
    (lambda b: b.top(True), "whole number"), (lambda b: b.page(2**40, 2**40), "from 1"),
    (lambda b: b.page(1, 2.0), "whole number"), (lambda b: b.around("amy", 0.5), "whole number"),
    (lambda b: b.pages(0), "from 1"), (lambda b: b.submit("amy", 10**400), "too large"),
    (lambda b: b.add_points("amy", -10**400), "too large"), (lambda b: b.count_between(0, 10**400), "too large"),
    (lambda b: b.top(3, "dense-ish"), "'ordinal', 'competition', 'dense'"), (lambda b: b.keep_best(-1), "from 0"),
    (lambda b: b.top_percent(0), "above 0"), (lambda b: b.top_percent(101), "at most 100"),
    (lambda b: b.expire(0), "ttl"), (lambda b: b.expire(float("inf")), "infinite"), (lambda b: b.expire(1.5), "whole"),
    (lambda b: b.load([("amy", 1, 2)]), "pair"), (lambda b: b.load(["ab"]), "pair"),
    (lambda b: Leaderboard(b.space, "x", order="best_first"), "'highest_first', 'lowest_first'"),
    (lambda b: Leaderboard(b.space, "x", capacity=0), "capacity"),
])
def test_every_bad_argument_is_a_clear_value_error_and_changes_nothing(space, call, problem):
    board = Leaderboard(space, "args")
    board.submit("amy", 5)
    with pytest.raises(BadArgument, match=problem):
        call(board)
    assert board.top(5) == [Entry(1, "amy", 5.0)] and board.ttl() is None


@pytest.mark.parametrize("order", ["highest_first", "lowest_first"])
def test_an_increment_that_would_not_be_finite_is_refused_and_the_score_kept(space, order):
    board = Leaderboard(space, "overflow", order=order)
    assert board.add_points("amy", 1e308) == 1e308
    for points in (1e308, 1.7976931348623157e308):
        with pytest.raises(BadArgument, match="finite"):
            board.add_points("amy", points)
    with pytest.raises(BadArgument, match="finite"):
        board.add_many([("bob", 1), ("amy", 1e308)])  # all or nothing: bob not added either
    assert board.score("amy") == 1e308 and board.score("bob") is None
    assert board.add_points("amy", -1e308) == 0.0
    boards = WindowedBoards(space, "ovf")
    boards.add_points("amy", 1e308, date(2026, 11, 23))
    with pytest.raises(BadArgument, match="finite"):
        boards.add_points("amy", 1e308, date(2026, 11, 24))
    assert boards.all_time().score("amy") == 1e308 and boards.daily(date(2026, 11, 24)).count() == 0


def test_concurrent_increments_are_all_kept(space):
    import threading

    from labkit.backend.connection import connect
    from labkit.backend.keyspace import Keyspace

    def writer() -> None:  # one app server: a connection of its own
        mine = Leaderboard(Keyspace(connect(), space.prefix), "crowd")
        for _ in range(40):
            mine.add_points("amy", 1)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Leaderboard(space, "crowd").score("amy") == 160


def test_lowest_first_keeps_the_lowest_result_and_expires(space):
    golf = Leaderboard(space, "golf", order="lowest_first")
    for player, strokes in [("amy", 72), ("zoe", 70), ("amy", 68), ("zoe", 75), ("bob", 70)]:
        golf.submit(player, strokes)
    assert [(e.rank, e.player, e.score) for e in golf.top(3, "dense")] == [(1, "amy", 68), (2, "bob", 70), (2, "zoe", 70)]
    assert golf.expire(120) and 0 < golf.ttl() <= 120
    assert repr(golf) == f"Leaderboard({golf.key!r}, order='lowest_first')"


def test_remove_can_take_the_profile_too(space):
    board = Leaderboard(space, "profiled")
    board.submit("amy", 3)
    board.set_profile("amy", display_name="Amy")
    assert board.remove("amy") and board.profile("amy") == {"display_name": "Amy"}
    board.submit("amy", 3)
    assert board.remove("amy", with_profile=True) and board.profile("amy") == {}
    assert board.remove("amy", with_profile=True) is False


def test_profiles_sit_beside_several_boards(space):
    level1, level2 = Leaderboard(space, "level1"), Leaderboard(space, "level2")
    level1.load({"amy": 3, "zoe": 7})
    level2.load({"amy": 9})
    level1.set_profile("amy", display_name="Amy", country="NZ")
    assert level2.profile("amy") == {"country": "NZ", "display_name": "Amy"}
    assert level1.top_with_profiles(2) == [(Entry(1, "zoe", 7.0), {}),
                                          (Entry(2, "amy", 3.0), {"country": "NZ", "display_name": "Amy"})]
    assert level2.rank("zoe") is None
    with pytest.raises(ValueError, match="at least one field"):
        level1.set_profile("amy")


def test_load_reports_progress_per_batch(space):
    board, seen = Leaderboard(space, "bulk"), []
    assert board.load(bulk_scores(2_500, seed=4), batch=1_000, progress=seen.append) == 2_500
    assert seen == [1_000, 2_000, 2_500] and board.count() == 2_500
    assert bulk_scores(10, seed=4) == bulk_scores(10, seed=4) != bulk_scores(10, seed=5)
    exact = {"a": 0.1, "b": -2.5, "c": 10**15, "d": 1e-7, "a2": 2**53}
    board.load(exact)
    assert {p: board.score(p) for p in exact} == {p: float(v) for p, v in exact.items()}


def test_daily_weekly_boards_expire_and_roll_up(space):
    boards = WindowedBoards(space, "game")
    game = SimulatedGame(players=10, seed=7)
    start = date(2026, 11, 23)  # a Monday: ISO week 48
    game.play_days(boards, start, days=7, rounds_per_day=5)
    week = boards.weekly(start)
    assert week.key == space.key("{game}", "weekly", "2026-W48")
    assert boards.daily(start).key == space.key("{game}", "daily", "2026-11-23")
    rollup = boards.rollup(boards.last_days(date(2026, 11, 29)), "2026-11-23..29")
    assert rollup.top(10) == week.top(10) == boards.all_time().top(10)
    client = space.client
    assert 0 < client.ttl(boards.daily(start).key) <= boards.daily_ttl.total_seconds()
    assert 0 < client.ttl(week.key) <= boards.weekly_ttl.total_seconds()
    assert client.ttl(boards.all_time().key) == -1
    keys = [boards.all_time().key, week.key, rollup.key, boards.daily(start).key]
    assert len({key_slot(k.encode()) for k in keys}) == 1
    with pytest.raises(ValueError, match="hash tag|'\\{'"):
        WindowedBoards(space, "{bad}")
    with pytest.raises(ValueError, match="at least one day"):
        boards.rollup([], "empty")


def test_game_is_deterministic_and_names_are_distinct():
    a, b = SimulatedGame(seed=3), SimulatedGame(seed=3)
    assert [a.next_round() for _ in range(5)] == [b.next_round() for _ in range(5)]
    assert [SimulatedGame(seed=4).next_round() for _ in range(3)] != [SimulatedGame(seed=3).next_round() for _ in range(3)]
    names = player_names(200)
    assert len(set(names)) == 200 and names[:2] == ["ada", "amy"]
    assert repr(a) == "SimulatedGame(players=24, rounds_played=5)"


def test_a_load_the_server_refuses_raises_and_leaves_the_connection_clean(space):
    space.client.hset(space.key("taken"), "a", "1")
    with pytest.raises(Exception, match="WRONGTYPE"):
        Leaderboard(space, "taken").load(bulk_scores(2_500, seed=1), batch=1_000)
    assert space.client.hgetall(space.key("taken")) == {"a": "1"}
    board = Leaderboard(space, "after")
    assert board.load({"amy": 1}) == 1 and board.top(1) == [Entry(1, "amy", 1.0)]


def test_send_to_one_node_shows_a_cluster_refusing_keys_in_different_slots(space):
    days = [space.key("arcade", "daily", day) for day in ("2026-11-23", "2026-11-24")]
    for key, points in zip(days, (10, 20)):
        space.client.zadd(key, {"ada": points})
    target = space.key("arcade", "weekly", "2026-W48")
    assert len({key_slot(k.encode()) for k in (target, *days)}) > 1
    said = send_to_one_node(space.client, "ZUNIONSTORE", target, 2, *days)
    if is_cluster(space.client):
        assert said == "refused by the cluster: CROSSSLOT Keys in request don't hash to the same slot"
        assert space.client.exists(target) == 0
    else:
        assert said == "accepted: the reply is 1"
        assert space.client.zscore(target, "ada") == 30
