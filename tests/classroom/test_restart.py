"""A class server that survives a restart: users in an aclfile the classroom commands keep saved."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import labkit
from labkit import cli
from tests.support.servers import LocalRedis, redis_server_path

pytestmark = pytest.mark.skipif(redis_server_path() is None, reason="redis-server not on PATH")


def _server(folder: Path, port: int | None = None) -> LocalRedis:
    """The guide's class server: aclfile, append-only file, memory limit, in `folder` (kept across restarts)."""
    return LocalRedis("--dir", str(folder), "--aclfile", str(folder / "users.acl"), "--appendonly", "yes",
                      "--maxmemory", "64mb", "--maxmemory-policy", "noeviction", port=port)


def test_a_restart_keeps_the_handouts_passwords_and_the_class(tmp_path: Path) -> None:
    data = tmp_path / "redis"
    data.mkdir()
    (data / "users.acl").write_text("user admin on >admin-secret ~* &* +@all\nuser default off\n")
    server = _server(data).start()
    admin_url = f"redis://admin:admin-secret@127.0.0.1:{server.port}/0"
    try:
        handout = tmp_path / "class.csv"
        roster = tmp_path / "roster.txt"
        roster.write_text("Søren Kierkegaard\nAna María\n", encoding="utf-8")
        assert cli.main(["class", "--admin-url", admin_url, "create", "--roster", str(roster),
                         "--handout", str(handout)]) == 0
        urls = {row["LABKIT_LEARNER"]: row["REDIS_URL"] for row in csv.DictReader(handout.open(encoding="utf-8-sig"))}
        labkit.connect(urls["ana-maria"]).set("lab:ana-maria:01:work", "kept")
        assert "user lab-ana-maria on" in (data / "users.acl").read_text()
    finally:
        server.stop()
    server = _server(data, port=server.port).start()
    try:
        ana = labkit.connect(urls["ana-maria"])
        assert ana.acl_whoami() == "lab-ana-maria" and ana.get("lab:ana-maria:01:work") == "kept"
        assert labkit.connect(urls["soren-kierkegaard"]).ping()
        assert cli.main(["class", "--admin-url", admin_url, "remove", "--all", "--yes"]) == 0
        assert "lab-ana-maria" not in (data / "users.acl").read_text(), "remove saves the aclfile too"
    finally:
        server.stop()
