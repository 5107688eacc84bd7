"""A class server for the classroom tests: a redis-server with an admin user and the default user off."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import labkit
from labkit import cli
from labkit.exercises import checking as checks
from tests.support import LEGS
from tests.support.servers import LocalRedis, redis_server_path

ADMIN_USER = ("--user", "admin", "on", ">admin-secret", "~*", "&*", "+@all", "--user", "default", "off")


@pytest.fixture(scope="module")
def server() -> Iterator[LocalRedis]:
    """One redis-server per test module, with an admin user and a memory limit as the README's class server."""
    if redis_server_path() is None:
        LEGS["classroom (ACL users)"] = "SKIPPED: redis-server not on PATH (apt-get install redis-server)"
        pytest.skip("redis-server not on PATH: ACL tests skipped")
    with LocalRedis(*ADMIN_USER, "--maxmemory", "64mb", "--maxmemory-policy", "noeviction") as local:
        LEGS["classroom (ACL users)"] = f"ran against a redis-server with an admin user on 127.0.0.1:{local.port}"
        yield local


@pytest.fixture
def admin_url(server: LocalRedis) -> Iterator[str]:
    """The admin's URL; every user but admin and default, and every key, removed afterwards."""
    url = f"redis://admin:admin-secret@127.0.0.1:{server.port}/0"
    admin = labkit.connect(url)
    yield url
    admin.config_set("maxmemory", "64mb")
    for user in admin.acl_users():
        if user not in ("admin", "default"):
            admin.acl_deluser(user)
    for db in (0, 1):
        client = labkit.connect(url[:-1] + str(db))
        for key in list(client.scan_iter(count=1000)):
            client.delete(key)


@pytest.fixture
def handout(admin_url: str, tmp_path: Path) -> dict[str, str]:
    """alice and bob as a class (through the CLI); their REDIS_URLs from the handout, by learner."""
    roster = tmp_path / "roster.txt"
    roster.write_text("Alice\nBob\n")
    path = tmp_path / "class.csv"
    assert cli.main(["class", "--admin-url", admin_url, "create", "--roster", str(roster), "--handout", str(path)]) == 0
    with path.open(encoding="utf-8-sig") as rows:
        return {row["LABKIT_LEARNER"]: row["REDIS_URL"] for row in csv.DictReader(rows)}


@pytest.fixture
def toy_checks() -> Iterator[tuple[Callable, Callable]]:
    """Two checks of a made-up exercise, removed from the registry afterwards."""
    @checks.exercise("T.1", "a check that passes")
    def passing() -> str:
        return "fine"

    @checks.exercise("T.2", "a check that does not pass yet")
    def failing() -> str:
        raise checks.NotYet("look again")

    yield passing, failing
    for exercise_id in ("T.1", "T.2"):
        checks._registry.pop(exercise_id, None)
        checks._results.pop(exercise_id, None)
