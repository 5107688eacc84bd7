"""A class on a real redis-server: isolation, exact instructor commands, idempotent create, clear errors."""

from __future__ import annotations

import csv
import functools
import io
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

import labkit
from labkit import cli
from labkit.classroom import users
from labkit.classroom.enroll import create_class
from labkit.classroom.handout import learner_url
from labkit.classroom.progress import read_progress
from labkit.classroom.record import ClassRecord
from labkit.classroom.roster import Learner
from labkit.errors import ClassroomError
from labkit.exercises import progress
from tests.support import NOTEBOOKS

OUTSIDE = {"not-the-lab:sentinel": "keep", "lab:not-in-class:x": "keep", "lab:root:progress": "keep",
           "lab:01:legacy": "keep", "lab:learner:x": "keep", "lab:al:x": "keep"}


def _fill(admin: redis.Redis) -> dict[str, str]:
    """Keys of alice, bob and outside the class; returns every key with its value."""
    data = {"lab:alice:01:session:a": "alice's", "lab:alice:progress": "x", "lab:bob:01:session:b": "bob's",
            "lab:bob:03:{board}:weekly": "bob's board", **OUTSIDE}
    admin.mset(data)
    return data


def _everything(admin: redis.Redis) -> dict[str, str]:
    return {key: admin.get(key) for key in admin.scan_iter(count=1000) if admin.type(key) == "string"}


def _class(admin_url: str, *args: str) -> int:
    return cli.main(["class", "--admin-url", admin_url, *args])


def test_handout_urls_connect_as_their_learner_on_database_0(handout: dict[str, str], tmp_path: Path) -> None:
    assert sorted(handout) == ["alice", "bob"]
    for learner, url in handout.items():
        assert url.endswith("/0")
        assert labkit.connect(url).acl_whoami() == f"lab-{learner}"


def test_a_learner_cannot_reach_others_or_stop_the_class(admin_url: str, handout: dict[str, str]) -> None:
    admin = labkit.connect(admin_url)
    before = _fill(admin)
    alice = labkit.connect(handout["alice"])
    alice.set("lab:alice:01:mine", "ok")
    assert alice.get("lab:alice:01:mine") == "ok"
    seen = set(alice.scan_iter(match="lab:bob:*"))  # SCAN shows names, so the values must be out of reach
    assert seen == {"lab:bob:01:session:b", "lab:bob:03:{board}:weekly"}
    attempts = [*[("GET", key) for key in seen], ("SET", "lab:bob:01:session:b", "forged"),
                ("DEL", "lab:bob:01:session:b"), ("GET", "not-the-lab:sentinel"), ("HGETALL", "lab:bob:progress"),
                ("HGETALL", "labkit:class:class"),
                ("RENAME", "lab:bob:01:session:b", "lab:alice:01:stolen"),
                ("COPY", "lab:alice:01:mine", "lab:alice:01:copy", "DB", "1"), ("MOVE", "lab:alice:01:mine", "1"),
                ("SELECT", "1"), ("SWAPDB", "0", "1"), ("FLUSHDB",), ("FLUSHALL",), ("KEYS", "*"),
                ("SORT", "lab:alice:01:list"), ("PUBLISH", "lab:bob:chat", "hi"), ("CONFIG", "GET", "*"),
                ("CONFIG", "SET", "maxmemory", "0"), ("CLIENT", "LIST"), ("CLIENT", "PAUSE", "10000"),
                ("SHUTDOWN",), ("ACL", "SETUSER", "lab-alice", "~*"),
                ("EVAL", "while true do end", "0"), ("SCRIPT", "LOAD", "return 1"), ("SCRIPT", "KILL"),
                ("FUNCTION", "FLUSH"), ("FCALL", "f", "0"), ("MONITOR",)]
    for attempt in attempts:
        with pytest.raises(redis.exceptions.NoPermissionError):
            alice.execute_command(*attempt)
    with pytest.raises(redis.exceptions.ResponseError, match="not allowed"):  # refused before the ACL, too
        alice.execute_command("DEBUG", "SLEEP", "5")
    pubsub = alice.pubsub()
    with pytest.raises(redis.exceptions.NoPermissionError):
        pubsub.subscribe("lab:bob:chat")
        pubsub.get_message(timeout=1)
    assert alice.publish("lab:alice:chat", "hi") == 0  # her own channel is fine
    assert alice.blpop(["lab:alice:01:queue"], timeout=0.01) is None  # blocking commands block only herself
    assert {key: admin.get(key) for key in before} == before, "bob's and outside keys are untouched"


