"""Learner copies: no solutions, up to date with the notebooks, and every check answers "not yet"."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from labkit.config import LEARNER_DIR, NOTEBOOK_DIR
from labkit.exercises import progress
from labkit.exercises.learner_copies import BEGIN, END, SolutionMarkerError, learner_copy, sync
from tests.support import LEARNER_COPIES, NOTEBOOKS, ROOT

KERNEL = {"name": "python3", "display_name": "Python 3"}
SOLUTION = {"tags": ["solution"], "jupyter": {"source_hidden": True}}


def exercise_notebook() -> nbformat.NotebookNode:
    """One exercise in the four-cell format, with stored outputs as refresh_notebooks leaves them."""
    check = new_code_cell("check_answer(answer)", execution_count=3, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="✗ Exercise 90.1, not yet: set answer\n")])
    return new_notebook(cells=[
        new_markdown_cell("### Exercise 90.1: the answer"),
        new_code_cell("answer = None  # your code here", execution_count=2),
        check,
        new_code_cell(f"{BEGIN}\nanswer = 'xyzzy-the-secret'\n{END}\ncheck_answer(answer)", metadata=SOLUTION,
                      execution_count=4),
        new_code_cell("print('after')", execution_count=5),
    ], metadata={"kernelspec": KERNEL, "widgets": {"state": {}}})


def test_solution_cells_become_a_note_and_outputs_go() -> None:
    copy = learner_copy(exercise_notebook(), "notebooks/90_x.ipynb")
    assert [cell.cell_type for cell in copy.cells] == ["markdown", "code", "code", "markdown", "code"]
    assert copy.cells[1].source == "answer = None  # your code here", "the stub stays"
    assert "instructor copy, `notebooks/90_x.ipynb`" in copy.cells[3].source
    assert all(cell.outputs == [] and cell.execution_count is None for cell in copy.cells if cell.cell_type == "code")
    assert "xyzzy-the-secret" not in nbformat.writes(copy) and "SOLUTION" not in nbformat.writes(copy)
    assert copy.metadata == {"kernelspec": KERNEL, "labkit": {"learner_copy_of": "notebooks/90_x.ipynb"}}


@pytest.mark.parametrize("source, metadata, problem", [
    (f"{BEGIN}\nanswer = 42\ncheck_answer(answer)", SOLUTION, "needs one '### BEGIN SOLUTION' line, then one"),
    (f"{END}\nanswer = 42\n{BEGIN}", SOLUTION, r"found \['END', 'BEGIN'\]"),
    ("check_answer(answer)", SOLUTION, "found none"),
    (f"{BEGIN}\nanswer = 42\n{END}", {}, "has solution markers but no 'solution' tag"),
])
def test_misplaced_markers_stop_the_copy_before_a_solution_leaks(source: str, metadata: dict, problem: str) -> None:
    notebook = exercise_notebook()
    notebook.cells[3] = new_code_cell(source, metadata=metadata)
    with pytest.raises(SolutionMarkerError, match=rf"notebooks/90_x.ipynb, cell 3.*{problem}"):
        learner_copy(notebook, "notebooks/90_x.ipynb")


def test_sync_writes_reports_and_removes_copies_of_deleted_notebooks(tmp_path: Path) -> None:
    notebooks, learner = tmp_path / "notebooks", tmp_path / "learner"
    notebooks.mkdir()
    nbformat.write(exercise_notebook(), notebooks / "90_x.ipynb")
    assert sync(notebooks, learner, write=False) == [f"create {learner / '90_x.ipynb'}"]
    assert not learner.exists(), "a check writes nothing"
    sync(notebooks, learner)
    assert sync(notebooks, learner, write=False) == []
    (notebooks / "90_x.ipynb").rename(notebooks / "91_y.ipynb")
    (learner / "notes.ipynb").write_text("{}")  # not a copy: left alone
    assert sync(notebooks, learner) == [f"create {learner / '91_y.ipynb'}", f"remove {learner / '90_x.ipynb'}"]
    assert sorted(p.name for p in learner.iterdir()) == ["91_y.ipynb", "notes.ipynb"]


def test_committed_learner_copies_are_up_to_date() -> None:
    stale = sync(ROOT / NOTEBOOK_DIR, ROOT / LEARNER_DIR, write=False)
    assert not stale, "learner copies are out of date; run: labkit learner-copies\n" + "\n".join(stale)


def exercises_solved_in(notebook: Path) -> set[str]:
    """Exercise ids whose stored output in the instructor copy says they pass."""
    return {exercise_id for exercise_id, line in progress.check_lines(nbformat.read(notebook, as_version=4)).items()
            if line.startswith("✓")}


@pytest.fixture(scope="module")
def learner_runs() -> dict[str, progress.NotebookRun]:
    copies = LEARNER_COPIES
    if not copies:
        pytest.skip("no learner copies yet")
    return {run.path.name: run for run in progress.run_notebooks(copies)}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_learner_copy_runs_and_every_check_says_not_yet(notebook: Path, learner_runs) -> None:
    run = learner_runs[notebook.name]
    assert run.errors == [], f"{notebook.name}'s learner copy raised"
    expected = exercises_solved_in(notebook)
    assert expected, f"{notebook.name} has no exercise whose solution passes"
    assert set(run.checks) == expected, "every exercise of the instructor copy is checked in the learner copy"
    for exercise_id, line in run.checks.items():
        assert re.match(rf"✗ Exercise {re.escape(exercise_id)}, not yet: \S", line), line
