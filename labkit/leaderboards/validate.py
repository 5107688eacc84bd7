"""Every argument a board takes, checked before anything is sent: a clear BadArgument (a ValueError), never a raw error."""

from __future__ import annotations

import math
import numbers
from datetime import timedelta

from labkit.errors import BadArgument

MAX_PLAYER_BYTES = 64
MAX_COUNT = 2**31 - 1  # the largest n, size, page number or radius: products stay inside Redis's 64-bit indexes
MAX_TTL_SECONDS = 2**31  # far beyond any board's life, well inside what EXPIRE accepts


def check_player(player: object) -> str:
    """Return `player` if it is a usable member name, else raise a ValueError saying why."""
    if not isinstance(player, str):
        raise BadArgument(f"player name must be a str, got {type(player).__name__} {player!r}")
    if not player.strip():
        raise BadArgument(f"player name is empty ({player!r}): give each player a visible name")
    try:
        size = len(player.encode("utf-8"))
    except UnicodeEncodeError:
        raise BadArgument(f"player name {player!r} is not valid text (a lone surrogate)") from None
    if size > MAX_PLAYER_BYTES:
        raise BadArgument(
            f"player name is {size} bytes long, over the limit of {MAX_PLAYER_BYTES} "
            f"(starts {player[:20]!r}): use a short player id and keep long names in the profile"
        )
    return player


def check_score(score: object, what: str = "score") -> float:
    """Return `score` as a float if it is a finite number, else raise a ValueError saying why."""
    if isinstance(score, bool) or not isinstance(score, numbers.Real):
        raise BadArgument(f"{what} must be a number, got {type(score).__name__} {score!r}")
    try:
        value = float(score)
    except OverflowError:
        raise BadArgument(f"{what} is too large for a double ({str(score)[:12]}...): a sorted-set score "
                          "is a 64-bit float, at most about 1.8e308") from None
    if math.isnan(value):
        raise BadArgument(f"{what} is NaN (not a number): a NaN has no place in an order")
    if math.isinf(value):
        raise BadArgument(f"{what} is infinite ({value}): only finite scores can be ranked")
    return value


def check_count(value: object, what: str, minimum: int = 1) -> int:
    """Return `value` if it is a whole number from `minimum` to MAX_COUNT, else raise a ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise BadArgument(f"{what} must be a whole number (int), got {type(value).__name__} {value!r}")
    number = int(value)
    if not minimum <= number <= MAX_COUNT:
        shown = f"{number:,}" if abs(number) < 10**15 else f"{str(number)[:6]}... ({len(str(abs(number)))} digits)"
        raise BadArgument(f"{what} must be from {minimum} to {MAX_COUNT:,}, got {shown}")
    return number


def check_percent(value: object, what: str = "percent") -> float:
    """Return `value` as a float if it is a number above 0 and at most 100."""
    number = check_score(value, what)
    if not 0 < number <= 100:
        raise BadArgument(f"{what} must be above 0 and at most 100, got {number:g}")
    return number


def check_ttl(ttl: object) -> int:
    """Whole seconds from a timedelta or a number of seconds: at least 1, at most MAX_TTL_SECONDS."""
    seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else check_score(ttl, "ttl")
    if not math.isfinite(seconds) or not 1 <= seconds <= MAX_TTL_SECONDS or seconds != int(seconds):
        raise BadArgument(f"ttl must be a whole number of seconds from 1 to {MAX_TTL_SECONDS:,}, got {ttl!r}")
    return int(seconds)
