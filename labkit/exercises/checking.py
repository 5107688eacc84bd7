"""Exercise checks: each prints one specific line, passed or what to look at next.

A check is a function decorated with `@exercise("01.2", "title")`. It raises `NotYet("hint")`
when the learner's answer is not right yet, and returns a short description of what passed.
Calling it never raises and never prints a traceback:

- a stub (`NotImplementedError`) says the exercise cell still has its stub;
- an exception raised in the learner's code is reported as theirs, with their line
  ("your code raised ZeroDivisionError at line 3 of your cell (`...`): division by zero");
- an exception from the check's own internals is reported as the check's, never the learner's
  ("the check itself failed (...), please tell your instructor");
- errors the learner's code causes where they cannot stop the check (a Flask request that fails
  inside an app server, an exception in a thread) are collected, not printed: `collect_failures()`
  gives them to the check, which sums them up in one line with `Failures.summary`.

A check calls the learner's functions through `call(...)`, so that even an exception raised
without a frame of their code (they passed a class, or a builtin, where a function was asked
for) is reported as theirs.

Each run is also recorded, best effort, on the lab's Redis in the learner's namespace: the hash
`<prefix>progress` maps exercise id to "pass" or "not yet" (the instructor's class progress view
reads it), and the hash `<prefix>progress:at` maps exercise id to the time of the learner's last
check of it, in whole seconds since the Unix epoch by the learner's clock. An unreachable Redis
never fails or slows a check more than once per process.
"""

from __future__ import annotations

import functools
import linecache
import logging
import os
import re
import sysconfig
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from labkit.backend.connection import Client, connect
from labkit.backend.keyspace import lab_prefix
from labkit.config import redis_url

__all__ = [
    "NOT_STARTED",
    "NOT_YET",
    "PASS",
    "CheckResult",
    "Failures",
    "NotYet",
    "call",
    "collect_failures",
    "describe_error",
    "exercise",
    "progress_at_key",
    "progress_key",
    "registry",
    "results",
]

PASS, NOT_YET, NOT_STARTED = "pass", "not yet", "not started"  # the values recorded in the progress hash
PROGRESS_TIMEOUT = 0.5  # seconds: recording must never hold up a check for long
STUB_HINT = ("the exercise cell above still has its stub; replace `raise NotImplementedError` with your "
             "code and run it again.")
MESSAGE_CHARS = 160  # an exception's message is cut to this many characters in a hint
CODE_CHARS = 60  # and the learner's line of code shown with it
T = TypeVar("T")

_LABKIT = str(Path(__file__).resolve().parent.parent) + os.sep
_LIBRARIES = tuple({str(Path(p).resolve()) + os.sep for key in ("stdlib", "platstdlib", "purelib", "platlib")
                    if (p := sysconfig.get_paths().get(key))})
_CELL_FILE = re.compile(r"(ipykernel_\d+[\\/]\d+\.py|<ipython-input-[^>]*>|<cell[^>]*>)$")


class NotYet(Exception):
    """The learner's answer is not right yet; the message is the hint they see."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: which exercise, whether it passed, the line shown."""

    exercise: str
    passed: bool
    message: str
    stub: bool = False  # the exercise cell still held its stub: recorded as not started

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return self.message

    def _ipython_display_(self) -> None:
        """Shown already (the check prints its line), so a cell ending in a check shows it once."""


_registry: dict[str, str] = {}
_results: dict[str, CheckResult] = {}
_progress_clients: dict[str, Client | None] = {}  # by REDIS_URL; None: unreachable, not retried
_check_files: set[str] = set()  # files holding checks: their frames are the check's, never the learner's


# -- whose code is it? ----------------------------------------------------------------------------
def _is_learner_file(filename: str) -> bool:
    """Code the learner wrote: a notebook cell or a file of theirs, not labkit, a check or a library."""
    if filename in _check_files:
        return False
    if _CELL_FILE.search(filename):
        return True
    if filename.startswith("<"):  # <frozen ...>, <string> made by a library
        return False
    path = str(Path(filename).resolve())
    return not path.startswith(_LABKIT) and not _in_library(path)


def _in_library(path: str) -> bool:
    return any(path.startswith(lib) for lib in _LIBRARIES)


def _learner_frame(tb: TracebackType | None) -> TracebackType | None:
    """The innermost traceback entry in the learner's own code, or None."""
    found = None
    while tb is not None:
        if _is_learner_file(tb.tb_frame.f_code.co_filename):
            found = tb
        tb = tb.tb_next
    return found


