"""One workload, four eviction policies: who loses what when a node runs out of memory.

Each policy gets its own throwaway server holding leaderboards (sorted sets without a TTL, last
touched a second before the logins start, like last week's boards kept for the prizes) and
sessions (SET ... EX, a TTL). The server's `maxmemory` is set just above what they use, with room
for `room` more sessions; then `logins` new sessions are written. Counted afterwards: sessions that
were written and are gone, players whose board entry is gone, and writes the server refused (OOM).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import redis

from labkit.production.memory import LESSON_TTL, Payload, realistic_payload, session_key
from labkit.production.servers import LocalServer

EVICTION_POLICIES = ("volatile-lru", "allkeys-lru", "volatile-ttl", "noeviction")
SAMPLES = 20  # maxmemory-samples, keys looked at per eviction (default 5): every idle board gets looked at, none survives by luck


@dataclass(frozen=True)
class EvictionResult:
    """What one policy did to the same workload."""

    policy: str
    logins: int
    sessions_written: int
    sessions_lost: int
    players: int
    players_lost: int
    writes_refused: int
    evicted_keys: int


@dataclass(frozen=True)
class Workload:
    """The shared workload: `boards` boards of `players_each`, `sessions` logged in, then `logins` more, `room` fit."""

    boards: int = 10
    players_each: int = 1_000
    sessions: int = 2_000
    logins: int = 5_000
    room: int = 1_000
    seed: int = 7
    payload: Payload = field(default=realistic_payload, repr=False)

    @property
    def players(self) -> int:
        """Players on all boards together."""
        return self.boards * self.players_each


def _load_boards(client: Any, work: Workload) -> None:
    rng = random.Random(work.seed)
    pipe = client.pipeline(transaction=False)
    for board in range(work.boards):
        pipe.zadd(f"board:week-{board + 1:02d}", {f"player-{p:05d}": rng.randrange(100_000)
                                                  for p in range(work.players_each)})
    pipe.execute()


def _write(client: Any, sessions: list[tuple[str, str]]) -> tuple[list[str], int]:
    """SET ... EX each session (pipelined, errors kept): the keys written and how many were refused."""
    written, refused = [], 0
    for start in range(0, len(sessions), 200):
        batch = sessions[start:start + 200]
        pipe = client.pipeline(transaction=False)
        for key, value in batch:
            pipe.set(key, value, ex=LESSON_TTL)
        for (key, _), reply in zip(batch, pipe.execute(raise_on_error=False)):
            if isinstance(reply, redis.exceptions.OutOfMemoryError):
                refused += 1
            elif isinstance(reply, Exception):
                raise reply
            else:
                written.append(key)
    return written, refused


class EvictionRun:
    """One policy's server, prepared up to the logins; `finish()` drives it past maxmemory and counts."""

    def __init__(self, policy: str, work: Workload, sessions: list[tuple[str, str]]) -> None:
        self.policy, self.work, self.sessions = policy, work, sessions
        self.server = LocalServer(policy, maxmemory_policy=policy, maxmemory_samples=SAMPLES).start()
        self.client = self.server.client()
        _load_boards(self.client, work)

    def finish(self) -> EvictionResult:
        """Log the first sessions in, set maxmemory just above, write the rest; count what is gone."""
        sessions = self.sessions
        before = int(self.client.info("memory")["used_memory"])
        first, _ = _write(self.client, sessions[:self.work.sessions])
        used = int(self.client.info("memory")["used_memory"])
        per_session = (used - before) / len(first)
        self.client.config_set("maxmemory", int(used + self.work.room * per_session))
        rest, refused = _write(self.client, sessions[self.work.sessions:])
        written = first + rest
        # The workload is over: lift the limit before counting. At the limit any command may make the server
        # evict first (its own memory grows too: Redis 7 allocates a latency histogram the first time each
        # command runs), so counts read one after another would disagree.
        self.client.config_set("maxmemory", 0)
        info = self.client.info()  # keyspace and stats from one reply
        keyspace = info.get("db0", {})
        alive = int(keyspace.get("expires", 0)) if isinstance(keyspace, dict) else 0  # sessions: the keys with a TTL
        evicted = int(info["evicted_keys"])
        players = sum(int(self.client.zcard(f"board:week-{board + 1:02d}")) for board in range(self.work.boards))
        return EvictionResult(self.policy, self.work.logins, len(written), len(written) - alive,
                              self.work.players, self.work.players - players, refused, evicted)

    def stop(self) -> None:
        """Stop this policy's server."""
        self.server.stop()


def compare_policies(policies: tuple[str, ...] = EVICTION_POLICIES, work: Workload | None = None) -> list[EvictionResult]:
    """Run the workload under each policy (one server each) and return their counts, in the order given."""
    work = work or Workload()
    rng = random.Random(work.seed + 1)
    users = range(work.sessions + work.logins)
    sessions = [(session_key(rng), json.dumps(work.payload(user, rng))) for user in users]
    runs: list[EvictionRun] = []
    try:
        for policy in policies:
            runs.append(EvictionRun(policy, work, sessions))
        time.sleep(1.1)  # LRU idle time counts in whole seconds: let the boards be a second idle
        return [run.finish() for run in runs]
    finally:
        for run in runs:
            run.stop()


def about(count: int, step: int = 1_000) -> str:
    """A count rounded to `step` and said so ('about 3,900'); 0 stays an exact 0."""
    if count == 0:
        return "0"
    return f"about {max(step, round(count / step) * step):,}"


def eviction_table(results: list[EvictionResult]) -> str:
    """The counts side by side: players exact (boards go whole), the rest rounded to thousands (they vary by tens)."""
    lines = [f"{'policy':<14}{'sessions lost':>16}{'players lost':>16}{'writes refused':>17}"]
    for r in results:
        lines.append(f"{r.policy:<14}{about(r.sessions_lost):>16}{r.players_lost:>16,}"
                     f"{about(r.writes_refused):>17}")
    work = results[0]
    lines.append(f"(of {work.sessions_written + work.writes_refused:,} logins and {work.players:,} players)")
    return "\n".join(lines)


def plot_eviction(results: list[EvictionResult]) -> Any:
    """Two panels per policy: logins (sessions lost, writes refused) as shares of logins; players lost of players."""
    import matplotlib.pyplot as plt

    fig, (logins, players) = plt.subplots(1, 2, figsize=(9, 3.6), gridspec_kw={"width_ratios": [2, 1]})
    x = range(len(results))
    width = 0.38
    attempts = [r.sessions_written + r.writes_refused for r in results]
    logins.bar([i - width / 2 for i in x], [r.sessions_lost / n for r, n in zip(results, attempts)], width,
               label="sessions lost (users logged out)", color="tab:red")
    logins.bar([i + width / 2 for i in x], [r.writes_refused / n for r, n in zip(results, attempts)], width,
               label="logins refused (OOM error)", color="tab:orange")
    logins.set(ylabel=f"share of the {attempts[0]:,} logins", ylim=(0, 1), title="Logins")
    logins.legend(fontsize=8, loc="upper left")
    players.bar(list(x), [r.players_lost / r.players for r in results], 0.6, color="tab:purple")
    players.set(ylabel=f"share of the {results[0].players:,} players", ylim=(0, 1), title="Players on boards lost")
    for ax in (logins, players):
        ax.set_xticks(list(x), [r.policy for r in results], rotation=20, fontsize=8)
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    fig.suptitle("Past maxmemory: the same workload, four policies")
    fig.tight_layout()
    plt.close(fig)
    return fig
