"""Checks for notebook 03's exercises: competition ranks on a lowest-first board, pages, the window around a player.

Each check builds its own small board under the notebook's keyspace, calls the learner's function
with `(client, key, ...)`, and judges what it returned (never how it is written). A wrong answer
is matched against the mistakes learners really make (the highest-first formula on a lowest-first
board, positions instead of shared ranks, 0-based ranks, off by one, an unclipped window ...), so
the hint names what THIS answer did; anything else gets the first case that differs. The
learner's exceptions and odd return types are reported as theirs, with their line.
"""

from __future__ import annotations

import os
import sysconfig
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from labkit.backend.keyspace import Keyspace
from labkit.exercises.checking import NotYet, exercise

# Golf strokes: fewer is better. Ties on 68 and on 70; names chosen so that Redis's order among
# equal scores (A to Z on a lowest-first board) differs from the order they were added in.
GOLF = {"zoe": 68, "amy": 68, "dan": 70, "bob": 70, "cat": 70, "eve": 72, "fox": 75}
# 23 players for pages of 10 and 7: the last page is partial. Pairs of ties, to test the order too.
PAGED_SCORES = {f"player{i:02d}": 1000 - 10 * (i // 2) for i in range(23)}
_LIBRARY_DIRS = tuple(os.path.realpath(p) for p in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["stdlib"],
                                                     os.path.dirname(os.path.dirname(__file__))})


@contextmanager
def _board(space: Keyspace, name: str, scores: dict[str, int]) -> Iterator[str]:
    key = space.key("check", name)
    space.client.delete(key)
    space.client.zadd(key, scores)
    try:
        yield key
    finally:
        space.client.delete(key)


def _call(function: Callable[..., Any], *args: object, asked: str, then: str = "") -> Any:
    """The learner's function called; an exception in it becomes a hint naming it, their line and what was asked."""
    try:
        return function(*args)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's error, reported as theirs
        where = ""
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if not os.path.realpath(frame.filename).startswith(_LIBRARY_DIRS):
                where = f" at line {frame.lineno} of your code ({frame.line.strip()!r})" if frame.line else \
                        f" at line {frame.lineno} of your code"
                break
        raise NotYet(f"asked for {asked}, your code raised {type(exc).__name__}{where}: {exc}{then}") from None


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _rows(value: object, fields: tuple[str, ...], asked: str, example: str) -> list[tuple]:
    """The learner's rows as tuples (player as str, numbers as float), or a NotYet naming the shape they returned."""
    shape = f"a list of {example}s"
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise NotYet(f"asked for {asked}, you returned {type(value).__name__} {value!r:.80}: return {shape}.")
    rows = []
    for item in value:
        if all(hasattr(item, f) for f in fields):  # labkit's Entry, or a named tuple
            item = tuple(getattr(item, f) for f in fields)
        if isinstance(item, (str, bytes)) or not hasattr(item, "__len__") or len(item) != len(fields):
            raise NotYet(f"asked for {asked}, your list holds {item!r:.60}: each item must be a {example}.")
        row: list[str | float] = []
        for name, part in zip(fields, item):
            if name == "player":
                row.append(_text(part))
            else:
                number = _number(part)
                if number is None:
                    raise NotYet(f"asked for {asked}, your list holds {item!r:.60}: its {name} is not a number.")
                row.append(number)
        rows.append(tuple(row))
    return rows


# -- 03.1 ---------------------------------------------------------------------------------------------

def _golf_models() -> dict[str, tuple[dict[str, object], str]]:
    """Wrong answers learners write, as the ranks they give each player, with the hint for each."""
    scores = GOLF
    ordered = sorted(scores, key=lambda p: (scores[p], p))
    lower = {p: sum(v < s for v in scores.values()) for p, s in scores.items()}
    higher = {p: sum(v > s for v in scores.values()) for p, s in scores.items()}
    at_most = {p: sum(v <= s for v in scores.values()) for p, s in scores.items()}
    distinct = {p: len({v for v in scores.values() if v < s}) for p, s in scores.items()}
    return {
        "higher": ({p: higher[p] + 1 for p in scores},
                   "you counted the players with MORE strokes, as on a highest-first board; here fewer strokes is "
                   "better, so a player's rank is 1 + how many score strictly LESS."),
        "higher0": ({p: higher[p] for p in scores},
                    "you counted the players with MORE strokes; on this board fewer strokes is better: count those "
                    "scoring strictly less, and the best player (no one better) must get rank 1."),
        "position": ({p: ordered.index(p) + 1 for p in scores},
                     "you gave each player their position (ZRANK + 1), so players on equal strokes got different "
                     "ranks; in competition ranking they share one: 1 + how many score strictly less."),
        "position0": ({p: ordered.index(p) for p in scores},
                      "you returned ZRANK, a 0-based position: ranks start at 1, and in competition ranking "
                      "players on equal strokes share one (1 + how many score strictly less)."),
        "revposition": ({p: len(ordered) - ordered.index(p) for p in scores},
                        "you ranked from the highest score down (ZREVRANK); on this board fewer strokes is better."),
        "lower": ({p: lower[p] for p in scores},
                  "you returned how many players score less, which is 0 for the best player: the rank is that "
                  "count plus one."),
        "inclusive": ({p: at_most[p] for p in scores},
                      "you counted players with EQUAL strokes too (ZCOUNT's bounds are inclusive), so tied players "
                      "rank below each other's score; make the upper bound exclusive with '(' and add 1."),
        "inclusive1": ({p: at_most[p] + 1 for p in scores},
                       "you counted players with EQUAL strokes too, the player included (ZCOUNT's bounds are "
                       "inclusive); make the upper bound exclusive with '('."),
        "dense": ({p: distinct[p] + 1 for p in scores},
                  "that is dense ranking (1, 1, 2): you counted distinct better scores. Competition ranking counts "
                  "players, so after two tied players the next rank is 3."),
        "score": ({p: s for p, s in scores.items()},
                  "you returned each player's score (their strokes), not their rank."),
    }


@exercise("03.1", "Competition rank on a lowest-first board (golf)")
def check_competition_rank(competition_rank: Callable[..., int | None], space: Keyspace) -> str:
    """`competition_rank(client, key, player)` on a lowest-first board: 1 + players scoring strictly less, or None."""
    expected = {p: 1 + sum(v < s for v in GOLF.values()) for p, s in GOLF.items()}
    with _board(space, "golf", GOLF) as key:
        got = {p: _call(competition_rank, space.client, key, p, asked=f"the rank of {p!r}") for p in GOLF}
        wrong = [p for p in GOLF if got[p] != expected[p] or isinstance(got[p], bool)]
        if not wrong:
            odd = next((p for p in GOLF if type(got[p]) is not int), None)
            if odd is not None:
                raise NotYet(f"for {odd!r} you returned {got[odd]!r}, a {type(got[odd]).__name__}: "
                             "return the rank as an int.")
        else:
            numbers = {p: _number(v) for p, v in got.items()}
            if all(numbers[p] == expected[p] for p in GOLF):
                p = wrong[0]
                raise NotYet(f"for {p!r} you returned {got[p]!r}, a {type(got[p]).__name__}: the number is right; "
                             "return the rank as an int.")
            for model, hint in _golf_models().values():
                if all(numbers[p] == model[p] for p in GOLF):
                    raise NotYet(hint)
            p = wrong[0]
            raise NotYet(f"for {p!r} ({GOLF[p]} strokes) you returned {got[p]!r}, expected {expected[p]}: players "
                         "on equal strokes share a rank, 1 + how many players score strictly less.")
        unknown = _call(competition_rank, space.client, key, "nobody", asked="the rank of a player not on the board",
                        then=". ZSCORE gives None for a member that is not there: return None then.")
        if unknown is not None:
            raise NotYet(f"for a player not on the board you returned {unknown!r}: return None "
                         "(ZSCORE gives None for a member that is not there).")
    return ("amy and zoe (68) share rank 1, bob, cat and dan (70) share rank 3, eve is 6th; "
            "a player not on the board is None.")


# -- 03.2 ---------------------------------------------------------------------------------------------

# Commands that send sorted-set members back: what a page costs is how many of them Redis returns.
_MEMBER_READS = frozenset({"zrange", "zrevrange", "zrangebyscore", "zrevrangebyscore", "zrangebylex",
                           "zrevrangebylex", "zrandmember", "zscan", "zunion", "zinter", "zdiff", "sort"})
BIG_BOARD = 1_000  # players on the board a page is read from, to see how much of it the answer fetched
BIG_PAGE = (40, 10)  # page 40 of size 10: players 391 to 400


class _Tally:
    """How many sorted-set members Redis returned to the learner's function."""

    def __init__(self) -> None:
        self.members = 0

    def count(self, reply: object, flat_pairs: bool = False) -> None:
        if isinstance(reply, tuple) and len(reply) == 2 and isinstance(reply[1], (list, dict)):  # ZSCAN's (cursor, items)
            reply = reply[1]
        if isinstance(reply, (list, tuple, dict)):
            items = len(reply)
            if flat_pairs and reply and not isinstance(next(iter(reply)), (list, tuple)):
                items //= 2  # a raw WITHSCORES reply: member, score, member, score ...
            self.members += items


def _read(name: str, args: tuple[Any, ...]) -> tuple[bool, bool]:
    """Whether a call reads sorted-set members, and whether its reply is flat (member, score, ...) pairs."""
    if name == "execute_command" and args:
        command = _text(args[0]).lower()
        return command in _MEMBER_READS, any(_text(a).upper() == "WITHSCORES" for a in args[1:]
                                             if isinstance(a, (str, bytes)))
    return name in _MEMBER_READS, False


class _CountingPipeline:
    """A pipeline of the learner's, passed through, counting the members in the replies of its reads."""

    def __init__(self, pipe: Any, tally: _Tally) -> None:
        self._pipe, self._tally = pipe, tally
        self._reads: dict[int, bool] = {}  # queued position -> flat pairs
        self._queued = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._pipe, name)
        if not callable(attribute):
            return attribute
        if name in ("execute", "reset"):
            def finish(*args: Any, **kwargs: Any) -> Any:
                result = attribute(*args, **kwargs)
                if name == "execute" and isinstance(result, list):
                    for position, flat in self._reads.items():
                        if position < len(result):
                            self._tally.count(result[position], flat)
                self._reads, self._queued = {}, 0
                return result
            return finish

        def method(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            reads, flat = _read(name, args)
            if result is self._pipe:  # queued: its reply comes with execute()
                if reads:
                    self._reads[self._queued] = flat
                self._queued += 1
                return self
            if reads:  # run at once (after WATCH)
                self._tally.count(result, flat)
            return result
        return method

    def __enter__(self) -> _CountingPipeline:
        self._pipe.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._pipe.__exit__(*exc)

    def __len__(self) -> int:
        return len(self._pipe)


class _CountingClient:
    """The learner's client, passed through, counting the sorted-set members Redis returns to it."""

    def __init__(self, client: Any, tally: _Tally) -> None:
        self._client, self._tally = client, tally

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name == "pipeline":
            return lambda *args, **kwargs: _CountingPipeline(attribute(*args, **kwargs), self._tally)
        if name.endswith("_iter") and name[:-len("_iter")] in _MEMBER_READS:
            def each(*args: Any, **kwargs: Any) -> Iterator[Any]:
                for item in attribute(*args, **kwargs):
                    self._tally.members += 1
                    yield item
            return each
        if not callable(attribute) or not (name in _MEMBER_READS or name == "execute_command"):
            return attribute

        def method(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            reads, flat = _read(name, args)
            if reads:
                self._tally.count(result, flat)
            return result
        return method

    def __repr__(self) -> str:
        return repr(self._client)


@exercise("03.2", "Pages of a leaderboard")
def check_page(page: Callable[..., list], space: Keyspace) -> str:
    """`page(client, key, number, size)` returns [(player, score), ...] of the 1-based page, best first.

    A pair is anything with two items (a tuple, a two-item list, a named tuple): the task asks for
    pairs, and what redis-py returns (tuples) and what a learner builds (lists) are both pairs. The
    client the function gets counts the members Redis sends back, so an answer that reads the whole
    board (or every page before its own) and slices in Python is told so, on a board of 1,000.
    """
    tally = _Tally()
    client = _CountingClient(space.client, tally)
    with _board(space, "pages", PAGED_SCORES) as key:
        ordered = [(_text(p), float(s)) for p, s in space.client.zrevrange(key, 0, -1, withscores=True)]
        ascending = ordered[::-1]
        for size in (10, 7):
            last = -(-len(ordered) // size)
            for number in range(1, last + 2):
                where = f"page {number} of size {size}"
                start = (number - 1) * size
                expected = ordered[start:start + size]
                value = _call(page, client, key, number, size, asked=where)
                if value is None and not expected:
                    raise NotYet(f"{where} is past the last page: you returned None; return an empty list [].")
                got = _rows(value, ("player", "score"), where, "(player, score) pair")
                if got == expected:
                    continue
                if got == ordered[start:start + size + 1]:
                    raise NotYet(f"{where} has {len(got)} entries, one too many: ZREVRANGE's stop index is "
                                 "inclusive, so a page is start .. start + size - 1.")
                if got == ordered[start + size:start + 2 * size] or got == ordered[start + size:start + 2 * size + 1]:
                    raise NotYet(f"for {where} you returned the page AFTER it: page numbers start at 1, so page n starts "
                                 "at index (n - 1) * size.")
                if got and got == ascending[start:start + len(got)]:
                    raise NotYet(f"{where} starts with {got[0]!r}, the lowest score: a leaderboard is highest "
                                 "first, so use ZREVRANGE (or ZRANGE ... REV, zrange(..., desc=True)).")
                if got == ordered[start:start + size - 1]:
                    raise NotYet(f"{where} has {len(got)} entries, one too few: ZREVRANGE's stop index is "
                                 "inclusive, so a page of size n ends at start + n - 1, not start + n - 2.")
                shown = got[:3] + (["..."] if len(got) > 3 else [])
                raise NotYet(f"{where} returned {shown} ({len(got)} entries), expected {len(expected)} entries "
                             f"starting {expected[:1]}.")
    big = {f"player{i:04d}": 100_000 - i for i in range(BIG_BOARD)}
    number, size = BIG_PAGE
    with _board(space, "pages-big", big) as key:
        where = f"page {number} of size {size} on a board of {BIG_BOARD:,} players"
        tally.members = 0
        got = _rows(_call(page, client, key, number, size, asked=where), ("player", "score"), where,
                    "(player, score) pair")
        start = (number - 1) * size
        expected = [(p, float(v)) for p, v in list(big.items())[start:start + size]]
        if got != expected:
            raise NotYet(f"{where} returned {got[:2]}... ({len(got)} entries), expected {len(expected)} entries "
                         f"starting {expected[:1]}.")
        if tally.members > 3 * size:
            read = f"all {BIG_BOARD:,}" if tally.members >= BIG_BOARD else f"{tally.members:,}"
            raise NotYet(f"for {where}, your page read {read} players from Redis to return {size}: ask Redis for "
                         "the page only, so a page costs the same however large the board grows.")
    return "pages of 10 and of 7, the partial last page and the empty page after it all match the board."


# -- 03.3 ---------------------------------------------------------------------------------------------

def _situation(index: int, radius: int, players: int) -> str:
    """Where a window sits on the board, in words: the case a hint is about."""
    place = f"rank {index + 1} of {players}"
    if index - radius < 0:
        return f"{place}, so the window reaches above rank 1"
    if index + radius >= players:
        return f"{place}, so the window reaches past the last player"
    if radius == 0:
        return f"{place}, a window of the player alone"
    return f"{place}, a window in the middle of the board"


@exercise("03.3", "The window around a player")
def check_around_me(around_me: Callable[..., list], space: Keyspace) -> str:
    """`around_me(client, key, player, radius)` returns [(rank, player, score), ...] around the player."""
    with _board(space, "around", PAGED_SCORES) as key:
        ordered = [(_text(p), float(s)) for p, s in space.client.zrevrange(key, 0, -1, withscores=True)]
        cases = (("player10", 2), ("player00", 2), ("player01", 3), ("player22", 2), ("player15", 0))
        for player, radius in cases:
            index = [p for p, _ in ordered].index(player)
            start = max(0, index - radius)
            expected = [(float(start + i + 1), p, s) for i, (p, s) in enumerate(ordered[start:index + radius + 1])]
            where = f"around {player!r} with radius {radius} ({_situation(index, radius, len(ordered))})"
            got = _rows(_call(around_me, space.client, key, player, radius, asked=where),
                        ("rank", "player", "score"), where, "(rank, player, score) triple")
            if got == expected:
                continue
            if [(p, s) for _, p, s in got] == [(p, s) for _, p, s in expected]:
                ranks = [int(r) for r, _, _ in got]
                wanted = [int(r) for r, _, _ in expected]
                if index - radius < 0 and ranks == [index - radius + k + 1 for k in range(len(got))]:
                    raise NotYet(f"{where}: the players are right but the ranks are {ranks}, expected {wanted}. "
                                 "Your ranks were right in the middle of the board and are wrong only here, where "
                                 "the window's start was clipped at 0: they count from index - radius "
                                 f"({index - radius}), not from the index your rows really start at.")
                if ranks == [w - 1 for w in wanted]:
                    raise NotYet(f"{where}: the ranks are one too small: ZREVRANK is 0-based, show ranks from 1.")
                if ranks == [w + 1 for w in wanted]:
                    raise NotYet(f"{where}: the ranks are one too large ({ranks}, expected {wanted}): the player at "
                                 "index i (ZREVRANK's answer) has rank i + 1, and you added one more.")
                if ranks == list(range(1, len(got) + 1)):
                    raise NotYet(f"{where}: you numbered the window from 1: a rank is the player's place on the "
                                 "whole board (ZREVRANK + 1), not in the window.")
                raise NotYet(f"{where}: the players are right but the ranks are {ranks}, expected "
                             f"{[int(r) for r, _, _ in expected]}.")
            if index - radius < 0 and len(got) < len(expected):
                raise NotYet(f"{where}: you returned {len(got)} entries, expected {len(expected)}: near the top "
                             "rank - radius goes below 0, and a negative ZREVRANGE index counts from the END "
                             "of the set. Clip the start at 0.")
            if len(got) == len(expected) - 1 and got == expected[:-1]:
                raise NotYet(f"{where}: the last neighbour below is missing: ZREVRANGE's stop index is inclusive, "
                             "so stop at index + radius.")
            raise NotYet(f"{where}: you returned {got[:3]}..., expected {expected[:3]}... "
                         f"({len(expected)} entries: the player and up to {radius} on each side).")
        got = _call(around_me, space.client, key, "nobody", 2, asked="the window around a player not on the board",
                    then=". ZREVRANK gives None for a member that is not there: return [] then.")
        if got is None or isinstance(got, (str, bytes, dict)) or not hasattr(got, "__len__") or len(got) != 0:
            raise NotYet(f"for a player not on the board you returned {got!r:.60}: return [] "
                         "(ZREVRANK gives None for a member that is not there).")
    return "windows in the middle, clipped at the top and at the bottom, and [] for an unknown player."