def _innermost(tb: TracebackType | None) -> TracebackType | None:
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb


def _innermost_of_the_check(tb: TracebackType | None) -> TracebackType | None:
    """The innermost entry outside the libraries (labkit's or the check's own code), else the innermost."""
    found = last = None
    while tb is not None:
        last = tb
        if not _in_library(str(Path(tb.tb_frame.f_code.co_filename).resolve())):
            found = tb
        tb = tb.tb_next
    return found or last


def _message(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS - 3] + "..."


def _where(tb: TracebackType) -> str:
    """'line 3 of your cell (`return 1 / 0`)' for an entry in the learner's code."""
    filename, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
    place = "your cell" if _CELL_FILE.search(filename) else Path(filename).name
    code = linecache.getline(filename, line, tb.tb_frame.f_globals).strip()
    if len(code) > CODE_CHARS:
        code = code[:CODE_CHARS - 3] + "..."
    return f"line {line} of {place}" + (f" (`{code}`)" if code else "")


def describe_error(error: BaseException) -> str:
    """One line naming an exception and, when it came from the learner's code, their line."""
    frame = _learner_frame(error.__traceback__)
    where = f" at {_where(frame)}" if frame is not None else ""
    return f"{type(error).__name__}{where}: {_message(error)}"


def _is_stub(error: BaseException) -> bool:
    """A `raise NotImplementedError` in the learner's code (not one raised inside a library)."""
    if not isinstance(error, NotImplementedError):
        return False
    last = _innermost(error.__traceback__)
    return last is None or _is_learner_file(last.tb_frame.f_code.co_filename)


class _LearnerError(NotYet):
    """The learner's code raised: the hint names the exception and their line."""


class _Stub(_LearnerError):
    """The learner's code is still the exercise's stub (`raise NotImplementedError`)."""


def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call the learner's `function`: whatever it raises stops the check as the learner's error.

    A stub's NotImplementedError says the stub is still there; any other exception gives the
    hint "your code raised X at line N of your cell: ...", or, when no line of theirs is in the
    traceback (they passed a class or a builtin), "calling your NAME(...) raised X: ...".
    """
    try:
        return function(*args, **kwargs)
    except NotYet:
        raise
    except Exception as error:  # noqa: BLE001 - any exception of theirs becomes a hint
        if _is_stub(error):
            raise _Stub(STUB_HINT) from error
        if _learner_frame(error.__traceback__) is not None:
            raise _LearnerError(f"your code raised {describe_error(error)}") from error
        name = getattr(function, "__name__", type(function).__name__)
        raise _LearnerError(f"calling your {name}(...) raised {type(error).__name__}: "
                            f"{_message(error)}") from error


# -- failures the learner's code causes where it cannot stop the check ------------------------------
@dataclass
class Failures:
    """Exceptions collected while a check ran the learner's code in requests or threads."""

    errors: list[BaseException] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # logged without an exception (e.g. unreadable data)

    def record(self, error: BaseException) -> None:
        """Add one exception (with its traceback) to the collection."""
        self.errors.append(error)

    def __len__(self) -> int:
        return len(self.errors)

    def __bool__(self) -> bool:
        return bool(self.errors)

    @property
    def first(self) -> BaseException | None:
        """The first exception collected, or None."""
        return self.errors[0] if self.errors else None

    def summary(self, total: int | None = None, what: str = "requests") -> str:
        """One line: '600 of 600 requests failed: TypeError: ... (first at line N of your cell)'."""
        if not self.errors:
            return f"no {what} failed"
        first = self.errors[0]
        count = f"{len(self.errors):,}" + (f" of {total:,}" if total is not None else "")
        frame = _learner_frame(first.__traceback__)
        where = f" (the first at {_where(frame)})" if frame is not None else ""
        kinds = {type(e).__name__ for e in self.errors}
        more = f"; {len(kinds) - 1} other kinds of error too" if len(kinds) > 1 else ""
        return f"{count} {what} failed: {type(first).__name__}: {_message(first)}{where}{more}"


class _Collector(logging.Handler):
    """Takes labkit's log records (an app server's failed request) into the innermost Failures."""

    def emit(self, record: logging.LogRecord) -> None:
        if not _collecting:
            return
        error = record.exc_info[1] if record.exc_info else None
        if error is not None:
            _collecting[-1].record(error)
        else:
            _collecting[-1].warnings.append(record.getMessage())


_collecting: list[Failures] = []
_collector = _Collector(logging.WARNING)
_collect_lock = threading.Lock()


