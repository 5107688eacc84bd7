"""Every notebook under strict nbval (stored outputs compared), on each backend."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

import labkit
from tests.support import NOTEBOOKS, ROOT
from tests.support.servers import LocalRedis

SANITIZE = ROOT / "tests" / "sanitize.cfg"
SENTINEL = "not-the-lab:sentinel"  # a key the lab must never touch


def run_nbval(notebook: Path, redis_url: str) -> subprocess.CompletedProcess:
    """Run one notebook under strict nbval in a fresh pytest process, on the given backend."""
    # A fixed learner namespace (lab:nbval:NN:...) so runs do not depend on the login name.
    env = {k: v for k, v in os.environ.items() if k != "LABKIT_PREFIX"}
    env.update(REDIS_URL=redis_url, LABKIT_LEARNER="nbval")
    command = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env",
               "--nbval-sanitize-with", str(SANITIZE), "-p", "no:cacheprovider", "-q",
               "-o", "addopts=", str(notebook)]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def _check(notebook: Path, redis_url: str, label: str) -> None:
    started = time.perf_counter()
    done = run_nbval(notebook, redis_url)
    elapsed = time.perf_counter() - started
    print(f"{notebook.name} on {label}: nbval took {elapsed:.1f} s")
    assert done.returncode == 0, f"{notebook.name} failed on {label}:\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_on_fakeredis(notebook: Path) -> None:
    _check(notebook, "", "fakeredis")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_on_real_redis(notebook: Path, real_redis_url: str) -> None:
    outsider = redis.Redis.from_url(real_redis_url, decode_responses=True)
    outsider.set(SENTINEL, "a learner's own data", ex=3600)
    _check(notebook, real_redis_url, "redis-server")
    assert outsider.get(SENTINEL) == "a learner's own data", "a notebook touched a key outside the lab's prefix"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_on_cluster(notebook: Path, cluster_url: str) -> None:
    outsider = labkit.connect(cluster_url)
    outsider.set(SENTINEL, "a learner's own data", ex=3600)
    _check(notebook, cluster_url, "a 3-primary Redis Cluster")
    assert outsider.get(SENTINEL) == "a learner's own data", "a notebook touched a key outside the lab's prefix"


# One notebook proves the TLS path end to end (every notebook reaches Redis through the same connect()):
# the sessions notebook, whose data is what ElastiCache's in-transit encryption protects.
TLS_NOTEBOOKS = [p for p in NOTEBOOKS if p.name.startswith("02_")] or NOTEBOOKS[:1]


@pytest.mark.parametrize("notebook", TLS_NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_over_tls(notebook: Path, tls_server: LocalRedis) -> None:
    _check(notebook, tls_server.url, "redis-server over TLS")


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "no notebooks found under notebooks/"
