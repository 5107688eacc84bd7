"""A primary and a replica on loopback, replication through a delay link; reads that miss a fresh login.

`ReplicaPair` packages what notebook 04 first types out: two servers, a `DelayLink` to the primary,
`REPLICAOF 127.0.0.1 <link port>` on the replica, and a wait until it has synced. `stale_reads`
logs users in on the primary and reads each session back, from the replica or the primary, and
counts the reads that came back empty: a user who looks logged out.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from typing import Any

from labkit.production.link import DelayLink
from labkit.production.memory import LESSON_TTL, lesson_payload, session_key
from labkit.production.servers import LocalServer, wait_until_synced

LAG = 0.020  # seconds each way between primary and replica in notebook 04: big and steady, to be seen


class ReplicaPair:
    """A primary, a replica following it through a `DelayLink` of `delay` seconds each way; `.p`, `.r` clients."""

    def __init__(self, delay: float = LAG) -> None:
        self.delay = delay
        self.primary = LocalServer("primary")
        self.replica = LocalServer("replica")
        self.link: DelayLink | None = None

    def __repr__(self) -> str:
        return f"ReplicaPair({self.delay * 1e3:g} ms each way, primary {'running' if self.primary.running else 'stopped'})"

    def start(self) -> ReplicaPair:
        """Start both servers and the link, REPLICAOF through it, and wait until the replica has synced."""
        try:
            self.primary.start()
            self.replica.start()
            self.link = DelayLink("127.0.0.1", self.primary.port, self.delay).start()
            self.p, self.r = self.primary.client(), self.replica.client()
            self.r.replicaof("127.0.0.1", self.link.port)
            wait_until_synced(self.p, self.r)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the link and both servers."""
        if self.link is not None:
            self.link.stop()
        self.primary.stop()
        self.replica.stop()

    def __enter__(self) -> ReplicaPair:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class StaleReads:
    """How many of `trials` logins looked logged out when read back as `how` says, `gap` seconds after the write."""

    how: str
    trials: int
    stale: int
    gap: float = 0.0

    @property
    def share(self) -> float:
        """Stale reads as a share of trials."""
        return self.stale / self.trials

    def __str__(self) -> str:
        return f"{self.how}: {rounded_share(self.share)} of {self.trials:,} logins looked logged out"


def rounded_share(share: float) -> str:
    """A share to the nearest 10% ('90%'), so a read or two that timing flips does not change it; 0 stays '0%'."""
    return "0%" if share == 0 else f"{max(10, round(share * 10) * 10)}%"


def stale_reads(write: Any, read: Any, trials: int = 200, gap: float = 0.0, wait: bool = False,
                how: str = "", seed: int = 0) -> StaleReads:
    """Log in `trials` users on `write` (SET ... EX, optionally + WAIT 1), pause `gap` s, GET from `read`; count misses."""
    rng = random.Random(seed)
    stale = 0
    for user in range(trials):
        key = session_key()  # fresh ids: never one an earlier run already replicated
        pipe = write.pipeline(transaction=False)  # one connection: WAIT covers only its own connection's writes
        pipe.set(key, json.dumps(lesson_payload(user, rng)), ex=LESSON_TTL)
        if wait:  # an app that waits answers only once a replica has the login (5 s: room for a stalled machine)
            pipe.wait(1, 5_000)
        pipe.execute()
        if gap:
            time.sleep(gap)
        stale += read.get(key) is None
    return StaleReads(how or f"read {gap * 1e3:g} ms after login", trials, stale, gap)


def stale_by_gap(write: Any, read: Any, gaps_ms: tuple[int, ...] = (0, 5, 10, 15, 20, 25, 30, 40),
                 trials: int = 10) -> list[StaleReads]:
    """Stale reads from `read` (a replica) for each pause (ms) between the login's write on `write` and the read."""
    return [stale_reads(write, read, trials, gap / 1e3) for gap in gaps_ms]


def plot_stale(by_gap: list[StaleReads], delay: float) -> Any:
    """Share of logins that looked logged out on the replica against the pause before the read."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.plot([s.gap * 1e3 for s in by_gap], [s.share for s in by_gap], marker="o", color="tab:red")
    ax.axvline(delay * 1e3, color="grey", ls=":")
    ax.text(delay * 1e3, 0.5, "  replication delay", color="grey", fontsize=8)
    ax.set(xlabel="pause between login (write to primary) and read from replica (ms)",
           ylabel="looked logged out", ylim=(-0.05, 1.05), title="Reading a fresh session from the replica")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    fig.tight_layout()
    plt.close(fig)
    return fig
