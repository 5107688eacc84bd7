"""The class's progress as an instructor reads it: one row per learner (their roster name), a state per exercise.

Each check run records, in the learner's own hash `lab:<learner>:progress`, the field `<exercise id>`
set to "pass", "not yet" (an answer ran and is not right yet) or "not started" (the stub ran), and the
field `<exercise id>:at` set to the Unix time in seconds of that run. Older records hold only the first
field ("not yet" then also covers a stub, shown as attempted). Learners write that hash themselves, so
it is read defensively: only the lab's exercise fields are fetched, anything unexpected is marked "?"
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

AT_SUFFIX = ":at"  # field `<exercise id>:at`: when the check last ran (Unix seconds)


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


RECORDED = {checks.PASS: State.PASSED, checks.NOT_YET: State.ATTEMPTED, "not started": State.NOT_STARTED}
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
    """Each learner's row, read from their progress hash (HMGET of the lab's fields only, in one pipeline)."""
    fields = [*exercises, *(exercise + AT_SUFFIX for exercise in exercises)]
    keys = [checks.progress_key(learner.prefix) for learner in learners]
    try:
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(key, fields)
        replies = pipe.execute(raise_on_error=False)
    except UnicodeDecodeError:  # some learner stored bytes that are not text: read them one by one
        replies = [_read_one(client, key, fields) for key in keys]
    return [_row(learner, key, reply, exercises) for learner, key, reply in zip(learners, keys, replies)]


def _read_one(client: Client, key: str, fields: Sequence[str]) -> list | Exception:
    try:
        return client.hmget(key, fields)
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


def _row(learner: Learner, key: str, reply: object, exercises: Sequence[str]) -> Row:
    if isinstance(reply, Exception):
        note = (f"{key} is not a hash, so it cannot be read: `labkit class reset {learner.id}` clears it"
                if "WRONGTYPE" in str(reply) else f"{key} could not be read: {reply}")
        return Row(learner, dict.fromkeys(exercises, State.UNREADABLE), None, [note])
    values = list(reply) if isinstance(reply, list) else []
    row = Row(learner, {})
    for exercise, value in zip(exercises, values):
        state = State.NOT_STARTED if value is None else RECORDED.get(value, State.UNREADABLE) \
            if isinstance(value, str) else State.UNREADABLE
        if state is State.UNREADABLE:
            row.notes.append(f"{key} field {exercise!r} holds {_shown(value)}, not a check's record")
        row.states[exercise] = state
    for exercise, value in zip(exercises, values[len(exercises):]):
        when = _seconds(value)
        if value is not None and when is None:
            row.notes.append(f"{key} field {exercise + AT_SUFFIX!r} holds {_shown(value)}, not a time")
        elif when is not None:
            row.last = when if row.last is None else max(row.last, when)
    return row


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
