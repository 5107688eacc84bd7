"""What every simulated request leaves behind, and the summaries tables and plots read.

A *logout* here is the failure the lab is about: the browser sent its session cookie and the
server that got the request did not know the session, so the user was asked to log in again.
A user choosing to log out (POST /logout) is not counted as one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from labkit.errors import BadArgument
from labkit.fleet.webapp import SessionState

NO_SERVER = "none"  # the server field of a request no server could take (all were down)


class Record(NamedTuple):
    """One request: who sent it, which server took it, and how it went."""

    seq: int
    user: str
    server: str
    method: str
    path: str
    status: int
    session: SessionState
    body: str

    @property
    def recognised(self) -> bool:
        """The server found the session the browser's cookie named."""
        return self.session is SessionState.RECOGNISED

    @property
    def logged_out(self) -> bool:
        """The browser sent a session cookie the server did not know: the user was logged out."""
        return self.session is SessionState.UNKNOWN

    @property
    def carried_cookie(self) -> bool:
        """The browser sent a session cookie with this request."""
        return self.session.carried_cookie

    def __repr__(self) -> str:
        return (f"Record(#{self.seq} {self.user} {self.method} {self.path} -> {self.server}: "
                f"{self.status}, session {self.session.value})")


def requests_per_server(records: Iterable[Record], servers: Sequence[str] = ()) -> dict[str, int]:
    """Requests each server handled, sorted by server name (servers in `servers` appear even at 0)."""
    counts = Counter({name: 0 for name in servers})
    counts.update(r.server for r in records)
    return dict(sorted(counts.items()))


def logouts_per_server(records: Iterable[Record], servers: Sequence[str] = ()) -> dict[str, int]:
    """Logouts (unrecognised session cookies) at each server, sorted by server name."""
    counts = Counter({name: 0 for name in servers})
    counts.update(r.server for r in records if r.logged_out)
    return dict(sorted(counts.items()))


def logouts(records: Iterable[Record]) -> int:
    """How many requests logged their user out."""
    return sum(1 for r in records if r.logged_out)


def logged_out_users(records: Iterable[Record]) -> list[str]:
    """The users logged out at least once, sorted."""
    return sorted({r.user for r in records if r.logged_out})


def load_imbalance(counts: dict[str, int]) -> float:
    """Busiest server's requests over the mean per server: 1.0 is perfectly even."""
    if not counts or not sum(counts.values()):
        raise BadArgument("no requests to measure: run some traffic first")
    return max(counts.values()) / (sum(counts.values()) / len(counts))


@dataclass(frozen=True)
class FleetSummary:
    """Per-server requests and logouts over some records, with the totals."""

    requests: dict[str, int]
    logouts: dict[str, int]
    users_logged_out: int

    @property
    def total(self) -> int:
        """All requests summarised."""
        return sum(self.requests.values())

    @property
    def total_logouts(self) -> int:
        """All logouts summarised."""
        return sum(self.logouts.values())

    @property
    def imbalance(self) -> float:
        """Busiest server over the mean (servers that were down count, at their own total)."""
        return load_imbalance({k: v for k, v in self.requests.items() if k != NO_SERVER})

    def table(self) -> str:
        """A small fixed-width table, one row per server, sorted by name."""
        lines = [f"{'server':<8}{'requests':>10}{'logouts':>9}"]
        lines += [f"{name:<8}{count:>10,}{self.logouts.get(name, 0):>9,}" for name, count in self.requests.items()]
        lines.append(f"{'total':<8}{self.total:>10,}{self.total_logouts:>9,}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def summarise(records: Sequence[Record], servers: Sequence[str] = ()) -> FleetSummary:
    """Requests and logouts per server over `records`."""
    return FleetSummary(requests_per_server(records, servers), logouts_per_server(records, servers),
                        len(logged_out_users(records)))
