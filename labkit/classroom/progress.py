"""The class's progress as an instructor reads it: one row per learner (their roster name), a state per exercise.

Each check run records, in the learner's own namespace (labkit/exercises/checking.py, `_record`):
the hash `lab:<learner>:progress`, exercise id -> "pass", "not yet" (an answer ran and is not right
yet) or "not started" (the check ran on the untouched stub), and the hash `lab:<learner>:progress:at`, exercise id ->
the Unix time in whole seconds of that run. Learners write both themselves, so they are read
defensively: only the lab's exercise fields are fetched (HMGET), anything unexpected is marked "?"
with a note, and nothing a learner stores can crash the table.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING

import redis

from labkit.backend.connection import Client
from labkit.classroom.roster import Learner
from labkit.config import ENV_LEARNER
from labkit.exercises import checking as checks

if TYPE_CHECKING:
    from matplotlib.figure import Figure

class State(Enum):
    """Where a learner stands on one exercise."""

    NOT_STARTED = "not started"
    ATTEMPTED = "attempted"
    PASSED = "passed"
    UNREADABLE = "unreadable"

    @property
    def mark(self) -> str:
        """One character for the table."""
        return {"not started": "·", "attempted": "✗", "passed": "✓", "unreadable": "?"}[self.value]


RECORDED = {checks.PASS: State.PASSED, checks.NOT_YET: State.ATTEMPTED, checks.NOT_STARTED: State.NOT_STARTED}
LEGEND = "✓ passed   ✗ attempted, not passed yet   · not started   ? unreadable (see the notes)"


@dataclass
class Row:
    """One learner's line: a state per exercise, when they last ran a check, and what could not be read."""

    learner: Learner
    states: dict[str, State]
    last: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        """How many exercises pass."""
        return sum(state is State.PASSED for state in self.states.values())


def all_exercises() -> dict[str, str]:
    """Every exercise the lab's checks define, id -> title, sorted by id."""
    import labkit.exercises  # noqa: F401 - importing the package registers every notebook's checks
    return checks.registry()


def read_progress(client: Client, learners: Sequence[Learner], exercises: Sequence[str]) -> list[Row]:
    """Each learner's row: HMGET of the lab's exercise fields from their progress and progress:at hashes, one pipeline."""
    keys = [(checks.progress_key(learner.prefix), checks.progress_at_key(learner.prefix)) for learner in learners]
    try:
        pipe = client.pipeline(transaction=False)
        for pair in keys:
            for key in pair:
                pipe.hmget(key, list(exercises))
        replies = pipe.execute(raise_on_error=False)
        pairs = list(zip(replies[::2], replies[1::2]))
    except UnicodeDecodeError:  # some learner stored bytes that are not text: read them one by one
        pairs = [(_read_one(client, key, exercises), _read_one(client, at, exercises)) for key, at in keys]
    rows = []
    for learner, (key, at_key), (states, times) in zip(learners, keys, pairs):
        row = Row(learner, {})
        _states(row, key, states, exercises)
        _times(row, at_key, times, exercises)
        rows.append(row)
    return rows


def _read_one(client: Client, key: str, fields: Sequence[str]) -> list | Exception:
    try:
        return client.hmget(key, list(fields))
    except UnicodeDecodeError:
        values: list = []
        for name in fields:
            try:
                values.append(client.hget(key, name))
            except UnicodeDecodeError as exc:
                values.append(exc)
        return values
    except redis.ResponseError as exc:
        return exc


def _unreadable_key(learner: Learner, key: str, reply: Exception) -> str:
    if "WRONGTYPE" in str(reply):
        return f"{key} is not a hash, so it cannot be read: `labkit class reset {learner.id}` clears it"
    return f"{key} could not be read: {reply}"


def _states(row: Row, key: str, reply: object, exercises: Sequence[str]) -> None:
    if isinstance(reply, Exception):
        row.states = dict.fromkeys(exercises, State.UNREADABLE)
        row.notes.append(_unreadable_key(row.learner, key, reply))
        return
    for exercise, value in zip(exercises, reply if isinstance(reply, list) else [None] * len(exercises)):
        state = State.NOT_STARTED if value is None else (
            RECORDED.get(value, State.UNREADABLE) if isinstance(value, str) else State.UNREADABLE)
        if state is State.UNREADABLE:
            row.notes.append(f"{key} field {exercise!r} holds {_shown(value)}, not a check's record")
        row.states[exercise] = state


