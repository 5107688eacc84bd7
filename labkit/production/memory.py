"""What a session costs in server memory, and the node that N live sessions need.

Measured two ways on a throwaway server: `MEMORY USAGE key SAMPLES 0` (one key: its name, value
and entry in the key table) and the `used_memory` delta of INFO memory over many sessions (also
the TTL's entry in the expiry table and the tables' growth). ElastiCache keeps part of each node's
memory for the server itself (`reserved-memory-percent`, 25% by default): sizing divides by what is left.
"""

from __future__ import annotations

import json
import random
import secrets
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LESSON_TTL = 8 * 3600  # the lesson's session TTL in seconds (8 hours)
GIB = 1024**3
RESERVED_DEFAULT = 0.25  # ElastiCache's default reserved-memory-percent, as a share
# ElastiCache node types and their memory for data (GiB), from AWS's node-type table.
NODE_TYPES = {"cache.t4g.small": 1.37, "cache.t4g.medium": 3.09, "cache.r7g.large": 13.07,
              "cache.r7g.xlarge": 26.32, "cache.r7g.2xlarge": 52.82, "cache.r7g.4xlarge": 105.81}

Payload = Callable[[int, random.Random], dict[str, Any]]


def format_bytes(size: float) -> str:
    """A size with a binary unit: '152 B', '1.1 KiB', '3.40 GiB' (sanitized in nbval: it depends on the server)."""
    for unit, scale in (("GiB", GIB), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.{2 if unit == 'GiB' else 1}f} {unit}"
    return f"{size:.0f} B"


def lesson_payload(user: int, rng: random.Random) -> dict[str, Any]:
    """The lesson's session: {'user_id': ..., 'logged_in': True}."""
    return {"user_id": f"user-{user:07d}", "logged_in": True}


def realistic_payload(user: int, rng: random.Random) -> dict[str, Any]:
    """A session a shop keeps (about 1 KB of JSON): user, CSRF token, timestamps, client, cart, flags."""
    login = 1_767_000_000 + rng.randrange(86_400)
    items = [{"sku": f"SKU-{rng.randrange(10**6):06d}", "name": rng.choice(PRODUCTS), "qty": rng.randint(1, 3),
              "price_cents": rng.randrange(199, 9_999)} for _ in range(4)]
    return {
        "user_id": f"user-{user:07d}", "logged_in": True, "roles": ["customer"],
        "csrf_token": _token(rng),
        "created_at": login, "last_seen": login + rng.randrange(3_600), "auth_time": login,
        "ip": f"203.0.113.{rng.randrange(1, 255)}", "user_agent": AGENT, "locale": "en-GB", "currency": "GBP",
        "cart": items, "recently_viewed": [f"SKU-{rng.randrange(10**6):06d}" for _ in range(8)],
        "flash": [], "ab_tests": {"checkout": "B", "search": "A"}, "mfa_passed": True,
    }


PRODUCTS = ["Wireless mouse", "USB-C charger 65 W", "Paperback: Designing Data-Intensive Applications",
            "Espresso beans 1 kg", "Running socks, 3 pairs", "Noise-cancelling headphones"]
AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/131.0.0.0 Safari/537.36")


def _token(rng: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(rng.choice(alphabet) for _ in range(43))


def session_key(rng: random.Random | None = None) -> str:
    """'session:<43 URL-safe characters>', as labkit's ids (from `rng` if given, so a run repeats; else `secrets`)."""
    return "session:" + (_token(rng) if rng is not None else secrets.token_urlsafe(32))


@dataclass(frozen=True)
class SessionMemory:
    """Bytes one session costs: its JSON, MEMORY USAGE of its key, and the used_memory delta per session."""

    payload: str
    sessions: int
    json_bytes: float
    memory_usage: float
    used_memory_delta: float

    def __str__(self) -> str:
        return (f"{self.payload}: JSON {format_bytes(self.json_bytes)}, MEMORY USAGE {format_bytes(self.memory_usage)}, "
                f"used_memory delta {format_bytes(self.used_memory_delta)} per session over {self.sessions:,} sessions")


def measure_sessions(client: Any, payload: Payload, sessions: int = 10_000, seed: int = 0,
                     ttl: int = LESSON_TTL, name: str = "") -> SessionMemory:
    """Write `sessions` sessions (SET ... EX, pipelined) on an empty server; MEMORY USAGE and INFO used_memory."""
    rng = random.Random(seed)
    before = int(client.info("memory")["used_memory"])
    keys, sizes = [], []
    pipe = client.pipeline(transaction=False)
    for user in range(sessions):
        key, value = session_key(rng), json.dumps(payload(user, rng))
        keys.append(key)
        sizes.append(len(value))
        pipe.set(key, value, ex=ttl)
        if len(pipe) >= 1_000:
            pipe.execute()
    pipe.execute()
    after = int(client.info("memory")["used_memory"])
    for key in keys[::100]:
        pipe.memory_usage(key, samples=0)
    usage = statistics.median(pipe.execute())
    return SessionMemory(name or payload.__name__.removesuffix("_payload"), sessions, statistics.fmean(sizes),
                         usage, (after - before) / sessions)


def node_memory(live_sessions: float, bytes_per_session: float, reserved: float = RESERVED_DEFAULT) -> float:
    """Node memory (bytes) that holds `live_sessions` when `reserved` of it is kept for the server itself."""
    return live_sessions * bytes_per_session / (1 - reserved)


def sessions_per_gib(bytes_per_session: float, reserved: float = RESERVED_DEFAULT) -> int:
    """How many sessions one GiB of node memory holds, `reserved` kept back."""
    return int(GIB * (1 - reserved) // bytes_per_session)


def smallest_node(memory: float) -> str:
    """The smallest ElastiCache node type in NODE_TYPES with at least `memory` bytes, or 'more than one node'."""
    for name, gib in NODE_TYPES.items():
        if gib * GIB >= memory:
            return name
    return "more than one node (shard, cluster mode)"


def plot_sizing(measured: list[SessionMemory], reserved: float = RESERVED_DEFAULT) -> Any:
    """Node memory needed against live sessions, per payload, with ElastiCache node sizes drawn across."""
    import matplotlib.pyplot as plt

    counts = [10**k for k in range(4, 9)]
    fig, ax = plt.subplots(figsize=(7.5, 4))
    for item in measured:
        ax.plot(counts, [node_memory(n, item.used_memory_delta, reserved) / GIB for n in counts], marker="o",
                label=f"{item.payload} session ({format_bytes(item.used_memory_delta)} each)")
    example = 2_000_000  # the text's example: 250,000 logins an hour for 8 hours
    for item in measured:
        need = node_memory(example, item.used_memory_delta, reserved) / GIB
        ax.plot([example], [need], marker="*", markersize=13, color="black", zorder=3)
        ax.annotate(f"{need:.2f} GiB", (example, need), textcoords="offset points", xytext=(8, -12), fontsize=9)
    ax.axvline(example, color="black", lw=0.6, ls="--")
    ax.text(example / 1.15, 0.03, "2 million\n(the example)", fontsize=9, ha="right", transform=ax.get_xaxis_transform())
    for name, gib in NODE_TYPES.items():
        if name.startswith("cache.r7g"):
            ax.axhline(gib, color="grey", lw=0.6, ls=":")
            ax.text(counts[0], gib * 1.05, name, fontsize=9, color="dimgrey")
    ax.set(xscale="log", yscale="log", xlabel="live sessions", ylabel="node memory needed (GiB)",
           title=f"Node memory for live sessions, {reserved:.0%} reserved for the server")
    ax.legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    plt.close(fig)
    return fig
