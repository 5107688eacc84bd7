"""Daily and weekly boards beside the all-time one, each under its own key with an expiry.

A board that resets every week is not a job that wipes scores at midnight on Sunday: it is a new
key per window (`...:{game}:weekly:2026-W48`), written alongside the all-time board, that expires
on its own some days after its last write. A rollup (the last 7 days, a custom range) is
ZUNIONSTORE over the daily keys. Every key of one game carries the hash tag `{game}`, so in
cluster mode they hash to the same slot and the multi-key commands (MULTI over several boards,
ZUNIONSTORE) never fail with CROSSSLOT.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from redis.exceptions import WatchError

from labkit.backend.keyspace import Keyspace
from labkit.errors import BadArgument
from labkit.leaderboards.board import Leaderboard
from labkit.leaderboards.combine import merge_boards
from labkit.leaderboards.validate import check_player, check_score, check_ttl

DAILY_TTL = timedelta(days=3)
WEEKLY_TTL = timedelta(days=15)
ROLLUP_TTL = timedelta(hours=1)


class WindowedBoards:
    """The all-time, daily and weekly boards of one game, all keys sharing the hash tag {game}."""

    def __init__(self, space: Keyspace, game: str, *, daily_ttl: timedelta = DAILY_TTL,
                 weekly_ttl: timedelta = WEEKLY_TTL) -> None:
        if not game or any(c in game for c in "{}:"):
            raise BadArgument(f"game name must be non-empty without '{{', '}}' or ':', got {game!r}")
        self.space = space
        self.game = game
        self.tag = "{" + game + "}"
        check_ttl(daily_ttl), check_ttl(weekly_ttl)
        self.daily_ttl = daily_ttl
        self.weekly_ttl = weekly_ttl

    def __repr__(self) -> str:
        return f"WindowedBoards({self.space.key(self.tag)!r})"

    def all_time(self) -> Leaderboard:
        """The board that never resets."""
        return Leaderboard(self.space, f"{self.tag}:all")

    def daily(self, day: date) -> Leaderboard:
        """The board of one calendar day, e.g. `...:{game}:daily:2026-11-28`."""
        return Leaderboard(self.space, f"{self.tag}:daily:{day.isoformat()}")

    def weekly(self, day: date) -> Leaderboard:
        """The board of the ISO week holding `day`, e.g. `...:{game}:weekly:2026-W48`."""
        year, week, _ = day.isocalendar()
        return Leaderboard(self.space, f"{self.tag}:weekly:{year}-W{week:02d}")

    def add_points(self, player: str, points: float, day: date) -> float:
        """Add points on the all-time, daily and weekly boards in one MULTI/EXEC; return the all-time total."""
        return self.add_many([(player, points)], day)[player]

    def add_many(self, results: Iterable[tuple[str, float]], day: date) -> dict[str, float]:
        """Add each (player, points) on the all-time, daily and weekly boards (notebook 03 §6); return the all-time totals.

        MULTI, then per result ZINCRBY on each board, then EXPIRE on the daily and weekly keys, then
        EXEC: all or nothing. Under WATCH of the three keys, a total that would stop being finite
        refuses the whole batch (a BadArgument) with nothing changed.
        """
        items = [(check_player(p), check_score(v, f"points of {p!r}")) for p, v in results]
        keys = [self.all_time().key, self.daily(day).key, self.weekly(day).key]
        players = list(dict.fromkeys(p for p, _ in items))
        if not items:
            return {}
        with self.space.client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(*keys)
                    read = self.space.client.pipeline(transaction=False)  # read after WATCH: one round trip
                    for key in keys:
                        read.zmscore(key, players)
                    for key, scores in zip(keys, read.execute()):
                        totals = {p: 0.0 if s is None else float(s) for p, s in zip(players, scores)}
                        for player, points in items:
                            totals[player] += points
                            if not math.isfinite(totals[player]):
                                raise BadArgument(f"adding {points:g} to {player!r} on {key!r} gives "
                                                  f"{totals[player]}: a score must stay finite, so nothing was added")
                    pipe.multi()
                    for player, points in items:
                        for key in keys:
                            pipe.zincrby(key, points, player)
                    pipe.expire(keys[1], self.daily_ttl)
                    pipe.expire(keys[2], self.weekly_ttl)
                    replies = pipe.execute()
                    return {player: float(replies[3 * i]) for i, (player, _) in enumerate(items)}
                except WatchError:
                    continue

    def rollup(self, days: Sequence[date], name: str, ttl: timedelta = ROLLUP_TTL) -> Leaderboard:
        """Sum the daily boards of `days` into a new board `{game}:rollup:<name>` (ZUNIONSTORE), kept for `ttl`."""
        if not days:
            raise BadArgument("a rollup needs at least one day")
        return merge_boards(self.space, f"{self.tag}:rollup:{name}", [self.daily(d) for d in days], ttl=ttl)

    def last_days(self, until: date, days: int = 7) -> list[date]:
        """The `days` calendar days ending on `until`, oldest first."""
        return [until - timedelta(days=i) for i in range(days - 1, -1, -1)]
