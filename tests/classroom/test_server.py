"""A class on one Redis: learner namespaces, ACL isolation, resets, handouts and recorded progress."""

from __future__ import annotations

import csv
import functools
import getpass
import stat
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

import labkit
from labkit import cli
from labkit.backend.keyspace import current_learner, learner_id, learner_prefix
from labkit.classroom import server as classroom
from labkit.classroom.server import ClassroomError, Learner
from labkit.exercises import checking as checks
from labkit.exercises import progress
from tests.support import LEGS, NOTEBOOKS
from tests.support.servers import LocalRedis, free_port, redis_server_path

needs_server = pytest.mark.skipif(redis_server_path() is None, reason="redis-server not on PATH: ACL tests skipped")
# The instructor's user; the default (passwordless) user is off, as on a class server.
ADMIN_USER = ("--user", "admin", "on", ">admin-secret", "~*", "&*", "+@all", "--user", "default", "off")
OUTSIDE = {"not-the-lab:sentinel": "keep", "lab:not-in-class:x": "keep", "lab:01:legacy": "keep"}


# ---- learner ids and the namespace (no server needed)

@pytest.mark.parametrize("name, expected", [
    ("alice", "alice"), ("Bob Smith", "bob-smith"), ("Ana María", "ana-maria"), ("a*b?[c]:d", "a-b-c-d"),
    ("../etc", "etc"), ("x" * 40, "x" * 32), ("", "learner"),
])
def test_learner_ids_are_safe_in_key_patterns(name: str, expected: str) -> None:
    assert learner_id(name) == expected


def test_namespace_comes_from_setting_then_class_user_then_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABKIT_PREFIX", raising=False)
    monkeypatch.setenv("LABKIT_LEARNER", "Zoë Q")
    monkeypatch.setenv("REDIS_URL", "redis://lab-alice:pw@127.0.0.1:6379/0")
    assert labkit.lab_prefix() == "lab:zoe-q:"
    monkeypatch.delenv("LABKIT_LEARNER")
    assert labkit.lab_prefix() == "lab:alice:"
    monkeypatch.setenv("REDIS_URL", "redis://admin:pw@127.0.0.1:6379/0")
    assert current_learner() == learner_id(getpass.getuser())
    monkeypatch.setattr(getpass, "getuser", lambda: (_ for _ in ()).throw(OSError("no login name")))
    assert current_learner() == "learner"
    monkeypatch.setenv("LABKIT_PREFIX", "course:")
    assert labkit.lab_prefix() == "course:"


def test_learner_prefix_refuses_unsafe_ids() -> None:
    with pytest.raises(ValueError, match="not a safe learner id"):
        learner_prefix("*")


def test_roster_names_map_to_ids_and_bad_rosters_are_named(tmp_path: Path) -> None:
    roster = tmp_path / "roster.txt"
    roster.write_text("# class of 2024\nAlice\n\n  Bob Smith  \n")
    assert classroom.read_roster(roster) == [Learner("Alice", "alice"), Learner("Bob Smith", "bob-smith")]
    roster.write_text("Ana Maria\nana-maria\n")
    with pytest.raises(ClassroomError, match=r"roster.txt:1 'Ana Maria' and .*roster.txt:2 'ana-maria' would share"):
        classroom.read_roster(roster)
    roster.write_text("Alice\n李\n")
    with pytest.raises(ClassroomError, match=r"roster.txt:2: '李' has no letters or digits"):
        classroom.read_roster(roster)
    roster.write_text("# nobody yet\n")
    with pytest.raises(ClassroomError, match="names nobody"):
        classroom.read_roster(roster)
    with pytest.raises(ClassroomError, match="cannot read the roster"):
        classroom.read_roster(tmp_path / "missing.txt")
    assert [learner.id for learner in classroom.numbered(3)] == ["learner01", "learner02", "learner03"]
    with pytest.raises(ClassroomError, match="from 1 to 1000"):
        classroom.numbered(0)


def test_learner_url_keeps_the_address_and_swaps_the_login() -> None:
    alice = Learner("Alice", "alice")
    assert classroom.learner_url("rediss://admin:pw@cache.example.com:6380/0", alice, "s3") == \
        "rediss://lab-alice:s3@cache.example.com:6380/0"
    assert classroom.learner_url("redis://127.0.0.1:6379/2", alice, "s3") == "redis://lab-alice:s3@127.0.0.1:6379/2"
    with pytest.raises(ClassroomError, match="not a server address learners can use"):
        classroom.learner_url("unix:///var/run/redis.sock", alice, "s3")


