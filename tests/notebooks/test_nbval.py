"""Every notebook under strict nbval (stored outputs compared), on each backend."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

import labkit
from tests.support import NOTEBOOKS
from tests.support.nbval import check_nbval
from tests.support.servers import LocalRedis

SENTINEL = "not-the-lab:sentinel"  # a key the lab must never touch


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_on_fakeredis(notebook: Path) -> None:
    check_nbval(notebook, "", "fakeredis")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_on_real_redis(notebook: Path, real_redis_url: str) -> None:
    outsider = redis.Redis.from_url(real_redis_url, decode_responses=True)
    outsider.set(SENTINEL, "a learner's own data", ex=3600)
    check_nbval(notebook, real_redis_url, "redis-server")
    assert outsider.get(SENTINEL) == "a learner's own data", "a notebook touched a key outside the lab's prefix"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_on_cluster(notebook: Path, cluster_url: str) -> None:
    outsider = labkit.connect(cluster_url)
    outsider.set(SENTINEL, "a learner's own data", ex=3600)
    check_nbval(notebook, cluster_url, "a 3-primary Redis Cluster")
    assert outsider.get(SENTINEL) == "a learner's own data", "a notebook touched a key outside the lab's prefix"


# One notebook proves the TLS path end to end (every notebook reaches Redis through the same connect()):
# the sessions notebook, whose data is what ElastiCache's in-transit encryption protects.
TLS_NOTEBOOKS = [p for p in NOTEBOOKS if p.name.startswith("02_")] or NOTEBOOKS[:1]


@pytest.mark.parametrize("notebook", TLS_NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_over_tls(notebook: Path, tls_server: LocalRedis) -> None:
    check_nbval(notebook, tls_server.url, "redis-server over TLS")


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "no notebooks found under notebooks/"
