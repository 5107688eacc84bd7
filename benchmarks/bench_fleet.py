"""Fleet overhead: simulated traffic through the whole fleet vs the bare Flask test client.

All runs play the same seeded traffic (same users, same request mix) against the same Flask
app with an in-memory store. Two bare baselines talk to the app directly: each user with its own
`app.test_client()` and its built-in cookie jar (the usual way), and one client without a jar that
passes each user's session cookie by hand (the least work per request: the stricter bar). The
fleet adds the simulated browsers, the load balancer and a record per request.
Rates use this process's CPU time (time.process_time), so other work on the shared cores does not
count against either side; rounds are interleaved and medians are reported.

Usage: .venv/bin/python -m benchmarks.bench_fleet [--requests 5000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from importlib.metadata import version

from labkit.fleet.fleet import Fleet
from labkit.fleet.traffic import Traffic
from labkit.fleet.webapp import SESSION_COOKIE, create_app
from labkit.sessions.memory import MemorySessionStore

BASE_URL = "https://lab.example"
TARGET = 0.70


def bare_rate(requests: int, users: int, seed: int) -> float:
    """Requests/s of the same traffic sent straight to one app with per-user test clients."""
    app = create_app("app-1", MemorySessionStore())
    traffic = Traffic(users=users, skew=1.2, seed=seed)
    clients = {}
    started = time.process_time()
    for _ in range(requests):
        user = traffic.next_user()
        client = clients.get(user) or clients.setdefault(user, app.test_client())
        if client.get_cookie(SESSION_COOKIE, domain="lab.example") is None:
            client.post("/login", data={"user": user}, base_url=BASE_URL)
        else:
            method, path, form = traffic.next_action()
            client.open(path, method=method, data=form, base_url=BASE_URL)
    return requests / (time.process_time() - started)


def bare_rate_no_jar(requests: int, users: int, seed: int) -> float:
    """Requests/s of the same traffic through one jar-less test client, cookies passed by hand."""
    app = create_app("app-1", MemorySessionStore())
    client = app.test_client(use_cookies=False)
    traffic = Traffic(users=users, skew=1.2, seed=seed)
    sids: dict[str, str] = {}
    started = time.process_time()
    for _ in range(requests):
        user = traffic.next_user()
        sid = sids.get(user)
        if sid is None:
            response = client.post("/login", data={"user": user}, base_url=BASE_URL)
        else:
            method, path, form = traffic.next_action()
            response = client.open(path, method=method, data=form, base_url=BASE_URL,
                                   headers={"Cookie": f"{SESSION_COOKIE}={sid}"})
        set_cookie = response.headers.get("Set-Cookie")
        if set_cookie is not None:
            value = set_cookie.split(";", 1)[0].partition("=")[2]
            if value:
                sids[user] = value
            else:
                sids.pop(user, None)
    return requests / (time.process_time() - started)


def fleet_rate(requests: int, users: int, seed: int, servers: int, policy: str) -> tuple[float, int]:
    """Requests/s of the same traffic through a whole fleet, and the logouts it saw."""
    fleet = Fleet(servers=servers, policy=policy, seed=seed)
    traffic = Traffic(users=users, skew=1.2, seed=seed)
    started = time.process_time()
    fleet.run(requests, traffic)
    elapsed = time.process_time() - started
    return requests / elapsed, fleet.summary().total_logouts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    setups = [("fleet, 1 server, round_robin", 1, "round_robin"),
              ("fleet, 3 servers, sticky", 3, "sticky"),
              ("fleet, 3 servers, sticky_hash", 3, "sticky_hash")]
    bare: list[float] = []
    bare_no_jar: list[float] = []
    fleets: dict[str, list[float]] = {label: [] for label, *_ in setups}
    seen_logouts: dict[str, int] = {}
    bare_rate(500, args.users, args.seed)  # warm up imports and caches
    for _ in range(args.rounds):
        bare.append(bare_rate(args.requests, args.users, args.seed))
        bare_no_jar.append(bare_rate_no_jar(args.requests, args.users, args.seed))
        for label, servers, policy in setups:
            rate, lost = fleet_rate(args.requests, args.users, args.seed, servers, policy)
            fleets[label].append(rate)
            seen_logouts[label] = lost
    jar, base = statistics.median(bare), statistics.median(bare_no_jar)
    print(f"Conditions: Python {platform.python_version()}, Flask {version('flask')}, Werkzeug {version('werkzeug')}"
          f", {platform.machine()}, {os.cpu_count()} CPUs (shared), in-memory sessions, "
          f"{args.requests:,} requests x {args.rounds} interleaved rounds (median, CPU time), "
          f"{args.users} users, Zipf skew 1.2, seed {args.seed}")
    print(f"{'setup':<40}{'req/s':>9}{'vs jar-less':>13}{'vs with jar':>13}{'logouts':>9}  "
          f"verdict (>= {TARGET:.0%} of jar-less)")
    rows = [("bare test client, no jar (1 app)", base, "-"), ("bare test clients, cookie jars (1 app)", jar, "-")]
    rows += [(label, statistics.median(rates), f"{seen_logouts[label]:,}") for label, rates in fleets.items()]
    for label, rate, lost in rows:
        verdict = "" if label.startswith("bare") else ("ok" if rate / base >= TARGET else "BELOW TARGET")
        print(f"{label:<40}{rate:>9,.0f}{rate / base:>12.2f}×{rate / jar:>12.2f}×{lost:>9}  {verdict}".rstrip())

if __name__ == "__main__":
    main()
