"""Progress of a laptop-only class: the instructor collects each student's notebooks, one folder per student.

    collected/Søren Kierkegaard/01_the_broken_setup.ipynb ...
    collected/Ana María/learner/02_redis_sessions.ipynb ...

Nothing is run: each notebook's saved outputs already hold its check lines, as the student last saw
them, and its first cell's banner names the learner id the notebook ran as. A row is the folder's
name; when the notebooks ran as a learner whose id is not that name's, a note says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import nbformat

from labkit.backend.keyspace import learner_id
from labkit.classroom.progress import Row, State
from labkit.classroom.roster import Learner
from labkit.config import NOTEBOOK_GLOB
from labkit.errors import ClassroomError
from labkit.exercises.progress import CHECK_LINE, check_lines

STUB_WORDS = "still has its stub"
BANNER_LEARNER = re.compile(r"^Backend: .* · learner (?P<id>[a-z0-9_-]+) · ", re.M)


def collected_progress(folder: Path, exercises: Sequence[str]) -> list[Row]:
    """A row per student folder in `folder`, from the check lines saved in their notebooks."""
    students = sorted(path for path in Path(folder).iterdir() if path.is_dir()) if Path(folder).is_dir() else []
    if not students:
        raise ClassroomError(f"no student folders in {folder}: collect each student's notebooks into "
                             f"{folder}/<student name>/ (their learner/ folder as it is)")
    return [_student(path, exercises) for path in students]


def _student(folder: Path, exercises: Sequence[str]) -> Row:
    notebooks = sorted({*folder.glob(NOTEBOOK_GLOB), *folder.glob(f"*/{NOTEBOOK_GLOB}")})
    row = Row(Learner(folder.name, learner_id(folder.name)), dict.fromkeys(exercises, State.NOT_STARTED))
    ran_as: set[str] = set()
    if not notebooks:
        row.notes.append(f"{folder} holds no lab notebooks ({NOTEBOOK_GLOB})")
    for path in notebooks:
        try:
            notebook = nbformat.read(path, as_version=4)
        except (OSError, ValueError, json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
            row.notes.append(f"{path} cannot be read as a notebook ({type(exc).__name__}): ask for it again")
            continue
        row.last = max(row.last or 0.0, path.stat().st_mtime)
        for exercise, line in check_lines(notebook).items():
            if exercise in row.states:
                match = CHECK_LINE.match(line)
                passed = match is not None and match["mark"] == "✓"
                row.states[exercise] = State.PASSED if passed else \
                    State.NOT_STARTED if STUB_WORDS in line else State.ATTEMPTED
        ran_as.update(_banner_learners(notebook))
    others = sorted(ran_as - {row.learner.id})
    if others:
        row.notes.append(f"{folder.name}'s notebooks ran as learner {', '.join(others)} (the id in their first "
                         "cell's banner), not as " + repr(row.learner.id) + ": check whose notebooks these are")
    return row


def _banner_learners(notebook: nbformat.NotebookNode) -> set[str]:
    found: set[str] = set()
    for cell in notebook.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = output.get("text", "") if output.get("output_type") == "stream" else ""
            found.update(match["id"] for match in BANNER_LEARNER.finditer(text))
    return found