@contextmanager
def collect_failures() -> Iterator[Failures]:
    """Within: errors labkit logs (app servers' failed requests) and uncaught errors in threads are
    collected in the `Failures` yielded, not printed."""
    failures = Failures()
    labkit_log = logging.getLogger("labkit")
    with _collect_lock:
        outermost = not _collecting
        _collecting.append(failures)
        if outermost:
            saved = (labkit_log.propagate, threading.excepthook)
            labkit_log.addHandler(_collector)
            labkit_log.propagate = False
            threading.excepthook = _thread_failed
    try:
        yield failures
    finally:
        with _collect_lock:
            _collecting.remove(failures)
            if outermost:
                labkit_log.removeHandler(_collector)
                labkit_log.propagate, threading.excepthook = saved


def _thread_failed(args: threading.ExceptHookArgs) -> None:
    if _collecting and args.exc_value is not None:
        _collecting[-1].record(args.exc_value)


# -- the decorator ---------------------------------------------------------------------------------
def _verdict(exercise_id: str, test: Callable[..., str], args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> CheckResult:
    def not_yet(hint: str, stub: bool = False) -> CheckResult:
        return CheckResult(exercise_id, False, f"✗ Exercise {exercise_id}, not yet: {hint}", stub)

    try:
        with collect_failures():
            detail = test(*args, **kwargs)
        return CheckResult(exercise_id, True, f"✓ Exercise {exercise_id} passed: {detail}")
    except _Stub:
        return not_yet(STUB_HINT, stub=True)
    except NotYet as hint:
        return not_yet(str(hint))
    except Exception as error:  # noqa: BLE001 - never crash the notebook: say whose error it is
        if _is_stub(error):
            return not_yet(STUB_HINT, stub=True)
        if _learner_frame(error.__traceback__) is not None:
            return not_yet(f"your code raised {describe_error(error)}")
        last = _innermost_of_the_check(error.__traceback__)
        where = (f" in {Path(last.tb_frame.f_code.co_filename).name} line {last.tb_lineno}"
                 if last is not None else "")
        return not_yet(f"the check itself failed ({type(error).__name__}{where}: {_message(error)}), "
                       "please tell your instructor.")


def exercise(exercise_id: str, title: str) -> Callable[[Callable[..., str]], Callable[..., CheckResult]]:
    """Register a check for `exercise_id`; the wrapped call prints and returns a `CheckResult`."""

    def wrap(test: Callable[..., str]) -> Callable[..., CheckResult]:
        _registry[exercise_id] = title
        _check_files.add(test.__code__.co_filename)

        @functools.wraps(test)
        def run(*args: Any, **kwargs: Any) -> CheckResult:
            result = _verdict(exercise_id, test, args, kwargs)
            _results[exercise_id] = result
            _record(result)
            print(result.message)
            return result

        run.exercise_id = exercise_id  # type: ignore[attr-defined]
        return run

    return wrap


def registry() -> dict[str, str]:
    """Every registered exercise id with its title, sorted by id."""
    return dict(sorted(_registry.items()))


def results() -> dict[str, CheckResult]:
    """The latest result of each check run in this process, sorted by exercise id."""
    return dict(sorted(_results.items()))


# -- progress --------------------------------------------------------------------------------------
def progress_key(prefix: str | None = None) -> str:
    """The hash recording a learner's check results: `<prefix>progress` (default prefix: the lab's)."""
    return (lab_prefix() if prefix is None else prefix) + "progress"


def progress_at_key(prefix: str | None = None) -> str:
    """The hash of when each exercise was last checked: `<prefix>progress:at`, id -> Unix seconds."""
    return progress_key(prefix) + ":at"


def _record(result: CheckResult) -> None:
    """Record `result` and its time in the learner's progress hashes; give up silently if Redis is unreachable."""
    url = redis_url()
    if url not in _progress_clients:
        try:
            _progress_clients[url] = connect(url, timeout=PROGRESS_TIMEOUT)
        except Exception:  # noqa: BLE001 - best effort: the check's own line matters, not the record
            _progress_clients[url] = None
    client = _progress_clients[url]
    if client is None:
        return
    try:
        pipe = client.pipeline(transaction=False)  # two keys, possibly two cluster slots: one round trip
        pipe.hset(progress_key(), result.exercise, PASS if result.passed else NOT_STARTED if result.stub else NOT_YET)
        pipe.hset(progress_at_key(), result.exercise, int(time.time()))
        pipe.execute()
    except Exception:  # noqa: BLE001 - e.g. a server gone away, or an ACL without this key
        _progress_clients[url] = None

