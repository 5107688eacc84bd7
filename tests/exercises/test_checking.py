"""The check framework: every outcome is one line, errors are blamed on whoever made them, nothing leaks.

Learners' answers are compiled as notebook cells are (an ipykernel cell file name, the source in
linecache), so the line a hint names is checked exactly.
"""

from __future__ import annotations

import itertools
import linecache
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import labkit
from labkit import Fleet, MemorySessionStore, Traffic
from labkit.exercises import checking
from labkit.exercises.checking import (
    NOT_STARTED,
    NOT_YET,
    PASS,
    CheckResult,
    NotYet,
    call,
    collect_failures,
    exercise,
    progress_at_key,
    progress_key,
    registry,
    results,
)

_cells = itertools.count(1)


def cell(source: str, **names: Any) -> dict[str, Any]:
    """Run `source` as a notebook cell would be run (with `names` defined before); return its names."""
    filename = f"/tmp/ipykernel_4242/{next(_cells)}.py"
    lines = [line + "\n" for line in source.splitlines()]
    linecache.cache[filename] = (len(source), None, lines, filename)
    namespace: dict[str, Any] = {"MemorySessionStore": MemorySessionStore, "Fleet": Fleet, **names}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - the test's own learner code
    return namespace


def answer(source: str, name: str = "answer", **names: Any) -> Callable[..., Any]:
    """The function (or other object) called `name` that the cell `source` defines."""
    return cell(source, **names)[name]


# -- toy checks, made like the lab's (registered under ids T.*, removed afterwards) -------------------
@pytest.fixture(autouse=True)
def forget_toy_checks() -> Iterator[None]:
    yield
    for exercise_id in [e for e in checking._registry if e.startswith("T.")]:
        checking._registry.pop(exercise_id, None)
        checking._results.pop(exercise_id, None)


