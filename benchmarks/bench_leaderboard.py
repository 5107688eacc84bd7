"""Leaderboard at scale: bulk load rate, top-10 and rank latency, memory per player, naive ratios.

On a throwaway local redis-server (loopback TCP, when one is on PATH): boards of 1,000 to
1,000,000 players. The load of the largest board is timed three ways in the same run: labkit's
`Leaderboard.load` (names and scores checked, many members per ZADD, the next batch encoded while
the server works on the last), and two plain redis-py scripts (one ZADD per player pipelined;
many members per ZADD pipelined). Beside each load, the server-side bound from the same load: the
players divided by the server's own time in ZADD (`INFO commandstats`, after CONFIG RESETSTAT on
the benchmark's own server): no client can load faster than the server executes the commands.
The labkit load is then timed again through a link adding about 0.3 ms of round trip
(tests/support/delay_link.py), the figure an app server sees to ElastiCache in its own zone. Memory per player
comes from MEMORY USAGE (all members sampled) and from INFO used_memory before and after. Then
top-10 and rank latency on the sorted set beside the naive boards (Python list sort, SQLite
ORDER BY), and the ratio naive / sorted set at each size. The same table on the embedded
fakeredis follows, at the sizes it carries in reasonable time (labelled).

Usage: .venv/bin/python -m benchmarks.bench_leaderboard [--sizes 1000,10000,100000,1000000]
       [--fake-sizes 1000,10000,100000] [--batch 10000]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import labkit
from labkit.leaderboards.board import Leaderboard
from labkit.leaderboards.game import bulk_scores
from labkit.leaderboards.scale import compare_at_sizes
from labkit.timing import format_duration, measure
from tests.support.servers import LocalRedis, redis_server_path

LOAD_TARGET = 250_000  # players/s
P99_TARGET = 0.5e-3    # seconds
BOUND_TARGET = 0.85    # of the server-side bound (players / the server's own ZADD time)
LINK_RTT = 0.0003      # seconds: about what an EC2 instance sees to ElastiCache in its own zone


@contextmanager
def delay_link_process(port: int, rtt: float) -> Iterator[int]:
    """A DelayLink to 127.0.0.1:`port` in a process of its own (its threads must not take this one's GIL); yield its port."""
    code = ("import sys; from tests.support.delay_link import DelayLink; "
            f"link = DelayLink('127.0.0.1', {port}, {rtt!r}).start(); print(link.port, flush=True); sys.stdin.read()")
    process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parent.parent)
    try:
        yield int(process.stdout.readline())  # type: ignore[union-attr]
    finally:
        process.stdin.close()  # type: ignore[union-attr]
        process.wait(timeout=10)


def timed(call: Callable[[], object]) -> float:
    """Seconds one call of `call()` took."""
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def zadd_seconds(client: Any) -> float:
    """The server's own time in ZADD since the last CONFIG RESETSTAT (INFO commandstats), in seconds."""
    return client.info("commandstats").get("cmdstat_zadd", {"usec": 0})["usec"] / 1e6


def load_rates(space: labkit.Keyspace, n: int, batch: int, rounds: int = 3,
               only_labkit: bool = False) -> list[tuple[str, float, float]]:
    """(way, median players/s, median server-bound players/s) loading `n` players, alternating over `rounds` rounds."""
    scores = bulk_scores(n, seed=0)
    items = list(scores.items())
    client, key = space.client, Leaderboard(space, f"scale:{n}").key

    def one_zadd_per_player() -> None:
        pipe = client.pipeline(transaction=False)
        for start in range(0, n, batch):
            for player, score in items[start:start + batch]:
                pipe.zadd(key, {player: score})
            pipe.execute()

    def many_members_per_zadd() -> None:
        pipe = client.pipeline(transaction=False)
        for start in range(0, n, batch):
            pipe.zadd(key, dict(items[start:start + batch]))
        pipe.execute()

    ways = {"plain redis-py: one ZADD per player, pipelined": one_zadd_per_player,
            f"plain redis-py: {batch:,} members per ZADD, pipelined": many_members_per_zadd,
            f"labkit Leaderboard.load: checked, {batch:,} per ZADD": lambda: Leaderboard(space, f"scale:{n}").load(scores, batch=batch)}
    if only_labkit:
        ways = {label: way for label, way in ways.items() if label.startswith("labkit")}
    rates: dict[str, list[float]] = {label: [] for label in ways}
    bounds: dict[str, list[float]] = {label: [] for label in ways}
    fake = labkit.is_fake(client)
    for _ in range(rounds):
        for label, way in ways.items():
            client.delete(key)  # DEL, not UNLINK: no background freeing competes with the next load
            if not fake:
                client.config_resetstat()
            rates[label].append(n / timed(way))
            bounds[label].append(float("nan") if fake else n / zadd_seconds(client))
            assert client.zcard(key) == n
    return [(label, statistics.median(rates[label]), statistics.median(bounds[label])) for label in ways]


def print_loads(loads: list[tuple[str, float, float]]) -> None:
    """The load table: rate, server bound and their ratio per way."""
    print(f"  {'way':<56} {'players/s':>11} {'server bound':>13} {'ratio':>6}")
    for way, rate, bound in loads:
        print(f"  {way:<56} {rate:>11,.0f} {bound:>13,.0f} {rate / bound:>6.2f}"
              if bound == bound else f"  {way:<56} {rate:>11,.0f} {'-':>13} {'-':>6}")


