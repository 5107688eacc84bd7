"""The naive leaderboards a sorted set is measured against: sort every score on every query.

Both answer the same questions as `Leaderboard` in the same order (highest score first, equal
scores by player name reversed), but keep the scores unordered and sort them per query: a Python
list with `sorted`, and an SQLite table (standard library, in memory, no index) with ORDER BY.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from labkit.leaderboards.board import Entry


class ListBoard:
    """Scores in a Python list, sorted on every query."""

    def __init__(self, scores: Mapping[str, float]) -> None:
        self.rows = [(float(s), p) for p, s in scores.items()]

    def top(self, n: int = 10) -> list[Entry]:
        """Sort everything, keep the first `n`."""
        ordered = sorted(self.rows, reverse=True)
        return [Entry(i + 1, p, s) for i, (s, p) in enumerate(ordered[:n])]

    def rank(self, player: str) -> int | None:
        """Sort everything, find the player's position."""
        for i, (_, p) in enumerate(sorted(self.rows, reverse=True)):
            if p == player:
                return i + 1
        return None


class SqliteBoard:
    """Scores in an SQLite table without an index: ORDER BY sorts (or scans) every row per query."""

    TOP_SQL = "SELECT player, score FROM scores ORDER BY score DESC, player DESC LIMIT ?"
    RANK_SQL = ("SELECT position FROM (SELECT player, ROW_NUMBER() OVER (ORDER BY score DESC, player DESC)"
                " AS position FROM scores) WHERE player = ?")

    def __init__(self, scores: Mapping[str, float]) -> None:
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.execute("CREATE TABLE scores (player TEXT PRIMARY KEY, score REAL NOT NULL)")
        self.db.executemany("INSERT INTO scores VALUES (?, ?)", ((p, float(s)) for p, s in scores.items()))

    def top(self, n: int = 10) -> list[Entry]:
        """ORDER BY score DESC LIMIT n: SQLite reads every row to find the best n."""
        return [Entry(i + 1, p, s) for i, (p, s) in enumerate(self.db.execute(self.TOP_SQL, (n,)))]

    def rank(self, player: str) -> int | None:
        """ROW_NUMBER() over the whole table sorted by score, then pick the player."""
        row = self.db.execute(self.RANK_SQL, (player,)).fetchone()
        return None if row is None else int(row[0])

    def close(self) -> None:
        """Free the in-memory database."""
        self.db.close()
