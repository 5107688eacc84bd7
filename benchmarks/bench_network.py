"""Run All across a network: each notebook's seconds on a real Redis at loopback and through added round trips.

A throwaway redis-server on loopback; the same server through the delay link of tests/support at 0.3 ms
(ElastiCache from an EC2 instance in its own Availability Zone), 3 ms (a class server down the hall)
and 10 ms (another region). Each notebook runs top to bottom in a fresh kernel (nbclient, as Run All,
timed from the first cell to the last once the kernel is up), `rounds` times per setting in
interleaved order; the table shows the median seconds and the ratio to loopback. The targets: at most 1.5x at 3 ms
and 2.5x at 10 ms.

Usage: .venv/bin/python -m benchmarks.bench_network [--rounds 3] [--notebooks notebooks/02_*.ipynb ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from labkit.config import ENV_LEARNER, ENV_PREFIX, ENV_URL
from labkit.exercises.kernel_client import SteadyKernelManager
from tests.support import NOTEBOOKS
from tests.support.delay_link import DelayLink, measure_ping_rtt
from tests.support.servers import LocalRedis

SETTINGS = {"loopback": 0.0, "0.3 ms": 0.0003, "3 ms": 0.003, "10 ms": 0.010}
TARGETS = {"3 ms": 1.5, "10 ms": 2.5}


def run_all(path: Path, redis_url: str) -> float:
    """Seconds from the first cell to the last of `path`, in a fresh kernel with REDIS_URL=`redis_url`."""
    notebook = nbformat.read(path, as_version=4)
    env = {k: v for k, v in os.environ.items() if k != ENV_PREFIX}
    env.update({ENV_URL: redis_url, ENV_LEARNER: "bench-network"})
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", kernel_manager_class=SteadyKernelManager,
                            resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel(env=env):  # the kernel is up before the clock starts, as when a learner clicks Run All
        started = time.perf_counter()
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--notebooks", nargs="*", type=Path, default=NOTEBOOKS)
    args = parser.parse_args()
    server = LocalRedis().start()
    links = {name: DelayLink("127.0.0.1", server.port, rtt).start() for name, rtt in SETTINGS.items() if rtt}
    urls = {"loopback": server.url, **{name: f"redis://127.0.0.1:{link.port}/0" for name, link in links.items()}}
    pings = {name: measure_ping_rtt("127.0.0.1", server.port if name == "loopback" else links[name].port)
             for name in SETTINGS}
    seconds: dict[tuple[str, str], list[float]] = {}
    try:
        for _ in range(args.rounds):
            for path in args.notebooks:
                for name in SETTINGS:
                    seconds.setdefault((path.name, name), []).append(run_all(path, urls[name]))
    finally:
        for link in links.values():
            link.stop()
        server.stop()
    print(f"Run All across a network: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, Debian's redis-server on loopback behind a delay link, "
          f"median of {args.rounds} interleaved rounds, first cell to last (load average at the end: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())})")
    print("PING p50 measured: " + ", ".join(f"{name} {pings[name] * 1000:.2f} ms" for name in SETTINGS))
    print()
    print("| notebook | " + " | ".join(SETTINGS) + " | 3 ms / loopback | 10 ms / loopback |")
    print("|---|" + "---:|" * (len(SETTINGS) + 2))
    for path in args.notebooks:
        median = {name: statistics.median(seconds[(path.name, name)]) for name in SETTINGS}
        ratios = [f"{median[name] / median['loopback']:.2f}x (target {TARGETS[name]}x)" for name in TARGETS]
        print(f"| `{path.stem}` | " + " | ".join(f"{median[name]:.1f} s" for name in SETTINGS) + " | "
              + " | ".join(ratios) + " |")


if __name__ == "__main__":
    main()
