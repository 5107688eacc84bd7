"""The three policies a board is read with, each defined once: which score wins, how ties rank, how boards merge.

Each is an Enum whose values are the strings a caller may pass (`order="lowest_first"`,
`ranking="dense"`, `aggregate="max"`); code reads their properties, never compares strings.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from labkit.errors import BadArgument

OrderName = Literal["highest_first", "lowest_first"]
RankingName = Literal["ordinal", "competition", "dense"]
AggregateName = Literal["sum", "max", "min"]


class Order(str, Enum):
    """Which score wins: the highest (points) or the lowest (a time trial, golf strokes)."""

    HIGHEST_FIRST = "highest_first"
    LOWEST_FIRST = "lowest_first"

    @classmethod
    def of(cls, value: Order | str) -> Order:
        """`value` as an Order, or a BadArgument naming the choices."""
        return _member(cls, value, "order")

    @property
    def descending(self) -> bool:
        """True when the best score is the highest: read with ZRANGE ... REV (ZREVRANGE, ZREVRANK)."""
        return self is Order.HIGHEST_FIRST

    @property
    def keep_best_flag(self) -> str:
        """The ZADD flag that keeps a player's best result: GT when highest wins, LT when lowest wins."""
        return "GT" if self.descending else "LT"

    def better(self, a: float, b: float) -> bool:
        """True if score `a` ranks strictly above score `b`."""
        return a > b if self.descending else a < b

    def better_than(self, score: float) -> tuple[str, str]:
        """ZCOUNT bounds (min, max) of the scores strictly better than `score`."""
        return (f"({score!r}", "+inf") if self.descending else ("-inf", f"({score!r}")

    def worse_than(self, score: float) -> tuple[str, str]:
        """ZCOUNT bounds (min, max) of the scores strictly worse than `score`."""
        return ("-inf", f"({score!r}") if self.descending else (f"({score!r}", "+inf")


class Ranking(str, Enum):
    """How equal scores are ranked: ordinal (1, 2, 3), competition (1, 1, 3) or dense (1, 1, 2)."""

    ORDINAL = "ordinal"
    COMPETITION = "competition"
    DENSE = "dense"

    @classmethod
    def of(cls, value: Ranking | str) -> Ranking:
        """`value` as a Ranking, or a BadArgument naming the choices."""
        return _member(cls, value, "ranking")

    @property
    def ties_share_rank(self) -> bool:
        """True when players on equal scores get the same rank."""
        return self is not Ranking.ORDINAL

    @property
    def counts_players(self) -> bool:
        """True when a rank is 1 + the players strictly better (ordinal, competition); False when it counts scores (dense)."""
        return self is not Ranking.DENSE


class Aggregate(str, Enum):
    """How ZUNIONSTORE / ZINTERSTORE combine one player's scores from several boards."""

    SUM = "sum"
    MAX = "max"
    MIN = "min"

    @classmethod
    def of(cls, value: Aggregate | str) -> Aggregate:
        """`value` as an Aggregate, or a BadArgument naming the choices."""
        return _member(cls, value, "aggregate")

    @property
    def command_word(self) -> str:
        """The word after AGGREGATE in the Redis command."""
        return self.value.upper()

    def combine(self, scores: list[float]) -> float:
        """What Redis stores for one player with these (already weighted) scores."""
        if self is Aggregate.SUM:
            return sum(scores)
        return max(scores) if self is Aggregate.MAX else min(scores)


def _member(cls: type, value: object, what: str):
    if isinstance(value, cls):
        return value
    try:
        return cls(value)
    except ValueError:
        choices = ", ".join(repr(m.value) for m in cls)  # type: ignore[attr-defined]
        raise BadArgument(f"{what} must be one of {choices}, got {value!r}") from None
