"""Daily and weekly boards beside the all-time one, each under its own key with an expiry.

A board that resets every week is not a job that wipes scores at midnight on Sunday: it is a new
key per window (`...:{game}:weekly:2026-W48`), written alongside the all-time board, that expires
on its own some days after its last write. A rollup (the last 7 days, a custom range) is
ZUNIONSTORE over the daily keys. Every key of one game carries the hash tag `{game}`, so in
cluster mode they hash to the same slot and the multi-key commands (MULTI over several boards,
ZUNIONSTORE) never fail with CROSSSLOT.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from labkit.backend.keyspace import Keyspace
from labkit.errors import BadArgument
from labkit.leaderboards.board import Leaderboard, check_player, check_score

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
        player, points = check_player(player), check_score(points, "points")
        daily, weekly = self.daily(day).key, self.weekly(day).key
        pipe = self.space.client.pipeline(transaction=True)
        pipe.zincrby(self.all_time().key, points, player)
        pipe.zincrby(daily, points, player)
        pipe.expire(daily, self.daily_ttl)
        pipe.zincrby(weekly, points, player)
        pipe.expire(weekly, self.weekly_ttl)
        return float(pipe.execute()[0])

    def rollup(self, days: Sequence[date], name: str, ttl: timedelta = ROLLUP_TTL) -> Leaderboard:
        """Sum the daily boards of `days` into a new board `{game}:rollup:<name>` (ZUNIONSTORE), kept for `ttl`."""
        if not days:
            raise BadArgument("a rollup needs at least one day")
        board = Leaderboard(self.space, f"{self.tag}:rollup:{name}")
        pipe = self.space.client.pipeline(transaction=True)
        pipe.zunionstore(board.key, [self.daily(d).key for d in days], aggregate="SUM")
        pipe.expire(board.key, ttl)
        pipe.execute()
        return board

    def last_days(self, until: date, days: int = 7) -> list[date]:
        """The `days` calendar days ending on `until`, oldest first."""
        return [until - timedelta(days=i) for i in range(days - 1, -1, -1)]
