"""A real-time leaderboard over one Redis sorted set, highest score first.

One board is one key: the sorted set maps each player to a score, Redis keeps it ordered, and
every read (top N, a player's rank, a page, the window around a player) costs O(log N) plus the
entries returned. Player profiles live beside the board in one hash per player.

Ties are an explicit choice, because a leaderboard must show them somehow:

- Redis's own order: equal scores are ordered by member name, byte by byte. ZRANGE gives them
  A to Z, so ZREVRANGE (highest first, what `top` uses) gives equal scores Z to A: of two players
  on 90 points, "zoe" is listed (and ranked) before "amy".
- Earlier achiever first: encode the time in the score (`labkit.leaderboard_ties`).
- Competition ranking (1, 1, 3): equal scores share a rank, counted with ZCOUNT
  (`ranking="competition"`); the listing order among them stays Redis's.

Redis 7.0 (CI's server) has no ZREVRANK WITHSCORE (7.2), so a rank with its score is read as
ZREVRANK + ZSCORE in one MULTI/EXEC, a consistent snapshot. ZADD GT needs Redis 6.2 or newer.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from labkit.backend.keyspace import Keyspace
from labkit.errors import BadArgument

MAX_PLAYER_BYTES = 64
Ranking = Literal["ordinal", "competition"]


@dataclass(frozen=True)
class Entry:
    """One line of a leaderboard: 1-based rank, player, score."""

    rank: int
    player: str
    score: float

    def __str__(self) -> str:
        return f"{self.rank:>3}. {self.player:<12} {self.score:g}"


def check_player(player: object) -> str:
    """Return `player` if it is a usable member name, else raise a ValueError saying why."""
    if not isinstance(player, str):
        raise BadArgument(f"player name must be a str, got {type(player).__name__} {player!r}")
    if not player.strip():
        raise BadArgument(f"player name is empty ({player!r}): give each player a visible name")
    size = len(player.encode("utf-8"))
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
    value = float(score)
    if math.isnan(value):
        raise BadArgument(f"{what} is NaN (not a number): a NaN has no place in an order")
    if math.isinf(value):
        raise BadArgument(f"{what} is infinite ({value}): only finite scores can be ranked")
    return value


class Leaderboard:
    """One board: a sorted set under `space`, named `name`, highest score first."""

    def __init__(self, space: Keyspace, name: str) -> None:
        self.space = space
        self.name = name
        self.key = space.key(name)
        self.client = space.client

    def __repr__(self) -> str:
        return f"Leaderboard({self.key!r})"

    # -- writing -------------------------------------------------------------------------------
    def submit(self, player: str, score: float) -> float:
        """Record a result, keeping the player's best (ZADD GT); return the best now on the board."""
        player, value = check_player(player), check_score(score)
        pipe = self.client.pipeline(transaction=True)
        pipe.zadd(self.key, {player: value}, gt=True)
        pipe.zscore(self.key, player)
        return float(pipe.execute()[1])

    def add_points(self, player: str, points: float) -> float:
        """Add `points` to the player's total (ZINCRBY, atomic); return the new total."""
        return float(self.client.zincrby(self.key, check_score(points, "points"), check_player(player)))

    def load(self, scores: Mapping[str, float] | Iterable[tuple[str, float]], *, batch: int = 10_000,
             progress: Callable[[int], None] | None = None) -> int:
        """Set many scores at once: ZADD of `batch` members per call, pipelined; return how many.

        Every name and score is checked before anything is sent, so bad input changes nothing.
        `progress(done)` is called after each batch.
        """
        if batch < 1:
            raise BadArgument(f"batch must be at least 1, got {batch}")
        items = list(scores.items() if isinstance(scores, Mapping) else scores)
        plain = _plainly_valid(items)
        if not plain:
            for player, score in items:
                check_player(player)
                check_score(score, f"score of {player!r}")
        pipe = self.client.pipeline(transaction=False)
        for start in range(0, len(items), batch):
            chunk = items[start:start + batch]
            if plain:  # ZADD key score member ..., pre-encoded: redis-py packs bytes as they are, faster
                pipe.execute_command("ZADD", self.key, *_zadd_arguments(chunk))
            else:
                pipe.zadd(self.key, dict(chunk))
            if progress is not None:
                pipe.execute()
                progress(min(start + batch, len(items)))
        pipe.execute()
        return len(items)

    def remove(self, player: str) -> bool:
        """Take a player off the board; True if they were on it."""
        return bool(self.client.zrem(self.key, check_player(player)))

    def clear(self) -> None:
        """Delete the whole board (its one key; UNLINK frees a big one in the background)."""
        self.client.unlink(self.key)

    # -- reading -------------------------------------------------------------------------------
    def count(self) -> int:
        """How many players are on the board (ZCARD)."""
        return int(self.client.zcard(self.key))

    def score(self, player: str) -> float | None:
        """The player's score, or None if they are not ranked."""
        value = self.client.zscore(self.key, check_player(player))
        return None if value is None else float(value)

    def rank(self, player: str, ranking: Ranking = "ordinal") -> int | None:
        """The player's 1-based rank, or None if they are not ranked."""
        found = self.entry(player, ranking)
        return None if found is None else found.rank

    def entry(self, player: str, ranking: Ranking = "ordinal") -> Entry | None:
        """Rank and score of one player read together (one MULTI/EXEC), or None if not ranked."""
        _check_ranking(ranking)
        pipe = self.client.pipeline(transaction=True)
        pipe.zrevrank(self.key, check_player(player))
        pipe.zscore(self.key, player)
        index, score = pipe.execute()
        if index is None or score is None:
            return None
        if ranking == "competition":  # 1 + how many players score strictly more
            return Entry(self._higher_than(float(score)) + 1, player, float(score))
        return Entry(index + 1, player, float(score))

    def top(self, n: int = 10, ranking: Ranking = "ordinal") -> list[Entry]:
        """The best `n` players with their scores (ZREVRANGE 0 n-1 WITHSCORES)."""
        if n < 1:
            raise BadArgument(f"n must be at least 1, got {n}")
        return self._range(0, n - 1, ranking)

    def page(self, number: int, size: int = 10, ranking: Ranking = "ordinal") -> list[Entry]:
        """Page `number` (1-based) of `size` entries; past the last page it is empty."""
        if number < 1 or size < 1:
            raise BadArgument(f"pages are numbered from 1 and hold at least 1 entry, got page {number} of size {size}")
        start = (number - 1) * size
        return self._range(start, start + size - 1, ranking)

    def pages(self, size: int = 10) -> int:
        """How many pages of `size` entries the board fills."""
        if size < 1:
            raise BadArgument(f"size must be at least 1, got {size}")
        return -(-self.count() // size)

    def around(self, player: str, radius: int = 2, ranking: Ranking = "ordinal") -> list[Entry]:
        """The player with up to `radius` neighbours above and below; [] if not ranked."""
        if radius < 0:
            raise BadArgument(f"radius must be 0 or more, got {radius}")
        index = self.client.zrevrank(self.key, check_player(player))
        if index is None:
            return []
        return self._range(max(0, index - radius), index + radius, ranking)

    # -- profiles ------------------------------------------------------------------------------
    def set_profile(self, player: str, **fields: str | int | float) -> None:
        """Store profile fields (display name, country ...) in the player's hash."""
        if not fields:
            raise BadArgument("set_profile needs at least one field, e.g. display_name='Ada'")
        self.client.hset(self.profile_key(player), mapping={k: str(v) for k, v in fields.items()})

    def profile(self, player: str) -> dict[str, str]:
        """The player's profile fields, sorted by name ({} if none)."""
        return dict(sorted(self.client.hgetall(self.profile_key(player)).items()))

    def profile_key(self, player: str) -> str:
        """The hash holding a player's profile: shared by every board in the same keyspace."""
        return self.space.key("profile", check_player(player))

    def top_with_profiles(self, n: int = 10, ranking: Ranking = "ordinal") -> list[tuple[Entry, dict[str, str]]]:
        """The top `n` with each player's profile, the hashes read in one pipeline."""
        entries = self.top(n, ranking)
        pipe = self.client.pipeline(transaction=False)
        for entry in entries:
            pipe.hgetall(self.profile_key(entry.player))
        return [(e, dict(sorted(p.items()))) for e, p in zip(entries, pipe.execute())]

    # -- internals -----------------------------------------------------------------------------
    def _range(self, start: int, stop: int, ranking: Ranking) -> list[Entry]:
        _check_ranking(ranking)
        rows = self.client.zrevrange(self.key, start, stop, withscores=True)
        entries = [Entry(start + i + 1, player, float(score)) for i, (player, score) in enumerate(rows)]
        if ranking == "competition" and entries:
            entries = competition_ranks(entries, self._higher_than(entries[0].score) + 1)
        return entries

    def _higher_than(self, score: float) -> int:
        return int(self.client.zcount(self.key, f"({score!r}", "+inf"))


def competition_ranks(entries: list[Entry], first_rank: int) -> list[Entry]:
    """Re-rank consecutive entries so equal scores share a rank (1, 1, 3), the first at `first_rank`."""
    ranked: list[Entry] = []
    for entry in entries:
        if ranked and entry.score == ranked[-1].score:
            rank = ranked[-1].rank
        else:
            rank = first_rank if not ranked else entry.rank
        ranked.append(Entry(rank, entry.player, entry.score))
    return ranked


def _plainly_valid(items: list[tuple[str, float]]) -> bool:
    """Fast whole-batch test (C-level passes, no per-item Python): True only if every item is valid.

    False means "look closer": the per-item checks then name the first problem.
    """
    if not items:
        return True
    players, scores = [p for p, _ in items], [s for _, s in items]
    if not (set(map(type, players)) <= {str} and set(map(type, scores)) <= {int, float}):
        return False
    if not (all(map(str.isascii, players)) and all(map(str.strip, players))
            and max(map(len, players)) <= MAX_PLAYER_BYTES):
        return False
    try:
        return math.isfinite(math.fsum(scores))  # a NaN or an infinity makes the sum non-finite
    except (OverflowError, ValueError):  # huge finite values, or inf + -inf
        return False


def _zadd_arguments(chunk: list[tuple[str, float]]) -> list[bytes]:
    """score1, member1, score2, member2 ... as bytes, built in C-level passes."""
    flat = [b""] * (2 * len(chunk))
    flat[0::2] = map(str.encode, map(repr, (score for _, score in chunk)))
    flat[1::2] = map(str.encode, (player for player, _ in chunk))
    return flat


def _check_ranking(ranking: str) -> None:
    if ranking not in get_args(Ranking):
        raise BadArgument(f"ranking must be 'ordinal' or 'competition', got {ranking!r}")
