"""Exercise checks: each prints one specific line, passed or what to look at next.

A check is a function decorated with `@exercise("01.2", "title")`. It raises `NotYet("hint")`
when the learner's answer is not right yet, and returns a short description of what passed.
Calling it never raises: a stub (`NotImplementedError`) or a bug in the learner's code is
reported as "not yet" with the reason, so the notebook always runs top to bottom.

Each run is also recorded, best effort, on the lab's Redis in the learner's namespace: the hash
`lab:<learner>:progress` maps exercise id to "pass" or "not yet" (the instructor's class progress
view reads it). An unreachable Redis never fails or slows a check more than once per process.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass

from labkit.backend.connection import Client, connect
from labkit.backend.keyspace import lab_prefix
from labkit.config import ENV_URL

__all__ = ["NOT_YET", "PASS", "CheckResult", "NotYet", "exercise", "progress_key", "registry", "results"]

PASS, NOT_YET = "pass", "not yet"  # the values recorded in the progress hash
PROGRESS_TIMEOUT = 0.5  # seconds: recording must never hold up a check for long


class NotYet(Exception):
    """The learner's answer is not right yet; the message is the hint they see."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: which exercise, whether it passed, the line shown."""

    exercise: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return self.message

    def _ipython_display_(self) -> None:
        """Shown already (the check prints its line), so a cell ending in a check shows it once."""


_registry: dict[str, str] = {}
_results: dict[str, CheckResult] = {}
_progress_clients: dict[str, Client | None] = {}  # by REDIS_URL; None: unreachable, not retried


def exercise(exercise_id: str, title: str) -> Callable[[Callable[..., str]], Callable[..., CheckResult]]:
    """Register a check for `exercise_id`; the wrapped call prints and returns a `CheckResult`."""

    def wrap(test: Callable[..., str]) -> Callable[..., CheckResult]:
        _registry[exercise_id] = title

        @functools.wraps(test)
        def run(*args: object, **kwargs: object) -> CheckResult:
            try:
                detail = test(*args, **kwargs)
                result = CheckResult(exercise_id, True, f"✓ Exercise {exercise_id} passed: {detail}")
            except NotYet as hint:
                result = CheckResult(exercise_id, False, f"✗ Exercise {exercise_id}, not yet: {hint}")
            except NotImplementedError:
                result = CheckResult(
                    exercise_id, False,
                    f"✗ Exercise {exercise_id}, not yet: the exercise cell above still has its stub; "
                    "replace `raise NotImplementedError` with your code and run it again.",
                )
            except Exception as exc:  # noqa: BLE001 - the learner's code failed: report it, do not crash the notebook
                result = CheckResult(
                    exercise_id, False,
                    f"✗ Exercise {exercise_id}, not yet: your code raised {type(exc).__name__}: {exc}",
                )
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


def progress_key(prefix: str | None = None) -> str:
    """The hash recording a learner's check results: `<prefix>progress` (default prefix: the lab's)."""
    return (lab_prefix() if prefix is None else prefix) + "progress"


def _record(result: CheckResult) -> None:
    """Record `result` in the learner's progress hash; silently give up if Redis is unreachable."""
    url = os.environ.get(ENV_URL, "")
    if url not in _progress_clients:
        try:
            _progress_clients[url] = connect(url, timeout=PROGRESS_TIMEOUT)
        except Exception:  # noqa: BLE001 - best effort: the check's own line matters, not the record
            _progress_clients[url] = None
    client = _progress_clients[url]
    if client is None:
        return
    try:
        client.hset(progress_key(), result.exercise, PASS if result.passed else NOT_YET)
    except Exception:  # noqa: BLE001 - e.g. a server gone away, or an ACL without this key
        _progress_clients[url] = None