def _times(row: Row, key: str, reply: object, exercises: Sequence[str]) -> None:
    if isinstance(reply, Exception):
        row.notes.append(_unreadable_key(row.learner, key, reply))
        return
    for exercise, value in zip(exercises, reply if isinstance(reply, list) else []):
        when = _seconds(value)
        if value is not None and when is None:
            row.notes.append(f"{key} field {exercise!r} holds {_shown(value)}, not a time")
        elif when is not None:
            row.last = when if row.last is None else max(row.last, when)


def _seconds(value: object) -> float | None:
    try:
        when = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return when if math.isfinite(when) and 0 < when < 1e11 else None


def _shown(value: object) -> str:
    if isinstance(value, Exception):
        return "bytes that are not UTF-8 text"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "...'"


def ago(when: float | None, now: float) -> str:
    """`when` said relative to `now`: 'just now', '12 min ago', '3 h ago', or the date."""
    if when is None:
        return "never"
    seconds = max(0.0, now - when)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%d")


def progress_table(rows: Sequence[Row], exercises: Sequence[str], now: float | None = None) -> str:
    """A learner-by-exercise table with names as in the roster, passes, last activity, and pass counts per exercise."""
    now = time.time() if now is None else now
    width = max([len("learner"), len("passed by"), *(len(row.learner.name) for row in rows)])
    head = ["learner".ljust(width), *exercises, "passed", "last check"]
    lines = ["  ".join(head)]
    for row in sorted(rows, key=lambda row: row.learner.name.casefold()):
        marks = [row.states[exercise].mark.center(len(exercise)) for exercise in exercises]
        lines.append("  ".join([row.learner.name.ljust(width), *marks,
                                f"{row.passed}/{len(exercises)}".rjust(len("passed")), ago(row.last, now)]))
    counts = [str(sum(row.states[e] is State.PASSED for row in rows)).center(len(e)) for e in exercises]
    lines.append("  ".join(["passed by".ljust(width), *counts, f"of {len(rows)}"]))
    lines.append(LEGEND)
    lines.extend(f"note: {note}" for row in rows for note in row.notes)
    return "\n".join(lines)


def progress_csv(rows: Sequence[Row], exercises: Mapping[str, str] | Sequence[str]) -> str:
    """The table for a gradebook: name, learner id, a state word per exercise, passes, last check (UTC); with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", ENV_LEARNER, *exercises, "passed", "last check (UTC)"])
    for row in sorted(rows, key=lambda row: row.learner.name.casefold()):
        last = "" if row.last is None else datetime.fromtimestamp(row.last, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow([row.learner.name, row.learner.id, *(row.states[e].value for e in exercises), row.passed, last])
    return "\ufeff" + out.getvalue()


def progress_figure(rows: Sequence[Row], exercises: Sequence[str]) -> Figure:
    """A heat map of the class: a row per learner, a column per exercise, coloured by state."""
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    order = list(State)
    colours = ["#eeeeee", "#f4a261", "#2a9d8f", "#9b2226"]  # not started, attempted, passed, unreadable
    ordered = sorted(rows, key=lambda row: row.learner.name.casefold())
    grid = [[order.index(row.states[e]) for e in exercises] for row in ordered] or [[0] * len(exercises)]
    figure = Figure(figsize=(1.2 + 0.5 * len(exercises), 1 + 0.3 * max(1, len(ordered))), layout="constrained")
    axes = figure.add_subplot()
    axes.imshow(grid, cmap=ListedColormap(colours), vmin=0, vmax=len(order) - 1, aspect="auto")
    axes.set_xticks(range(len(exercises)), list(exercises))
    axes.set_yticks(range(len(ordered)), [row.learner.name for row in ordered])
    axes.xaxis.tick_top()
    axes.set_title("Exercises per learner")
    figure.legend(handles=[Patch(color=c, label=s.value) for c, s in zip(colours, order)],
                  loc="outside lower center", ncols=len(order), frameon=False)
    return figure
