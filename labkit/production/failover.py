"""A failover drill: logins acknowledged, the replica cut off, the primary killed, the replica promoted.

Once the replica has the first `cut_after` logins, the link between them is paused (a replica that
has fallen behind), so every later write reaches only the primary. Then the primary dies (SIGKILL) and the replica is
promoted (`REPLICAOF NO ONE`), as ElastiCache's Multi-AZ automatic failover does. Counted: logins
the application confirmed to the user, and of those, the sessions the new primary does not have.
With `wait=True` each login is confirmed only once `WAIT 1 <timeout>` says a replica has it.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass

from labkit.production.memory import LESSON_TTL, lesson_payload, session_key
from labkit.production.replicas import ReplicaPair
from labkit.production.servers import wait_until_synced
from labkit.timing import Latency, format_duration, summarise


@dataclass(frozen=True)
class FailoverResult:
    """One drill: logins, how many came after the cut and were confirmed, confirmed ones lost, the login latency."""

    wait: bool
    logins: int
    after_cut: int
    confirmed_after_cut: int
    confirmed: int
    lost: int
    latency: Latency

    def __str__(self) -> str:
        # Not the confirmed total: on a stalled machine a WAIT before the cut can time out too, so it varies.
        how = "SET + WAIT 1" if self.wait else "SET only    "
        return (f"{how}: {self.confirmed_after_cut:>2} of the {self.after_cut} logins after the cut confirmed, "
                f"{self.lost:>2} confirmed logins lost at failover | confirmed login p50 "
                f"{format_duration(self.latency.p50)}")


SAME_REGION = 0.0005  # seconds each way: a replica in another Availability Zone of the same region


def failover_drill(wait: bool, logins: int = 110, cut_after: int = 100, timeout_ms: int = 250,
                   delay: float = SAME_REGION, seed: int = 0) -> FailoverResult:
    """Log users in on a fresh pair; once the replica has them, cut the link; more logins; kill, promote, count lost."""
    rng = random.Random(seed)
    confirmed: list[str] = []
    confirmed_after_cut = 0
    samples: list[float] = []
    with ReplicaPair(delay) as pair:
        assert pair.link is not None
        for user in range(logins):
            if user == cut_after:
                wait_until_synced(pair.p, pair.r)  # the replica has every login so far...
                pair.link.pause()  # ...then falls behind: nothing more reaches it
            key = session_key(rng)
            started = time.perf_counter()
            pipe = pair.p.pipeline(transaction=False)  # SET and WAIT over one connection
            pipe.set(key, json.dumps(lesson_payload(user, rng)), ex=LESSON_TTL)
            if wait:
                pipe.wait(1, timeout_ms)
            replies = pipe.execute()
            ok = replies[1] >= 1 if wait else True
            if ok:
                samples.append(time.perf_counter() - started)
                confirmed.append(key)
                confirmed_after_cut += user >= cut_after
        pair.primary.kill()
        pair.link.stop()  # what it held dies with the primary
        pair.r.replicaof("NO", "ONE")
        pipe = pair.r.pipeline(transaction=False)
        for key in confirmed:
            pipe.exists(key)
        kept = sum(pipe.execute())
    return FailoverResult(wait, logins, logins - cut_after, confirmed_after_cut, len(confirmed), len(confirmed) - kept,
                          summarise(samples))