def make_checks() -> dict[str, Callable[..., CheckResult]]:
    @exercise("T.1", "returns 42")
    def check_returns_42(function: Callable[[], object]) -> str:
        value = function()  # called directly: the framework still says whose error it is
        if value != 42:
            raise NotYet(f"your function returned {value!r}; return 42.")
        return "it returned 42"

    @exercise("T.2", "called through call()")
    def check_called(function: Callable[[int], object]) -> str:
        value = call(function, 3)
        if value != 6:
            raise NotYet(f"f(3) returned {value!r}; double it.")
        return "f(3) == 6"

    @exercise("T.3", "a check with a bug of its own")
    def check_buggy(function: Callable[[], object]) -> str:
        call(function)
        return {"a": 1}["missing"]  # type: ignore[return-value]

    @exercise("T.4", "a check whose library call fails")
    def check_library_fails(function: Callable[[], object]) -> str:
        import json
        return json.loads("{not json")

    @exercise("T.5", "a fleet on the learner's store")
    def check_fleet(factory: Callable[[str], object]) -> str:
        fleet = Fleet(servers=3, policy="round_robin", store_factory=factory, seed=1)  # type: ignore[arg-type]
        with collect_failures() as failures:
            records = fleet.run(300, Traffic(users=20, seed=1))
        if failures:
            raise NotYet(failures.summary(len(records)))
        return f"{len(records)} requests served"

    @exercise("T.6", "learner code in threads")
    def check_threads(work: Callable[[], object]) -> str:
        with collect_failures() as failures:
            threads = [threading.Thread(target=work) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        if failures:
            raise NotYet(failures.summary(len(threads), "threads"))
        return "4 threads ran"

    return {"T.1": check_returns_42, "T.2": check_called, "T.3": check_buggy, "T.4": check_library_fails,
            "T.5": check_fleet, "T.6": check_threads}


BROKEN_STORE = """\
class SharedStore:
    sessions = {}
    def create(self, data):
        return self.sessions.setdefault("x", data) and "x"
    def get(self, session_id):
        return self.sessions[session_id]["missing key"]
    def save(self, session_id, data):
        pass
    def delete(self, session_id):
        return True
answer = lambda name: SharedStore()"""

# exercise, answer's source (defines `answer`), expected line (exactly, or with "..." for any text)
CASES = [
    pytest.param("T.1", "def answer():\n    return 42", "✓ Exercise T.1 passed: it returned 42", id="pass"),
    pytest.param("T.1", "def answer():\n    return 41",
                 "✗ Exercise T.1, not yet: your function returned 41; return 42.", id="not yet"),
    pytest.param("T.1", "def answer():\n    raise NotImplementedError  # your code here",
                 f"✗ Exercise T.1, not yet: {checking.STUB_HINT}", id="stub"),
    pytest.param("T.2", "def answer(x):\n    raise NotImplementedError", f"✗ Exercise T.2, not yet: {checking.STUB_HINT}",
                 id="stub through call"),
    pytest.param("T.1", "def answer():\n    total = 84\n    return total / 0",
                 "✗ Exercise T.1, not yet: your code raised ZeroDivisionError at line 3 of your cell "
                 "(`return total / 0`): division by zero", id="learner's line"),
    pytest.param("T.1", "import json\ndef answer():\n    return json.loads('{')",
                 "✗ Exercise T.1, not yet: your code raised JSONDecodeError at line 3 of your cell "
                 "(`return json.loads('{')`): Expecting property name enclosed in double quotes: line 1 "
                 "column 2 (char 1)", id="raised deep in the stdlib, blamed at the learner's line"),
    pytest.param("T.1", "def answer():\n    return Fleet(servers=0)",
                 "✗ Exercise T.1, not yet: your code raised BadArgument at line 2 of your cell "
                 "(`return Fleet(servers=0)`): a fleet needs at least one server, not 0",
                 id="raised inside labkit, blamed at the learner's line"),
    pytest.param("T.1", "def helper():\n    return [][0]\n\ndef answer():\n    return helper()",
                 "✗ Exercise T.1, not yet: your code raised IndexError at line 2 of your cell (`return [][0]`): "
                 "list index out of range", id="innermost learner frame"),
    pytest.param("T.2", "answer = str.upper",
                 "✗ Exercise T.2, not yet: calling your upper(...) raised TypeError: descriptor 'upper' for "
                 "'str' objects doesn't apply to a 'int' object", id="a builtin: no learner frame, still theirs"),
    pytest.param("T.2", "answer = MemorySessionStore",
                 "✗ Exercise T.2, not yet: calling your MemorySessionStore(...) raised TypeError: "
                 "MemorySessionStore.__init__() takes 1 positional argument but 2 were given",
                 id="a class: no learner frame, still theirs"),
    pytest.param("T.2", "answer = lambda x: x + x", "✓ Exercise T.2 passed: f(3) == 6", id="call passes"),
    pytest.param("T.3", "def answer():\n    return None",
                 "✗ Exercise T.3, not yet: the check itself failed (KeyError in test_checking.py line ...: "
                 "'missing'), please tell your instructor.", id="the check's own bug"),
    pytest.param("T.4", "def answer():\n    return None",
                 "✗ Exercise T.4, not yet: the check itself failed (JSONDecodeError in test_checking.py line ...: "
                 "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)), please tell "
                 "your instructor.", id="the check's library call"),
    pytest.param("T.5", "answer = lambda name: MemorySessionStore",
                 "✗ Exercise T.5, not yet: 300 of 300 requests failed: TypeError: MemorySessionStore.create() "
                 "missing 1 required positional argument: 'data'", id="flood without a learner frame"),
    pytest.param("T.5", BROKEN_STORE,
                 "✗ Exercise T.5, not yet: 280 of 300 requests failed: KeyError: 'missing key' "
                 "(the first at line 6 of your cell (`return self.sessions[session_id][\"missing key\"]`))",
                 id="flood from the learner's store, with their line"),
    pytest.param("T.5", "shared = MemorySessionStore()\nanswer = lambda name: shared",
                 "✓ Exercise T.5 passed: 300 requests served", id="no flood"),
    pytest.param("T.6", "def answer():\n    raise ValueError('bad thread')",
                 "✗ Exercise T.6, not yet: 4 of 4 threads failed: ValueError: bad thread (the first at line 2 "
                 "of your cell (`raise ValueError('bad thread')`))", id="threads"),
]


def matches(line: str, expected: str) -> bool:
    """`expected` with '...' standing for any text."""
    import re
    return re.fullmatch(".*".join(map(re.escape, expected.split("..."))), line) is not None


@pytest.mark.parametrize("exercise_id, source, expected", CASES)
def test_every_outcome_is_one_line_blaming_the_right_code(exercise_id: str, source: str, expected: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    check = make_checks()[exercise_id]
    result = check(answer(source))
    out, err = capsys.readouterr()
    assert out == result.message + "\n", "a check prints exactly its one line"
    assert matches(result.message, expected), result.message
    assert err == "", "nothing reaches stderr: no traceback, no Flask log"
    assert bool(result) is result.message.startswith("✓")
    assert results()[exercise_id] == result and registry()[exercise_id]


def test_failures_outside_a_check_still_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    """Outside a check an app server's failure is logged (and a check's collecting is undone)."""
    make_checks()["T.5"](answer("answer = lambda name: MemorySessionStore"))
    fleet = Fleet(servers=1, store_factory=answer("answer = lambda name: MemorySessionStore"))
    with caplog.at_level("ERROR", logger="labkit.app"):
        record = fleet.login("ada")
    assert record.status == 500 and "the server failed: TypeError" in record.body
    assert "POST /login failed: TypeError" in caplog.text
    assert threading.excepthook is not checking._thread_failed


def test_collecting_nests_and_gives_each_failure_to_the_innermost() -> None:
    broken = Fleet(servers=1, store_factory=answer("answer = lambda name: None"))
    with collect_failures() as outer:
        broken.login("a")
        with collect_failures() as inner:
            broken.login("b")
            broken.login("c")
        broken.login("d")
    assert (len(outer), len(inner)) == (2, 2)
    assert inner.summary(2, "logins").startswith("2 of 2 logins failed: AttributeError: 'NoneType' object has no "
                                                 "attribute 'create'")
    assert not checking._collecting, "every collection was closed"


@pytest.mark.parametrize("prefix, progress, at", [
    (None, "lab:nbval-checks:progress", "lab:nbval-checks:progress:at"),
    ("lab:alice:", "lab:alice:progress", "lab:alice:progress:at"),
    ("", "progress", "progress:at"),
])
def test_progress_keys(monkeypatch: pytest.MonkeyPatch, prefix: str | None, progress: str, at: str) -> None:
    monkeypatch.delenv("LABKIT_PREFIX", raising=False)
    monkeypatch.setenv("LABKIT_LEARNER", "nbval-checks")
    assert (progress_key(prefix), progress_at_key(prefix)) == (progress, at)


def test_each_check_records_its_verdict_and_when(backend_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both hashes are written on every backend (on a cluster they may sit in two slots)."""
    monkeypatch.setenv("REDIS_URL", backend_url)
    monkeypatch.delenv("LABKIT_PREFIX", raising=False)
    monkeypatch.setenv("LABKIT_LEARNER", "progress-at-test")
    client = labkit.connect()
    client.delete(progress_key(), progress_at_key())
    checks = make_checks()
    before = int(time.time())
    checks["T.1"](answer("def answer():\n    return 42"))
    checks["T.2"](answer("def answer(x):\n    raise NotImplementedError"))
    checks["T.3"](answer("def answer():\n    return None"))
    after = int(time.time())
    assert client.hgetall(progress_key()) == {"T.1": PASS, "T.2": NOT_STARTED, "T.3": NOT_YET}
    when = client.hgetall(progress_at_key())
    assert sorted(when) == ["T.1", "T.2", "T.3"]
    assert all(value.isdigit() and before <= int(value) <= after for value in when.values()), when
    client.delete(progress_key(), progress_at_key())


def test_an_unreachable_redis_neither_fails_nor_slows_the_checks(monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support.servers import free_port
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    checks = make_checks()
    started = time.perf_counter()
    results_seen = [bool(checks["T.1"](answer("def answer():\n    return 42"))) for _ in range(3)]
    assert results_seen == [True] * 3
    assert time.perf_counter() - started < 3, "an unreachable Redis is tried once, with a short timeout"
    assert capsys.readouterr().out.count("✓ Exercise T.1 passed") == 3
