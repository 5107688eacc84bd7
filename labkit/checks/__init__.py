"""Exercise checks: each prints one specific line, passed or what to look at next.

A check is a function decorated with `@exercise("01.2", "title")`. It raises `NotYet("hint")`
when the learner's answer is not right yet, and returns a short description of what passed.
Calling it never raises: a stub (`NotImplementedError`) or a bug in the learner's code is
reported as "not yet" with the reason, so the notebook always runs top to bottom.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["CheckResult", "NotYet", "exercise", "registry", "results"]


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
            except Exception as exc:  # the learner's code failed: report it, do not crash the notebook
                result = CheckResult(
                    exercise_id, False,
                    f"✗ Exercise {exercise_id}, not yet: your code raised {type(exc).__name__}: {exc}",
                )
            _results[exercise_id] = result
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
