"""A real-time leaderboard over one Redis sorted set, the highest or the lowest score first.

One board is one key: the sorted set maps each player to a score, Redis keeps it ordered, and
every read (top N, a player's rank, a page, the window around a player, a score range) costs
O(log N) plus the entries returned. Player profiles live beside the boards, one hash per player.

Ties are an explicit choice (`Ranking`): ordinal (1, 2, 3: Redis's own order, equal scores by
member name, byte by byte, so a highest-first board lists "zoe" before "amy" on equal points),
competition (1, 1, 3: 1 + how many players score strictly better, counted with ZCOUNT) and dense
(1, 1, 2: 1 + how many distinct better scores). Which score wins is the `Order`.

Redis 7.0 (CI's server) has no ZREVRANK WITHSCORE (7.2), so a rank with its score is read as
ZREVRANK + ZSCORE in one MULTI/EXEC, a consistent snapshot. ZADD GT/LT needs Redis 6.2 or newer.

How this differs from agoragames/leaderboard-python, the established Python library, on purpose:

- `around` clips at the top: the first player with radius 2 sees 3 entries. That library's
  `around_me` returns a full page shifted down at the top. labkit shows the player's real
  neighbours; a caller wanting a full page asks for `page(...)`.
- Profiles are one hash per player (`<prefix>profile:<player>`), shared by every board of the
  keyspace; that library keeps member data in one hash per board. A player's name is set once
  for all boards; `remove(..., with_profile=True)` deletes it.
- Dense ranks are computed from the board itself (reading the better scores, O(rank)); that
  library keeps a second sorted set of distinct scores, O(log N) per query, but every write
  updates two keys. labkit's answer needs no second key kept in step; it costs more deep in a
  big board, so dense ranks suit the top pages best.
- Every argument is validated before the first command (a `BadArgument`, a ValueError), and an
  increment whose result would not be finite is refused with the score left as it was.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction

from redis.exceptions import WatchError

from labkit.backend.keyspace import Keyspace
from labkit.errors import BadArgument
from labkit.leaderboards.loading import load_scores
from labkit.leaderboards.ranking import Order, OrderName, Ranking, RankingName
from labkit.leaderboards.validate import (
    MAX_PLAYER_BYTES,
    check_count,
    check_percent,
    check_player,
    check_score,
    check_ttl,
)

__all__ = ["MAX_PLAYER_BYTES", "Entry", "Leaderboard", "check_player", "check_score", "competition_ranks"]

DENSE_CHUNK = 10_000  # scores read per command when counting distinct better scores


@dataclass(frozen=True)
class Entry:
    """One line of a leaderboard: 1-based rank, player, score."""

    rank: int
    player: str
    score: float

    def __str__(self) -> str:
        return f"{self.rank:>3}. {self.player:<12} {self.score:g}"


class Leaderboard:
    """One board: a sorted set under `space`, named `name`; `order` says which score wins.

    `capacity` bounds the board: after every write only the best `capacity` players stay
    (ZREMRANGEBYRANK in the same MULTI/EXEC).
    """

    def __init__(self, space: Keyspace, name: str, *, order: Order | OrderName = Order.HIGHEST_FIRST,
                 capacity: int | None = None) -> None:
        self.space = space
        self.name = name
        self.key = space.key(name)
        self.client = space.client
        self.order = Order.of(order)
        self.capacity = None if capacity is None else check_count(capacity, "capacity")

    def __repr__(self) -> str:
        extra = "" if self.order.descending else ", order='lowest_first'"
        extra += "" if self.capacity is None else f", capacity={self.capacity}"
        return f"Leaderboard({self.key!r}{extra})"

    # -- writing -------------------------------------------------------------------------------
    def submit(self, player: str, score: float) -> float:
        """Record a result, keeping the player's best (ZADD GT, or LT when lowest wins; notebook 03 §1, §3); return the best."""
        player, value = check_player(player), check_score(score)
        pipe = self.client.pipeline(transaction=True)
        pipe.zadd(self.key, {player: value}, gt=self.order.descending, lt=not self.order.descending)
        pipe.zscore(self.key, player)
        self._trim_in(pipe)
        return float(pipe.execute()[1])

    def add_points(self, player: str, points: float) -> float:
        """Add `points` to the player's total (ZINCRBY under WATCH, refused if not finite; §1); return the new total."""
        return self.add_many([(player, points)])[player]

    def add_many(self, results: Mapping[str, float] | Iterable[tuple[str, float]]) -> dict[str, float]:
        """Add many results in one MULTI/EXEC of ZINCRBYs (notebook 03 §2); return each player's new total.

        WATCH + ZMSCORE first: if any total would stop being finite (1e308 + 1e308 is inf), the
        whole batch is refused with a BadArgument and nothing changes. A concurrent write between
        the read and EXEC makes EXEC fail; the batch is then read and tried again.
        """
        items = [(check_player(p), check_score(v, f"points of {p!r}"))
                 for p, v in (results.items() if isinstance(results, Mapping) else results)]
        if not items:
            return {}
        players = list(dict.fromkeys(p for p, _ in items))
        with self.client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(self.key)
                    totals = {p: (0.0 if s is None else float(s))
                              for p, s in zip(players, pipe.zmscore(self.key, players))}
                    for player, points in items:
                        total = totals[player] + points
                        if not math.isfinite(total):
                            raise BadArgument(
                                f"adding {points:g} to {player!r} (now {totals[player]:g}) gives {total}: "
                                "a score must stay finite, so nothing was added")
                        totals[player] = total
                    pipe.multi()
                    for player, points in items:
                        pipe.zincrby(self.key, points, player)
                    self._trim_in(pipe)
                    replies = pipe.execute()
                    return {player: float(total) for (player, _), total in zip(items, replies)}
                except WatchError:
                    continue

    def load(self, scores: Mapping[str, float] | Iterable[tuple[str, float]], *, batch: int = 10_000,
             progress: Callable[[int], None] | None = None) -> int:
        """Set many scores at once: ZADD of `batch` members per call, pipelined (notebook 03 §8); return how many.

        Every name and score is checked before anything is sent, so bad input changes nothing.
        A writer thread sends one batch while the next is encoded (see `loading`).
        `progress(done)` is called after each batch reaches the server.
        """
        batch = check_count(batch, "batch")
        items = list(scores.items() if isinstance(scores, Mapping) else scores)
        done = load_scores(self.client, self.key, items, batch, progress)
        if self.capacity is not None:
            self.keep_best(self.capacity)
        return done

    def remove(self, player: str, *, with_profile: bool = False) -> bool:
        """Take a player off the board (ZREM), and DEL their profile hash too if asked (§1); True if they were on it."""
        player = check_player(player)
        if not with_profile:
            return bool(self.client.zrem(self.key, player))
        pipe = self.client.pipeline(transaction=False)  # two slots on a cluster: each command atomic on its own
        pipe.zrem(self.key, player)
        pipe.delete(self.profile_key(player))
        return bool(pipe.execute()[0])

    def keep_best(self, n: int) -> int:
        """Trim the board to its best `n` players (ZREMRANGEBYRANK, notebook 03 §6); return how many were removed."""
        n = check_count(n, "n", minimum=0)
        start, stop = self._trim_range(n)
        return int(self.client.zremrangebyrank(self.key, start, stop))

    def expire(self, ttl: timedelta | float) -> bool:
        """Delete the whole board after `ttl` (EXPIRE, whole seconds; §6); False if the board does not exist."""
        return bool(self.client.expire(self.key, check_ttl(ttl)))

    def ttl(self) -> float | None:
        """Seconds until the board expires (TTL, §6); None if it never does or does not exist."""
        left = int(self.client.ttl(self.key))
        return None if left < 0 else float(left)

    def clear(self) -> None:
        """Delete the whole board (its one key; UNLINK frees a big one in the background)."""
        self.client.unlink(self.key)

    # -- reading -------------------------------------------------------------------------------
    def count(self) -> int:
        """How many players are on the board (ZCARD)."""
        return int(self.client.zcard(self.key))

    def score(self, player: str) -> float | None:
        """The player's score (ZSCORE), or None if they are not ranked."""
        value = self.client.zscore(self.key, check_player(player))
        return None if value is None else float(value)

    def rank(self, player: str, ranking: Ranking | RankingName = Ranking.ORDINAL) -> int | None:
        """The player's 1-based rank, or None if they are not ranked."""
        found = self.entry(player, ranking)
        return None if found is None else found.rank

    def entry(self, player: str, ranking: Ranking | RankingName = Ranking.ORDINAL) -> Entry | None:
        """Rank and score of one player (ZREVRANK or ZRANK + ZSCORE in one MULTI/EXEC; §1, §3), or None."""
        ranking, player = Ranking.of(ranking), check_player(player)
        pipe = self.client.pipeline(transaction=True)
        (pipe.zrevrank if self.order.descending else pipe.zrank)(self.key, player)
        pipe.zscore(self.key, player)
        index, score = pipe.execute()
        if index is None or score is None:
            return None
        return self._ranked([(player, float(score))], int(index), ranking)[0]

    def top(self, n: int = 10, ranking: Ranking | RankingName = Ranking.ORDINAL) -> list[Entry]:
        """The best `n` players with their scores (ZRANGE 0 n-1 [REV] WITHSCORES; notebook 03 §1)."""
        n = check_count(n, "n")
        return self._range(0, n - 1, Ranking.of(ranking))

    def page(self, number: int, size: int = 10, ranking: Ranking | RankingName = Ranking.ORDINAL) -> list[Entry]:
        """Page `number` (1-based) of `size` entries (ZRANGE start start+size-1 [REV]; §4); past the last page, []."""
        number, size = check_count(number, "page number"), check_count(size, "page size")
        start = (number - 1) * size
        return self._range(start, start + size - 1, Ranking.of(ranking))

    def pages(self, size: int = 10) -> int:
        """How many pages of `size` entries the board fills."""
        size = check_count(size, "page size")
        return -(-self.count() // size)

    def around(self, player: str, radius: int = 2, ranking: Ranking | RankingName = Ranking.ORDINAL) -> list[Entry]:
        """The player with up to `radius` neighbours above and below (ZREVRANK, then ZRANGE; §4), clipped at rank 1.

        [] if the player is not ranked. agoragames/leaderboard-python's `around_me` shifts the window
        down at the top to fill a whole page; labkit shows the real neighbours (see the module docstring).
        """
        radius, ranking, player = check_count(radius, "radius", minimum=0), Ranking.of(ranking), check_player(player)
        index = (self.client.zrevrank if self.order.descending else self.client.zrank)(self.key, player)
        if index is None:
            return []
        return self._range(max(0, int(index) - radius), int(index) + radius, ranking)

    def count_between(self, low: float, high: float) -> int:
        """How many players score from `low` to `high`, both included (ZCOUNT; notebook 03 §5)."""
        low, high = check_score(low, "low"), check_score(high, "high")
        return int(self.client.zcount(self.key, low, high))

    def between(self, low: float, high: float, ranking: Ranking | RankingName = Ranking.ORDINAL) -> list[Entry]:
        """Players scoring from `low` to `high` (both included), best first, ranked on the whole board (§5).

        ZRANGE ... BYSCORE [REV] WITHSCORES, with the ZCOUNT of better scores in the same MULTI/EXEC
        (the first one's position).
        """
        low, high, ranking = check_score(low, "low"), check_score(high, "high"), Ranking.of(ranking)
        best_end = high if self.order.descending else low
        pipe = self.client.pipeline(transaction=True)
        pipe.zcount(self.key, *self.order.better_than(best_end))
        if self.order.descending:
            pipe.zrange(self.key, high, low, byscore=True, desc=True, withscores=True)
        else:
            pipe.zrange(self.key, low, high, byscore=True, withscores=True)
        before, rows = pipe.execute()
        return self._ranked([(str(p), float(s)) for p, s in rows], int(before), ranking)

    def percentile(self, player: str) -> float | None:
        """The share of the board, in percent, scoring strictly worse than `player` (ZSCORE, ZCARD, ZCOUNT; §5); or None.

        Tied players share a percentile. That library's `percentile_for` counts positions instead
        (players listed below), rounded up to a whole number, so tied players differ there.
        """
        pipe = self.client.pipeline(transaction=True)
        pipe.zscore(self.key, check_player(player))
        pipe.zcard(self.key)
        score, total = pipe.execute()
        if score is None or not total:
            return None
        worse = int(self.client.zcount(self.key, *self.order.worse_than(float(score))))
        return 100.0 * worse / int(total)

    def top_percent(self, percent: float, ranking: Ranking | RankingName = Ranking.ORDINAL) -> list[Entry]:
        """The best `percent` % of the board: the first ceil(players x percent / 100) positions (ZCARD, ZRANGE; §5)."""
        percent, ranking = check_percent(percent), Ranking.of(ranking)
        n = math.ceil(Fraction(percent) * self.count() / 100)
        return [] if n == 0 else self._range(0, n - 1, ranking)

    # -- profiles ------------------------------------------------------------------------------
    def set_profile(self, player: str, **fields: str | int | float) -> None:
        """Store profile fields (display name, country ...) in the player's hash (HSET)."""
        if not fields:
            raise BadArgument("set_profile needs at least one field, e.g. display_name='Ada'")
        self.client.hset(self.profile_key(player), mapping={k: str(v) for k, v in fields.items()})

    def profile(self, player: str) -> dict[str, str]:
        """The player's profile fields (HGETALL), sorted by name ({} if none)."""
        return dict(sorted(self.client.hgetall(self.profile_key(player)).items()))

    def profile_key(self, player: str) -> str:
        """The hash holding a player's profile: shared by every board in the same keyspace."""
        return self.space.key("profile", check_player(player))

    def top_with_profiles(self, n: int = 10, ranking: Ranking | RankingName = Ranking.ORDINAL
                          ) -> list[tuple[Entry, dict[str, str]]]:
        """The top `n` with each player's profile, the hashes read in one pipeline."""
        entries = self.top(n, ranking)
        pipe = self.client.pipeline(transaction=False)
        for entry in entries:
            pipe.hgetall(self.profile_key(entry.player))
        return [(e, dict(sorted(p.items()))) for e, p in zip(entries, pipe.execute())]

    # -- internals -----------------------------------------------------------------------------
    def _range(self, start: int, stop: int, ranking: Ranking) -> list[Entry]:
        rows = self.client.zrange(self.key, start, stop, desc=self.order.descending, withscores=True)
        return self._ranked([(str(p), float(s)) for p, s in rows], start, ranking)

    def _ranked(self, rows: list[tuple[str, float]], first_index: int, ranking: Ranking) -> list[Entry]:
        """Entries for consecutive `rows` whose first sits at 0-based position `first_index`."""
        entries = [Entry(first_index + i + 1, p, s) for i, (p, s) in enumerate(rows)]
        if not entries or not ranking.ties_share_rank:
            return entries
        if ranking.counts_players:
            first = 1 + int(self.client.zcount(self.key, *self.order.better_than(entries[0].score)))
            return competition_ranks(entries, first)
        return dense_ranks(entries, 1 + self._distinct_better(entries[0].score))

    def _distinct_better(self, score: float) -> int:
        """How many distinct scores are strictly better than `score`, read in chunks of DENSE_CHUNK."""
        low, high = self.order.better_than(score)
        if self.order.descending:
            low, high = high, low  # ZRANGE BYSCORE REV takes max first; read from the best down
        distinct, previous, offset = 0, None, 0
        while True:
            rows = self.client.zrange(self.key, low, high, byscore=True, desc=self.order.descending,
                                      withscores=True, offset=offset, num=DENSE_CHUNK)
            for _, value in rows:
                if value != previous:
                    distinct, previous = distinct + 1, value
            if len(rows) < DENSE_CHUNK:
                return distinct
            offset += DENSE_CHUNK

    def _trim_range(self, keep: int) -> tuple[int, int]:
        """ZREMRANGEBYRANK bounds (in ascending order) removing all but the best `keep`."""
        return (0, -keep - 1) if self.order.descending else (keep, -1)

    def _trim_in(self, pipe: object) -> None:
        if self.capacity is not None:
            pipe.zremrangebyrank(self.key, *self._trim_range(self.capacity))  # type: ignore[attr-defined]


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


def dense_ranks(entries: list[Entry], first_rank: int) -> list[Entry]:
    """Re-rank consecutive entries so equal scores share a rank and the next score is one more (1, 1, 2)."""
    ranked: list[Entry] = []
    for entry in entries:
        if not ranked:
            rank = first_rank
        else:
            rank = ranked[-1].rank + (entry.score != ranked[-1].score)
        ranked.append(Entry(rank, entry.player, entry.score))
    return ranked