def test_progress_table_marks_pass_not_yet_and_not_run() -> None:
    table = classroom.progress_table({"bob": {"01.1": False}, "alice": {"01.1": True, "02.1": True}},
                                     ["01.1", "01.2", "02.1"])
    assert table.splitlines() == [
        "learner  01.1  01.2  02.1  passed",
        "alice     ✓     ·     ✓    2/3",
        "bob       ✗     ·     ·    0/3",
        "✓ passes   ✗ not yet   · not run",
    ]


def test_the_embedded_backend_cannot_host_a_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ClassroomError, match="needs a real Redis: set REDIS_URL"):
        classroom.admin_client()
    assert cli.main(["class", "progress"]) == 2


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


def test_checks_record_progress_on_the_embedded_backend(monkeypatch: pytest.MonkeyPatch, toy_checks) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("LABKIT_LEARNER", "progress-test")
    client = labkit.connect()
    client.delete("lab:progress-test:progress")
    passing, failing = toy_checks
    failing()
    passing()
    assert classroom.read_progress(client, ["progress-test"]) == {"progress-test": {"T.1": True, "T.2": False}}
    client.delete("lab:progress-test:progress")


def test_checks_never_fail_when_redis_is_unreachable(monkeypatch: pytest.MonkeyPatch, toy_checks,
                                                     capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    passing, failing = toy_checks
    started = time.perf_counter()
    assert passing() and not failing() and passing()
    assert time.perf_counter() - started < 3, "an unreachable Redis is tried once, with a short timeout"
    assert capsys.readouterr().out.splitlines() == [
        "✓ Exercise T.1 passed: fine", "✗ Exercise T.2, not yet: look again", "✓ Exercise T.1 passed: fine"]


# ---- a class on a real redis-server

@pytest.fixture(scope="module")
def server() -> Iterator[LocalRedis]:
    if redis_server_path() is None:
        LEGS["classroom (ACL users)"] = "SKIPPED: redis-server not on PATH (apt-get install redis-server)"
        pytest.skip("redis-server not on PATH: ACL tests skipped")
    with LocalRedis(*ADMIN_USER) as local:
        LEGS["classroom (ACL users)"] = f"ran against a redis-server with an admin user on 127.0.0.1:{local.port}"
        yield local


@pytest.fixture
def admin_url(server: LocalRedis) -> Iterator[str]:
    url = f"redis://admin:admin-secret@127.0.0.1:{server.port}/0"
    admin = labkit.connect(url)
    yield url
    for user in admin.acl_users():
        if user.startswith(classroom.USER_PREFIX):
            admin.acl_deluser(user)
    for key in list(admin.scan_iter(count=1000)):
        admin.delete(key)


@pytest.fixture
def handout(admin_url: str, tmp_path: Path) -> dict[str, str]:
    """alice and bob as a class (through the CLI); their REDIS_URLs from the handout, by learner."""
    roster = tmp_path / "roster.txt"
    roster.write_text("Alice\nBob\n")
    path = tmp_path / "class.csv"
    assert cli.main(["class", "--admin-url", admin_url, "create", "--roster", str(roster), "--handout", str(path)]) == 0
    with path.open() as rows:
        return {row["LABKIT_LEARNER"]: row["REDIS_URL"] for row in csv.DictReader(rows)}


def _fill(admin: redis.Redis) -> dict[str, str]:
    """Keys of alice, bob and outside the class; returns every key with its value."""
    data = {"lab:alice:01:session:a": "alice's", "lab:alice:progress": "x", "lab:bob:01:session:b": "bob's",
            "lab:bob:03:{board}:weekly": "bob's board", **OUTSIDE}
    admin.mset(data)
    return data


def _everything(admin: redis.Redis) -> dict[str, str]:
    return {key: admin.get(key) for key in admin.scan_iter(count=1000)}


@needs_server
def test_handout_urls_connect_as_their_learner(handout: dict[str, str], tmp_path: Path) -> None:
    assert sorted(handout) == ["alice", "bob"]
    for learner, url in handout.items():
        client = labkit.connect(url)
        assert client.acl_whoami() == f"lab-{learner}"
    assert stat.S_IMODE((tmp_path / "class.csv").stat().st_mode) == 0o600, "the handout holds passwords"


@needs_server
def test_a_learner_cannot_read_or_write_another_learners_keys(admin_url: str, handout: dict[str, str]) -> None:
    admin = labkit.connect(admin_url)
    before = _fill(admin)
    alice = labkit.connect(handout["alice"])
    alice.set("lab:alice:01:mine", "ok")
    assert alice.get("lab:alice:01:mine") == "ok"
    seen = set(alice.scan_iter(match="lab:bob:*"))  # SCAN shows names, so the values must be out of reach
    assert seen == {"lab:bob:01:session:b", "lab:bob:03:{board}:weekly"}
    attempts = [*[("GET", key) for key in seen], ("SET", "lab:bob:01:session:b", "forged"),
                ("DEL", "lab:bob:01:session:b"), ("GET", "not-the-lab:sentinel"), ("HGETALL", "lab:bob:progress"),
                ("RENAME", "lab:bob:01:session:b", "lab:alice:01:stolen"),
                ("COPY", "lab:bob:01:session:b", "lab:alice:01:copied"), ("FLUSHDB",), ("FLUSHALL",),
                ("KEYS", "*"), ("PUBLISH", "lab:bob:chat", "hi"), ("CONFIG", "GET", "*"), ("CLIENT", "LIST"),
                ("ACL", "SETUSER", "lab-alice", "~*"), ("FUNCTION", "FLUSH"), ("SCRIPT", "FLUSH")]
    for attempt in attempts:
        with pytest.raises(redis.exceptions.NoPermissionError):
            alice.execute_command(*attempt)
    pubsub = alice.pubsub()
    with pytest.raises(redis.exceptions.NoPermissionError):
        pubsub.subscribe("lab:bob:chat")
        pubsub.get_message(timeout=1)
    assert alice.publish("lab:alice:chat", "hi") == 0  # her own channel is fine
    assert {key: admin.get(key) for key in before} == before, "bob's and outside keys are untouched"


@needs_server
def test_a_learner_runs_the_lab_with_only_the_handout_url(admin_url: str, handout: dict[str, str],
                                                          monkeypatch: pytest.MonkeyPatch, toy_checks) -> None:
    monkeypatch.delenv("LABKIT_LEARNER", raising=False)
    monkeypatch.delenv("LABKIT_PREFIX", raising=False)
    monkeypatch.setenv("REDIS_URL", handout["bob"])
    lab = labkit.open_lab("02")  # the notebooks' first cell: banner (INFO), SCAN and DEL in the namespace
    assert lab.prefix == "lab:bob:02:"
    lab.client.set(lab.key("session", "x"), "1", ex=60)
    assert list(lab.keys()) == ["lab:bob:02:session:x"]
    passing, failing = toy_checks
    failing()
    passing()
    failing()
    admin = classroom.admin_client(admin_url)
    assert classroom.read_progress(admin, ["alice", "bob"]) == {"alice": {}, "bob": {"T.1": True, "T.2": False}}


@needs_server
def test_progress_command_shows_what_each_learners_checks_recorded(admin_url: str, handout: dict[str, str],
                                                                   capsys: pytest.CaptureFixture) -> None:
    admin = labkit.connect(admin_url)
    labkit.connect(handout["alice"]).hset("lab:alice:progress", mapping={"01.1": "pass", "01.2": "not yet"})
    capsys.readouterr()
    assert cli.main(["class", "--admin-url", admin_url, "progress"]) == 0
    table = capsys.readouterr().out.splitlines()
    columns = table[0].split()
    alice, bob = (dict(zip(columns, row.split())) for row in table[1:3])
    assert (alice["learner"], alice["01.1"], alice["01.2"]) == ("alice", "✓", "✗")
    assert bob["learner"] == "bob" and {bob[c] for c in columns[1:-1]} == {"·"}
    assert admin.hgetall("lab:alice:progress") == {"01.1": "pass", "01.2": "not yet"}


@needs_server
def test_reset_one_learner_leaves_every_other_key_intact(admin_url: str, handout: dict[str, str]) -> None:
    admin = labkit.connect(admin_url)
    before = _fill(admin)
    assert cli.main(["class", "--admin-url", admin_url, "reset", "Alice"]) == 0
    after = _everything(admin)
    assert after == {k: v for k, v in before.items() if not k.startswith("lab:alice:")}
    assert cli.main(["class", "--admin-url", admin_url, "reset", "--all"]) == 0
    assert _everything(admin) == OUTSIDE, "the whole class is cleared, and nothing outside it"
    assert cli.main(["class", "--admin-url", admin_url, "reset", "alice", "--all"]) == 2


@needs_server
def test_create_refuses_to_take_over_a_user_that_is_not_a_lab_user(admin_url: str) -> None:
    admin = labkit.connect(admin_url)
    admin.execute_command("ACL", "SETUSER", "lab-zed", "on", ">theirs", "~*", "+@all")
    before = admin.acl_getuser("lab-zed")
    with pytest.raises(ClassroomError, match="'lab-zed' already exists with other keys"):
        classroom.create_users(admin, [Learner("Amy", "amy"), Learner("Zed", "zed")])
    assert admin.acl_getuser("lab-zed") == before and admin.acl_getuser("lab-amy") is None


@needs_server
def test_create_a_numbered_class_and_rotate_remove(admin_url: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "class.csv"
    command = ["--admin-url", admin_url, "create", "--count", "30", "--handout", str(path)]
    assert cli.main(["class", *command]) == 0
    first = list(csv.DictReader(path.open()))
    assert [row["LABKIT_LEARNER"] for row in first] == [f"learner{i:02d}" for i in range(1, 31)]
    assert cli.main(["class", *command]) == 2, "an existing handout is not overwritten"
    assert "exists" in capsys.readouterr().err
    assert cli.main(["class", *command, "--force"]) == 0  # re-creating rotates the passwords
    second = list(csv.DictReader(path.open()))
    with pytest.raises(labkit.LabConnectionError, match="rejected the login"):
        labkit.connect(first[0]["REDIS_URL"])
    assert labkit.connect(second[0]["REDIS_URL"]).ping()
    assert cli.main(["class", "--admin-url", admin_url, "remove", "--all"]) == 0
    with pytest.raises(labkit.LabConnectionError, match="rejected the login"):
        labkit.connect(second[29]["REDIS_URL"])
    assert "removed 30 learner users" in capsys.readouterr().out


@needs_server
def test_a_bad_learner_address_changes_nothing(admin_url: str, tmp_path: Path) -> None:
    command = ["--admin-url", admin_url, "create", "--count", "2", "--handout", str(tmp_path / "c.csv")]
    assert cli.main(["class", *command, "--learner-url", "unix:///tmp/redis.sock"]) == 2
    assert labkit.connect(admin_url).acl_users() == ["admin", "default"] and not (tmp_path / "c.csv").exists()


@needs_server
def test_a_learner_url_cannot_act_as_instructor(handout: dict[str, str]) -> None:
    learner_as_admin = labkit.connect(handout["alice"])
    with pytest.raises(ClassroomError, match="may not manage Redis users"):
        classroom.create_users(learner_as_admin, [Learner("Eve", "eve")])


@needs_server
def test_every_notebook_runs_as_a_class_learner_and_progress_reads_back_its_checks(
        admin_url: str, handout: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # The ACL rules allow what the lessons use; the checks' records reach the instructor's view.
    monkeypatch.delenv("LABKIT_LEARNER", raising=False)  # the namespace comes from the handout URL's user
    monkeypatch.delenv("LABKIT_PREFIX", raising=False)
    notebooks = NOTEBOOKS
    if not notebooks:
        pytest.skip("no notebooks yet")
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(functools.partial(progress.run_notebook, redis_url=handout["bob"]), notebooks))
    assert {run.path.name: run.errors for run in runs} == {path.name: [] for path in notebooks}
    solved = {exercise for run in runs for exercise in run.checks}
    assert solved and all(run.passed(exercise) for run in runs for exercise in run.checks)
    admin = labkit.connect(admin_url)
    assert classroom.read_progress(admin, ["alice", "bob"]) == {"alice": {}, "bob": dict.fromkeys(solved, True)}
    assert {key.split(":")[1] for key in admin.scan_iter(count=1000)} == {"bob"}, "bob wrote only in lab:bob:"


@needs_server
def test_a_class_on_a_cluster_has_its_users_on_every_node(cluster_url: str) -> None:
    # ACL users live per node: a user on one node only could not write keys in other nodes' slots.
    admin = labkit.connect(cluster_url)
    learners = [Learner("Carol", "carol")]
    passwords = classroom.create_users(admin, learners)
    try:
        for node in admin.get_nodes():
            assert "lab-carol" in node.redis_connection.acl_users(), f"no lab-carol on {node.name}"
        url = classroom.learner_url(cluster_url, learners[0], passwords["carol"])
        carol = labkit.connect(url)
        keys = [f"lab:carol:01:{n}" for n in range(30)]  # spread over all three primaries' slots
        for key in keys:
            carol.set(key, "mine")
        with pytest.raises(redis.exceptions.NoPermissionError):
            carol.set("lab:dave:01:x", "not mine")
        assert classroom.remove_users(admin, ["carol"]) == 1
        assert all("lab-carol" not in node.redis_connection.acl_users() for node in admin.get_nodes())
    finally:
        classroom.reset(admin, ["carol"])
        classroom.remove_users(admin, ["carol"])