def test_a_learner_runs_the_lab_with_only_the_handout_url(admin_url: str, handout: dict[str, str],
                                                          monkeypatch: pytest.MonkeyPatch, toy_checks,
                                                          capsys: pytest.CaptureFixture) -> None:
    for name in ("LABKIT_LEARNER", "LABKIT_PREFIX", "JUPYTERHUB_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REDIS_URL", handout["bob"])
    lab = labkit.open_lab("02")  # the notebooks' first cell: banner (INFO), SCAN and DEL in the namespace
    assert capsys.readouterr().out.strip().endswith("· learner bob · keys under lab:bob:02:")
    assert lab.prefix == "lab:bob:02:"
    lab.client.set(lab.key("session", "x"), "1", ex=60)
    assert list(lab.keys()) == ["lab:bob:02:session:x"]
    passing, failing = toy_checks
    failing()
    passing()
    admin = users.admin_client(admin_url)
    rows = {row.learner.id: row for row in read_progress(admin, [Learner("Bob", "bob")], ["T.1", "T.2"])}
    assert {e: s.value for e, s in rows["bob"].states.items()} == {"T.1": "passed", "T.2": "attempted"}
    assert rows["bob"].last is not None and abs(rows["bob"].last - time.time()) < 3600, "progress:at read back"


def test_with_allow_scripts_eval_runs_but_still_only_on_her_keys(admin_url: str, tmp_path: Path) -> None:
    path = tmp_path / "class.csv"
    assert _class(admin_url, "create", "--count", "2", "--handout", str(path), "--allow-scripts") == 0
    urls = [row["REDIS_URL"] for row in csv.DictReader(path.open(encoding="utf-8-sig"))]
    one = labkit.connect(urls[0])
    labkit.connect(admin_url).set("lab:learner02:x", "theirs")
    assert one.eval("return redis.call('SET', KEYS[1], 'mine')", 1, "lab:learner01:x") == "OK"
    for attempt in [("EVAL", "return redis.call('GET', KEYS[1])", "1", "lab:learner02:x"),
                    ("EVAL", "return redis.call('GET', 'lab:learner02:x')", "0"), ("SCRIPT", "KILL"),
                    ("SCRIPT", "FLUSH"), ("FUNCTION", "FLUSH")]:
        with pytest.raises(redis.exceptions.ResponseError, match="(?i)permission|can't access"):
            one.execute_command(*attempt)
    assert _class(admin_url, "create", "--count", "2", "--handout", str(path)) == 0  # without the flag: off again
    with pytest.raises(redis.exceptions.NoPermissionError):
        one.eval("return 1", 0)


