"""Class set-up time: the instructor's commands for a class of N on one local redis-server.

Starts a throwaway redis-server with an admin user (the default user off, as on a class server),
then times each command as an instructor types it (`labkit class ...`, so Python's
start-up is included), plus one learner's first notebook cell and one check with only the
handout's REDIS_URL. Each step is run --rounds times on a fresh class; medians are reported.

With --memory N, it instead sizes the server: N learners each run every notebook (the instructor
copies, so every exercise's answer runs too) with only their handout URL, and the server's INFO
used_memory grows by the figure reported per learner (what `maxmemory` must leave room for).

Usage: .venv/bin/python -m benchmarks.bench_classroom [--learners 30] [--rounds 3] [--memory 3]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import labkit
from labkit.exercises import progress
from tests.support import NOTEBOOKS
from tests.support.servers import LocalRedis

ADMIN = ("--user", "admin", "on", ">admin-pass", "~*", "&*", "+@all", "--user", "default", "off")
LEARNER_RUN = """
import labkit
from labkit.exercises.checking import exercise
lab = labkit.open_lab("01")
lab.client.set(lab.key("hello"), "world")
exercise("01.1", "bench")(lambda: "ok")()
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    """Seconds `command` took; fails loudly if it did."""
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def one_round(server: LocalRedis, learners: int, folder: Path) -> dict[str, float]:
    env = {**os.environ, "REDIS_URL": f"redis://admin:admin-pass@127.0.0.1:{server.port}/0"}
    env.pop("LABKIT_LEARNER", None)
    tool = [sys.executable, "-m", "labkit.cli", "class"]
    handout = folder / "class.csv"
    handout.unlink(missing_ok=True)
    times = {f"create --count {learners} --handout class.csv": timed([*tool, "create", "--count", str(learners),
                                                                        "--handout", str(handout)], env)}
    rows = list(csv.DictReader(handout.open(encoding="utf-8-sig")))
    learner_env = {**env, "REDIS_URL": rows[0]["REDIS_URL"]}
    times["a learner: open_lab + a SET + a check"] = timed([sys.executable, "-c", LEARNER_RUN], learner_env)
    times["progress"] = timed([*tool, "progress"], env)
    times["reset learner01"] = timed([*tool, "reset", "learner01"], env)
    times["reset --all --yes"] = timed([*tool, "reset", "--all", "--yes"], env)
    times["remove --all --yes"] = timed([*tool, "remove", "--all", "--yes"], env)
    return times


def per_learner_memory(server: LocalRedis, learners: int, folder: Path) -> None:
    """Run every notebook as each of `learners` learners; print the server's used_memory growth per learner."""
    admin_url = f"redis://admin:admin-pass@127.0.0.1:{server.port}/0"
    env = {**os.environ, "REDIS_URL": admin_url}
    handout = folder / "memory.csv"
    subprocess.run([sys.executable, "-m", "labkit.cli", "class", "create", "--count", str(learners),
                    "--handout", str(handout)], env=env, check=True, capture_output=True)
    urls = [row["REDIS_URL"] for row in csv.DictReader(handout.open(encoding="utf-8-sig"))]
    admin = labkit.connect(admin_url)
    before = int(admin.info("memory")["used_memory"])
    os.environ.pop("LABKIT_LEARNER", None)
    for url in urls:
        for notebook in NOTEBOOKS:
            run = progress.run_notebook(notebook, redis_url=url)
            if run.errors:
                print(f"warning: {notebook.name}: {run.errors[:2]}")
    after = int(admin.info("memory")["used_memory"])
    keys = {url: sum(1 for _ in admin.scan_iter(match=f"lab:learner{i + 1:02d}:*", count=1000))
            for i, url in enumerate(urls)}
    print(f"{learners} learners ran {', '.join(n.name for n in NOTEBOOKS)} on Redis "
          f"{'.'.join(map(str, labkit.server_version(admin)))}; used_memory {before / 2**20:.1f} MB -> "
          f"{after / 2**20:.1f} MB: {(after - before) / learners / 2**20:.1f} MB per learner "
          f"({min(keys.values())} to {max(keys.values())} keys each, kept after the run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory", type=int, default=0, help="size the server with this many learners instead")
    args = parser.parse_args()
    if args.memory:
        with LocalRedis(*ADMIN) as server, tempfile.TemporaryDirectory() as folder:
            per_learner_memory(server, args.memory, Path(folder))
        return
    with LocalRedis(*ADMIN) as server, tempfile.TemporaryDirectory() as folder:
        version = ".".join(map(str, labkit.server_version(labkit.connect(
            f"redis://admin:admin-pass@127.0.0.1:{server.port}/0"))))
        rounds = [one_round(server, args.learners, Path(folder)) for _ in range(args.rounds)]
    print(f"Class of {args.learners} on a local redis-server {version} (loopback); Python "
          f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
          f"median of {args.rounds} rounds, Python start-up included")
    width = max(map(len, rounds[0]))
    print(f"{'command'.ljust(width)}  median")
    for step in rounds[0]:
        print(f"{step.ljust(width)}  {labkit.format_duration(statistics.median(r[step] for r in rounds))}")
    total = sum(statistics.median(r[step] for r in rounds) for step in rounds[0] if not step.startswith("a learner"))
    print(f"{'all instructor commands'.ljust(width)}  {labkit.format_duration(total)}")


if __name__ == "__main__":
    main()