def memory_per_player(space: labkit.Keyspace, n: int) -> tuple[float, float]:
    """(MEMORY USAGE, INFO used_memory delta) per player of a fresh board of `n` players."""
    client, board = space.client, Leaderboard(space, f"memory:{n}")
    board.clear()
    before = client.info("memory")["used_memory"]
    board.load(bulk_scores(n, seed=0))
    after = client.info("memory")["used_memory"]
    usage = client.memory_usage(board.key, samples=0)
    board.clear()
    return usage / n, (after - before) / n


def report(label: str, url: str, sizes: list[int], batch: int, with_memory: bool, delayed_url: str = "") -> None:
    """Print the load, memory and query tables for the backend at `url`."""
    # A long socket timeout: a pipelined million-member load on a busy machine outlasts the default 1 s.
    space = labkit.Keyspace(labkit.connect(url, timeout=120), f"{labkit.lab_prefix()}bench:")
    space.clear()
    try:
        print(f"\n## {label}\n")
        print(f"Load of {sizes[-1]:,} players, median of 3 alternating rounds (target >= {LOAD_TARGET:,} players/s, "
              f"and >= {BOUND_TARGET} of the server-side bound):")
        print_loads(load_rates(space, sizes[-1], batch))
        if delayed_url:
            delayed = labkit.Keyspace(labkit.connect(delayed_url, timeout=120), space.prefix)
            rtt = measure(lambda: delayed.client.ping(), 200).p50
            print(f"\nThe same labkit load through a delay link (PING p50 {format_duration(rtt)}):")
            print_loads(load_rates(delayed, sizes[-1], batch, only_labkit=True))
        if with_memory:
            print("\nMemory per player (MEMORY USAGE ... SAMPLES 0 | INFO used_memory delta):")
            for n in sizes:
                usage, delta = memory_per_player(space, n)
                print(f"  {n:>9,} players: {usage:6.1f} B | {delta:6.1f} B")
        rows = compare_at_sizes(space, sizes, seed=0, repeat=2000)
        raw_rank = {n: measure(lambda: space.client.zrevrank(Leaderboard(space, f"scale:{n}").key, f"p{n // 2:07d}"), 2000)
                    for n in sizes}
        print("\nQueries (p50 | p99; ratio = naive p50 / sorted-set p50 at the same size):")
        print(f"  {'players':>9}  {'approach':<16} {'top-10 p50':>10} {'p99':>9} {'rank p50':>10} {'p99':>9}"
              f" {'top-10 ratio':>12} {'rank ratio':>11}")
        for row in rows:
            zset = next(r for r in rows if r.players == row.players and r.approach == "sorted set")
            ratios = ("" if row is zset else
                      f" {row.top10.p50 / zset.top10.p50:>11,.0f}× {row.rank.p50 / zset.rank.p50:>10,.0f}×")
            print(f"  {row.players:>9,}  {row.approach:<16} {format_duration(row.top10.p50):>10} "
                  f"{format_duration(row.top10.p99):>9} {format_duration(row.rank.p50):>10} "
                  f"{format_duration(row.rank.p99):>9}{ratios}")
        print("\n  rank above is labkit's (ZREVRANK + ZSCORE in one MULTI/EXEC); a bare ZREVRANK for comparison:")
        for n, latency in raw_rank.items():
            print(f"  {n:>9,} players: {latency}")
        big = [r for r in rows if r.players == sizes[-1] and r.approach == "sorted set"][0]
        print(f"\n  At {sizes[-1]:,} players: top-10 p99 {format_duration(big.top10.p99)}, rank p99 "
              f"{format_duration(big.rank.p99)}, bare ZREVRANK p99 {format_duration(raw_rank[sizes[-1]].p99)} "
              f"(target < {format_duration(P99_TARGET)})")
    finally:
        space.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--fake-sizes", default="1000,10000,100000")
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    fake_sizes = [int(s) for s in args.fake_sizes.split(",")]
    print("# Leaderboard benchmark")
    print(f"Conditions: {os.cpu_count()} CPU cores, {platform.platform()}, Python {platform.python_version()}, "
          f"redis-py {version('redis')}, fakeredis {version('fakeredis')}; load in batches of {args.batch:,}; "
          "sorted set: 2,000 timed calls per query; naive: 3 to 50 calls (fewer as the board grows); "
          f"hiredis {'installed' if find_spec('hiredis') else 'not installed'}; "
          f"load average at start {os.getloadavg()[0]:.1f}")
    if redis_server_path() is None:
        print("\n(redis-server not on PATH: the real-server table is skipped)")
    else:
        with LocalRedis() as server:
            banner = labkit.backend_banner(labkit.connect(server.url)).removeprefix("Backend: ")
            with delay_link_process(server.port, LINK_RTT) as link_port:
                report(f"Real server: {banner} (local, loopback TCP)", server.url, sizes, args.batch, with_memory=True,
                       delayed_url=f"redis://127.0.0.1:{link_port}/0")
    report(f"fakeredis {version('fakeredis')} (embedded, in-process; no MEMORY/INFO, so no memory figures)", "",
           fake_sizes, args.batch, with_memory=False)


if __name__ == "__main__":
    main()