def test_a_credentials_mismatch_is_caught_when_the_lab_opens(handout: dict[str, str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABKIT_PREFIX", raising=False)
    monkeypatch.setenv("REDIS_URL", handout["alice"])
    monkeypatch.setenv("LABKIT_LEARNER", "bob")
    with pytest.raises(labkit.LabConnectionError,
                       match=r"logs in as 'lab-alice', who may not use keys under lab:bob:01: \(chosen by "
                             r"LABKIT_LEARNER=bob\): set LABKIT_LEARNER=alice"):
        labkit.open_lab("01")


@pytest.mark.parametrize("given", ["*", "", "Ω", "al*", "Alice", "zed", "lab:alice:", "learner"])
def test_instructor_commands_refuse_any_name_but_an_exact_class_learner(
        given: str, admin_url: str, handout: dict[str, str], capsys: pytest.CaptureFixture) -> None:
    admin = labkit.connect(admin_url)
    admin.execute_command("ACL", "SETUSER", "lab-zed", "on", ">theirs", "~lab:zed:*", "+@all")  # not of this class
    before = _fill(admin)
    users_before = admin.acl_users()
    for command in ("reset", "remove"):
        assert _class(admin_url, command, given) == 2
        error = capsys.readouterr().err
        assert "not a learner id of class 'class'" in error and "nothing was" in error
        assert "Give ids exactly as listed: alice, bob" in error
    assert _everything(admin) == before and admin.acl_users() == users_before
    if given == "Alice":
        assert "did you mean 'alice'?" in error


def test_reset_acts_on_exact_learners_and_all_only_on_this_class(admin_url: str, handout: dict[str, str],
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture) -> None:
    admin = labkit.connect(admin_url)
    before = _fill(admin)
    admin.hset("labkit:class:other", "carol", "Carol")
    admin.set("lab:carol:progress", "another class's")
    assert _class(admin_url, "reset", "alice") == 0
    assert _everything(admin) == {k: v for k, v in {**before, "lab:carol:progress": "another class's"}.items()
                                  if not k.startswith("lab:alice:")}
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no one to answer
    assert _class(admin_url, "reset", "--all") == 2
    assert "no answer" in capsys.readouterr().err and admin.exists("lab:bob:01:session:b")
    monkeypatch.setattr("sys.stdin", io.StringIO("no\n"))
    assert _class(admin_url, "reset", "--all") == 2 and admin.exists("lab:bob:01:session:b")
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    capsys.readouterr()
    assert _class(admin_url, "reset", "--all") == 0
    out = capsys.readouterr().out
    assert "reset --all deletes 2 keys of 2 learners of class 'class'" in out and "lab:alice:, lab:bob:" in out
    assert _everything(admin) == {**OUTSIDE, "lab:carol:progress": "another class's"}
    assert _class(admin_url, "reset", "alice", "--all") == 2


def test_remove_deletes_only_the_users_the_lab_made_and_reset_still_finds_them(
        admin_url: str, handout: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    admin = labkit.connect(admin_url)
    admin.execute_command("ACL", "SETUSER", "lab-zed", "on", ">theirs", "~*", "+@all")
    admin.set("lab:bob:01:x", "bob's")
    assert _class(admin_url, "remove", "zed") == 2, "lab-zed is not a learner of this class"
    assert "lab-zed" in admin.acl_users()
    assert _class(admin_url, "remove", "--all", "--yes") == 0
    assert "removed 2 learner users" in capsys.readouterr().out
    assert sorted(admin.acl_users()) == ["admin", "default", "lab-zed"]
    with pytest.raises(labkit.LabConnectionError, match="rejected the login"):
        labkit.connect(handout["bob"])
    assert _class(admin_url, "reset", "--all", "--yes") == 0, "the class record still lists them"
    assert not admin.exists("lab:bob:01:x")
    assert _class(admin_url, "create", "--roster", str(tmp_path / "roster.txt"), "--handout",
                  str(tmp_path / "class.csv")) == 0
    assert labkit.connect(handout["bob"]).acl_whoami() == "lab-bob", "created again, their cards work again"


def test_create_is_idempotent_and_rotates_only_when_asked(admin_url: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "class.csv"
    command = ["create", "--count", "30", "--handout", str(path)]
    assert _class(admin_url, *command) == 0
    first = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert [row["LABKIT_LEARNER"] for row in first] == [f"learner{i:02d}" for i in range(1, 31)]
    assert _class(admin_url, *command) == 0
    assert list(csv.DictReader(path.open(encoding="utf-8-sig"))) == first, "running create again changes nobody"
    assert "0 new, 30 kept their passwords" in capsys.readouterr().out
    assert _class(admin_url, "create", "--count", "31", "--handout", str(path)) == 0  # one more learner
    assert list(csv.DictReader(path.open(encoding="utf-8-sig")))[:30] == first
    assert _class(admin_url, "create", "--count", "2", "--handout", str(path)) == 2
    assert "holds the passwords of learner03" in capsys.readouterr().err
    assert _class(admin_url, "create", "--count", "31", "--handout", str(tmp_path / "new.csv")) == 2
    error = capsys.readouterr().err
    assert "31 learners already have users, but their passwords are not in" in error and "--rotate" in error
    assert _class(admin_url, "create", "--count", "31", "--handout", str(path), "--rotate") == 0
    second = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    with pytest.raises(labkit.LabConnectionError, match="rejected the login"):
        labkit.connect(first[0]["REDIS_URL"])
    assert labkit.connect(second[0]["REDIS_URL"]).ping()


def test_create_refuses_a_user_it_did_not_make_or_another_classs_learner(admin_url: str, tmp_path: Path) -> None:
    admin = users.admin_client(admin_url)
    admin.execute_command("ACL", "SETUSER", "lab-zed", "on", ">theirs", "~*", "+@all")
    before = admin.acl_getuser("lab-zed")
    learners = [Learner("Amy", "amy"), Learner("Zed", "zed")]
    with pytest.raises(ClassroomError, match="'lab-zed' already exists with other keys"):
        create_class(admin, ClassRecord(admin), learners, tmp_path / "c.csv", admin_url)
    assert admin.acl_getuser("lab-zed") == before and admin.acl_getuser("lab-amy") is None
    create_class(admin, ClassRecord(admin, "monday"), learners[:1], tmp_path / "m.csv", admin_url)
    with pytest.raises(ClassroomError, match=r"amy \(class 'monday'\)"):
        create_class(admin, ClassRecord(admin, "tuesday"), learners[:1], tmp_path / "t.csv", admin_url)


def test_create_warns_about_a_server_without_a_memory_limit(admin_url: str, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    admin = labkit.connect(admin_url)
    admin.config_set("maxmemory", "0")
    assert _class(admin_url, "create", "--count", "1", "--handout", str(tmp_path / "c.csv")) == 0
    err = capsys.readouterr().err
    assert "no memory limit (maxmemory 0)" in err and "no aclfile" in err


def test_a_full_server_tells_the_learner_and_keeps_what_is_stored(admin_url: str, handout: dict[str, str],
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("LABKIT_LEARNER", raising=False)
    monkeypatch.delenv("LABKIT_PREFIX", raising=False)
    monkeypatch.setenv("REDIS_URL", handout["alice"])
    admin = labkit.connect(admin_url)
    admin.set("lab:bob:01:kept", "bob's")
    alice = labkit.connect(handout["alice"])
    admin.config_set("maxmemory", str(int(admin.info("memory")["used_memory"]) // 2))  # already over it
    with pytest.raises(redis.exceptions.OutOfMemoryError, match="used memory > 'maxmemory'"):
        alice.set("lab:alice:01:more", "x")  # noeviction: the write is refused, nothing is evicted
    labkit.open_lab("01")
    assert "The class server is full" in capsys.readouterr().out
    assert admin.get("lab:bob:01:kept") == "bob's"


def test_instructor_commands_given_a_learner_url_say_so(handout: dict[str, str],
                                                        capsys: pytest.CaptureFixture) -> None:
    for command in (["progress"], ["reset", "alice"], ["remove", "--all", "--yes"], ["create", "--count", "1",
                                                                                      "--handout", "x.csv"]):
        assert cli.main(["class", "--admin-url", handout["alice"], *command]) == 2
        error = capsys.readouterr().err
        assert "logs in as 'lab-alice', a learner's user (a handout URL); instructor commands need the admin" \
            in error and "Traceback" not in error


def test_a_bad_address_or_database_changes_nothing(admin_url: str, tmp_path: Path, capsys) -> None:
    command = ["create", "--count", "2", "--handout", str(tmp_path / "c.csv")]
    assert _class(admin_url, *command, "--learner-url", "unix:///tmp/redis.sock") == 2
    assert _class(admin_url[:-1] + "1", *command) == 2
    assert "uses database 1, but learners are confined to database 0" in capsys.readouterr().err
    assert labkit.connect(admin_url).acl_users() == ["admin", "default"] and not (tmp_path / "c.csv").exists()


def test_learner_url_keeps_the_address_and_swaps_the_login() -> None:
    alice = Learner("Alice", "alice")
    assert learner_url("rediss://admin:pw@cache.example.com:6380/0", alice, "s3") == \
        "rediss://lab-alice:s3@cache.example.com:6380/0"
    assert learner_url("redis://127.0.0.1:6379/2", alice, "s3") == "redis://lab-alice:s3@127.0.0.1:6379/0"
    with pytest.raises(ClassroomError, match="not a server address learners can use"):
        learner_url("unix:///var/run/redis.sock", alice, "s3")


def test_the_embedded_backend_cannot_host_a_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ClassroomError, match="needs a real Redis: set REDIS_URL"):
        users.admin_client()
    assert cli.main(["class", "progress"]) == 2


def test_every_notebook_runs_as_a_class_learner_and_progress_reads_back_its_checks(
        admin_url: str, handout: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # The ACL rules allow what the lessons use; the checks' records reach the instructor's view.
    for name in ("LABKIT_LEARNER", "LABKIT_PREFIX", "JUPYTERHUB_USER"):
        monkeypatch.delenv(name, raising=False)  # the namespace comes from the handout URL's user
    if not NOTEBOOKS:
        pytest.skip("no notebooks yet")
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(functools.partial(progress.run_notebook, redis_url=handout["bob"]), NOTEBOOKS))
    assert {run.path.name: run.errors for run in runs} == {path.name: [] for path in NOTEBOOKS}
    solved = sorted({exercise for run in runs for exercise in run.checks})
    assert solved and all(run.passed(exercise) for run in runs for exercise in run.checks)
    admin = users.admin_client(admin_url)
    rows = read_progress(admin, [Learner("Alice", "alice"), Learner("Bob", "bob")], solved)
    assert [row.passed for row in rows] == [0, len(solved)]
    assert {key.split(":")[1] for key in admin.scan_iter(count=1000) if key.startswith("lab:")} == {"bob"}


def test_a_class_on_a_cluster_has_its_users_on_every_node(cluster_url: str, tmp_path: Path) -> None:
    # ACL users live per node: a user on one node only could not write keys in other nodes' slots.
    admin = labkit.connect(cluster_url)
    record = ClassRecord(admin, "cluster-test")
    carol = Learner("Carol", "carol")
    try:
        create_class(admin, record, [carol], tmp_path / "c.csv", cluster_url)
        for node in admin.get_nodes():
            assert "lab-carol" in node.redis_connection.acl_users(), f"no lab-carol on {node.name}"
        url = next(csv.DictReader((tmp_path / "c.csv").open(encoding="utf-8-sig")))["REDIS_URL"]
        client = labkit.connect(url)
        for key in [f"lab:carol:01:{n}" for n in range(30)]:  # spread over all three primaries' slots
            client.set(key, "mine")
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.set("lab:dave:01:x", "not mine")
        assert users.remove_users(admin, [carol]) == 1
        assert all("lab-carol" not in node.redis_connection.acl_users() for node in admin.get_nodes())
    finally:
        labkit.Keyspace(admin, carol.prefix).clear()
        users.remove_users(admin, [carol])
        admin.delete(record.key)


def test_a_server_without_acl_commands_is_named_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoAcl:  # as ElastiCache answers: the commands do not exist there
        connection_pool = type("Pool", (), {"connection_kwargs": {"db": 0}})()

        def acl_users(self) -> list:
            raise redis.ResponseError("unknown command 'ACL', with args beginning with: 'USERS'")

    monkeypatch.setattr(users, "connect", lambda url: NoAcl())
    with pytest.raises(ClassroomError, match=r"does not accept the commands a class needs \(ACL, CONFIG\).*ElastiCache"):
        users.admin_client("redis://admin:pw@cache.example.com:6379/0")


def test_a_create_cut_short_leaves_a_handout_the_next_create_honours(admin_url: str, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "class.csv"
    with monkeypatch.context() as patch:
        patch.setattr(users, "set_users", lambda *a, **k: (_ for _ in ()).throw(redis.ConnectionError("gone")))
        assert _class(admin_url, "create", "--count", "2", "--handout", str(path)) == 2
    cards = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert _class(admin_url, "create", "--count", "2", "--handout", str(path)) == 0
    assert list(csv.DictReader(path.open(encoding="utf-8-sig"))) == cards
    assert labkit.connect(cards[1]["REDIS_URL"]).acl_whoami() == "lab-learner02"
