"""Earlier achiever first: break ties by packing the time into the score itself.

A sorted-set score is a 64-bit double, which holds every integer exactly only up to 2**53. Put the
points in the high bits and the time *remaining* until a far horizon in the low bits:

    score = points * 2**time_bits + (2**time_bits - 1 - achieved_at)

More points always win; on equal points, the earlier time leaves more remaining, so it ranks
higher. With `time_bits=32` (Unix seconds until the year 2106) 53 - 32 = 21 bits are left for the
points: at most 2,097,151. Past that the double rounds and ties break wrongly, silently, so
`encode` refuses instead. Use this with keep-the-best boards (`Leaderboard.submit`, ZADD GT):
ZINCRBY would add the time parts together.
"""

from __future__ import annotations

from dataclasses import dataclass

from labkit.errors import BadArgument

DOUBLE_INTEGER_BITS = 53  # a double's 52-bit mantissa plus the implicit leading 1


@dataclass(frozen=True)
class EarliestFirst:
    """Encode (points, time) into one exact score so that equal points rank the earlier time first."""

    time_bits: int = 32

    def __post_init__(self) -> None:
        if not 1 <= self.time_bits < DOUBLE_INTEGER_BITS:
            raise BadArgument(f"time_bits must be between 1 and {DOUBLE_INTEGER_BITS - 1}, got {self.time_bits}")

    @property
    def max_points(self) -> int:
        """The largest number of points that still encodes exactly in a double."""
        return 2 ** (DOUBLE_INTEGER_BITS - self.time_bits) - 1

    @property
    def max_time(self) -> int:
        """The latest time (e.g. Unix seconds) the low bits can hold."""
        return 2 ** self.time_bits - 1

    def encode(self, points: int, achieved_at: int) -> float:
        """The score to store for `points` reached at integer time `achieved_at`."""
        if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= self.max_points:
            raise BadArgument(
                f"points must be a whole number from 0 to {self.max_points:,}, got {points!r}: a double "
                f"holds integers exactly only up to 2**{DOUBLE_INTEGER_BITS}, and {self.time_bits} bits "
                "already go to the time"
            )
        if isinstance(achieved_at, bool) or not isinstance(achieved_at, int) or not 0 <= achieved_at <= self.max_time:
            raise BadArgument(f"achieved_at must be a whole number from 0 to {self.max_time:,}, got {achieved_at!r}")
        return float(points * 2**self.time_bits + (self.max_time - achieved_at))

    def decode(self, score: float) -> tuple[int, int]:
        """(points, achieved_at) back from a stored score."""
        whole = int(score)
        return whole >> self.time_bits, self.max_time - (whole & self.max_time)
