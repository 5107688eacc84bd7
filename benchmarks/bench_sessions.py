"""Session reads: labkit's RedisSessionStore.get vs a bare GET + json.loads, same backend, same run.

Both read the same session (the lesson's payload) through the same client. The store adds id
validation and the JSON-object check. Rounds alternate between the two so drift hits both
equally; the table shows the medians over rounds of each round's p50 and p99. Runs on the
embedded fakeredis, and on a throwaway local redis-server (loopback TCP) when one is on PATH.

Usage: .venv/bin/python -m benchmarks.bench_sessions [--calls 3000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
from importlib.metadata import version

import labkit
from labkit.sessions.redis_store import RedisSessionStore
from labkit.timing import Latency, format_duration, measure
from tests.support.servers import LocalRedis, redis_server_path

TARGET = 1.15


def compare(url: str, calls: int, rounds: int) -> tuple[Latency, Latency]:
    """Median p50/p99 of (bare, store) reads of one session on the backend at `url`."""
    space = labkit.Keyspace(labkit.connect(url), f"{labkit.lab_prefix()}bench:")
    space.clear()
    store = RedisSessionStore(space)
    session_id = store.create({"user_id": "user-042", "logged_in": True})
    client, key = space.client, store.key(session_id)

    def bare() -> object:
        data = client.get(key)
        return json.loads(data) if data else None

    assert bare() == store.get(session_id)
    runs: dict[str, list[Latency]] = {"bare": [], "store": []}
    try:
        for _ in range(rounds):
            runs["bare"].append(measure(bare, calls))
            runs["store"].append(measure(lambda: store.get(session_id), calls))
    finally:
        space.clear()
    return tuple(  # type: ignore[return-value]
        Latency(calls, statistics.median(r.p50 for r in rs), statistics.median(r.p99 for r in rs),
                statistics.median(r.mean for r in rs))
        for rs in (runs["bare"], runs["store"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000, help="timed reads per round and variant")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds")
    args = parser.parse_args()
    os.environ.pop("REDIS_URL", None)

    backends = [("fakeredis (in-process)", "", None)]
    server = None
    if redis_server_path():
        server = LocalRedis().start()
        version_text = ".".join(map(str, labkit.server_version(labkit.connect(server.url))))
        backends.append((f"redis-server {version_text} (loopback TCP)", server.url, server))
    rows = []
    try:
        for name, url, _ in backends:
            bare, store = compare(url, args.calls, args.rounds)
            rows.append((name, bare, store, store.p50 / bare.p50, store.mean / bare.mean))
    finally:
        if server is not None:
            server.stop()

    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"redis-py {version('redis')}, fakeredis {version('fakeredis')}")
    print(f"{args.rounds} alternating rounds x {args.calls:,} timed reads of one session "
          f"(the lesson's JSON payload); medians over rounds\n")
    head = f"{'backend':<36}{'bare p50':>10}{'store p50':>11}{'bare p99':>10}{'store p99':>11}{'p50 ratio':>11}{'mean ratio':>12}"
    print(head)
    print("-" * len(head))
    for name, bare, store, ratio, mean_ratio in rows:
        print(f"{name:<36}{format_duration(bare.p50):>10}{format_duration(store.p50):>11}"
              f"{format_duration(bare.p99):>10}{format_duration(store.p99):>11}{ratio:>10.3f}×{mean_ratio:>11.3f}×")
    if server is None:
        print("\n(real leg skipped: redis-server is not on PATH)")
    worst = max(r[3] for r in rows)
    verdict = "within" if worst <= TARGET else "OVER"
    print(f"\nworst p50 ratio {worst:.3f}×: {verdict} the {TARGET}× target (store read vs bare GET + json.loads)")
    raise SystemExit(0 if worst <= TARGET else 1)


if __name__ == "__main__":
    main()
