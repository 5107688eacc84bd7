"""Checks for notebook 03's exercises: ties (competition ranks), pages, the around-me window.

Each check builds its own small board under the notebook's keyspace, calls the learner's
function with `(client, key, ...)`, compares with the right answer and deletes the board.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from labkit.backend.keyspace import Keyspace
from labkit.exercises.checking import NotYet, exercise

# Ties on 90 and on 80 points; names chosen so Redis's own order (Z to A on a descending board)
# differs from alphabetical.
TIED_SCORES = {"amy": 90, "zoe": 90, "bob": 80, "cat": 80, "dan": 80, "eve": 70, "fox": 55}
COMPETITION = {"amy": 1, "zoe": 1, "bob": 3, "cat": 3, "dan": 3, "eve": 6, "fox": 7}
# 23 players for pages of 10: the last page is partial. Some ties, to test the order too.
PAGED_SCORES = {f"player{i:02d}": 1000 - 10 * (i // 2) for i in range(23)}


@contextmanager
def _board(space: Keyspace, name: str, scores: dict[str, int]) -> Iterator[str]:
    key = space.key("check", name)
    space.client.delete(key)
    space.client.zadd(key, scores)
    try:
        yield key
    finally:
        space.client.delete(key)


def _pairs(rows: Any) -> list[tuple[str, float]]:
    return [(str(player), float(score)) for player, score in rows]


@exercise("03.1", "Competition ranking: ties share a rank (1, 1, 3)")
def check_competition_rank(competition_rank: Callable[..., int | None], space: Keyspace) -> str:
    """`competition_rank(client, key, player)` returns 1 + the players scoring strictly more, or None."""
    with _board(space, "ties", TIED_SCORES) as key:
        for player, expected in COMPETITION.items():
            got = competition_rank(space.client, key, player)
            if got == expected:
                continue
            score = TIED_SCORES[player]
            if got == expected - 1:
                raise NotYet(f"for {player!r} ({score} points) you returned {got!r}, one too few: "
                             "ranks start at 1, so add 1 to the count of players scoring more.")
            raise NotYet(
                f"for {player!r} ({score} points) you returned {got!r}, expected {expected}: players on "
                f"equal points share a rank, 1 + how many score strictly more. ZCOUNT key ({score} +inf "
                "counts them (the '(' makes the bound exclusive)."
            )
        got = competition_rank(space.client, key, "nobody")
        if got is not None:
            raise NotYet(f"for a player not on the board you returned {got!r}: return None "
                         "(ZSCORE gives None for an unknown member).")
    return "amy and zoe share rank 1, bob, cat and dan share rank 3, eve is 6th; an unknown player is None."


@exercise("03.2", "Pages of a leaderboard")
def check_page(page: Callable[..., list], space: Keyspace) -> str:
    """`page(client, key, number, size)` returns [(player, score), ...] of the 1-based page, best first."""
    with _board(space, "pages", PAGED_SCORES) as key:
        ordered = space.client.zrevrange(key, 0, -1, withscores=True)
        for size in (10, 7):
            last = -(-len(ordered) // size)
            for number in range(1, last + 2):
                expected = _pairs(ordered[(number - 1) * size:number * size])
                got = _pairs(page(space.client, key, number, size))
                if got == expected:
                    continue
                where = f"page {number} of size {size}"
                if len(got) == len(expected) + 1:
                    raise NotYet(f"{where} has {len(got)} entries, one too many: ZREVRANGE's stop index is "
                                 "inclusive, so a page is start .. start + size - 1.")
                if expected and got[:1] == _pairs(ordered[number * size:number * size + 1]):
                    raise NotYet(f"{where} starts at {got[0][0]!r}, the first entry of the NEXT page: "
                                 "page numbers start at 1, so page n starts at index (n - 1) * size.")
                if got and expected and got[0][1] < expected[0][1]:
                    raise NotYet(f"{where} starts with {got[0]!r}, a low score: a leaderboard is highest "
                                 "first, so use ZREVRANGE (or ZRANGE ... REV), not ZRANGE.")
                shown = got[:3] + (["..."] if len(got) > 3 else [])
                raise NotYet(f"{where} returned {shown} ({len(got)} entries), expected "
                             f"{len(expected)} entries starting {expected[:1]}.")
    return "pages of 10 and of 7, the partial last page and the empty page after it all match ZREVRANGE."


@exercise("03.3", "The window around a player")
def check_around_me(around_me: Callable[..., list], space: Keyspace) -> str:
    """`around_me(client, key, player, radius)` returns [(rank, player, score), ...] around the player."""
    with _board(space, "around", PAGED_SCORES) as key:
        ordered = space.client.zrevrange(key, 0, -1, withscores=True)
        for player, radius in (("player10", 2), ("player00", 2), ("player01", 3), ("player22", 2), ("player15", 0)):
            index = space.client.zrevrank(key, player)
            start = max(0, index - radius)
            expected = [(start + i + 1, p, float(s)) for i, (p, s) in enumerate(ordered[start:index + radius + 1])]
            got = [(int(r), str(p), float(s)) for r, p, s in around_me(space.client, key, player, radius)]
            if got == expected:
                continue
            where = f"around {player!r} (rank {index + 1}) with radius {radius}"
            if index - radius < 0 and len(got) <= 1 + radius:
                raise NotYet(f"{where} you returned {len(got)} entries, expected {len(expected)}: near the top "
                             "rank - radius goes below 0, and a negative ZREVRANGE index counts from the END "
                             "of the set. Clip the start at 0.")
            if got and expected and [g[0] for g in got] == [e[0] - 1 for e in expected]:
                raise NotYet(f"{where} the ranks are one too small: ZREVRANK is 0-based, show ranks from 1.")
            raise NotYet(f"{where} you returned {got[:3]}..., expected {expected[:3]}... "
                         f"({len(expected)} entries: the player and up to {radius} on each side).")
        got = around_me(space.client, key, "nobody", 2)
        if got is None or list(got) != []:
            raise NotYet(f"for a player not on the board you returned {got!r}: return [] "
                         "(ZREVRANK gives None for an unknown member).")
    return "windows in the middle, clipped at the top and at the bottom, and [] for an unknown player."
