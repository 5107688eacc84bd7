"""`python -m labkit.progress`: run notebooks headless on the embedded backend and tabulate their checks."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from labkit import cli
from labkit.exercises import progress
from labkit.exercises.progress import NotebookRun

CHECKS = '''from labkit.exercises.checking import NotYet, exercise

@exercise("{nn}.1", "double")
def check_double(double):
    if double(21) != 42:
        raise NotYet(f"double(21) returned {{double(21)!r}}; it should be 42")
    return "double(21) == 42"

@exercise("{nn}.2", "name")
def check_name(name):
    if name is None:
        raise NotYet("set `name` to a string")
    return f"name is {{name!r}}"'''


def small_notebook(nn: str, *, double: str, name: str, extra: list[str] = ()) -> nbformat.NotebookNode:
    """A notebook with two exercises in the lab's format, answered by `double` and `name`."""
    return new_notebook(cells=[
        new_markdown_cell(f"# Notebook {nn}"),
        new_code_cell(f"import labkit\nlab = labkit.open_lab('{nn}')"),
        new_code_cell(CHECKS.format(nn=nn)),
        *map(new_code_cell, extra),
        new_code_cell(f"def double(x):\n    {double}"),
        new_code_cell("check_double(double)"),
        new_code_cell(f"name = {name}"),
        new_code_cell("check_name(name)"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("course")
    nbformat.write(small_notebook("91", double="raise NotImplementedError  # your code here", name="None",
                                  extra=["# NBVAL_RAISES_EXCEPTION (teaches an error)\n1 / 0",
                                         "undefined_name  # a learner's slip: reported, the run goes on"]),
                   folder / "91_first.ipynb")
    nbformat.write(small_notebook("92", double="return 2 * x", name="'ada'"), folder / "92_second.ipynb")
    nbformat.write(small_notebook("93", double="return x", name="'x'"), folder / "scratch.ipynb")  # not NN_
    return folder


@pytest.fixture(scope="module")
def runs(course: Path) -> list[NotebookRun]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REDIS_URL", "redis://this-host-does-not-exist.invalid:6379/0")  # must be ignored
        return progress.run_notebooks(progress.find_notebooks([str(course)]))


def test_each_exercise_line_is_collected_per_notebook(runs: list[NotebookRun]) -> None:
    assert [run.path.name for run in runs] == ["91_first.ipynb", "92_second.ipynb"]
    first, second = runs
    assert first.checks == {
        "91.1": "✗ Exercise 91.1, not yet: the exercise cell above still has its stub; replace "
                "`raise NotImplementedError` with your code and run it again.",
        "91.2": "✗ Exercise 91.2, not yet: set `name` to a string",
    }
    assert second.checks == {"92.1": "✓ Exercise 92.1 passed: double(21) == 42",
                             "92.2": "✓ Exercise 92.2 passed: name is 'ada'"}


def test_unexpected_errors_are_reported_and_taught_ones_are_not(runs: list[NotebookRun]) -> None:
    assert runs[0].errors == ["cell 4: NameError: name 'undefined_name' is not defined"]
    assert runs[1].errors == []


def test_runs_use_the_embedded_backend_and_leave_the_files_alone(course: Path, runs: list[NotebookRun]) -> None:
    # With the (unreachable) REDIS_URL passed on, open_lab in the first cell would have failed.
    assert not any("LabConnectionError" in error for run in runs for error in run.errors)
    stored = nbformat.read(course / "92_second.ipynb", as_version=4)
    assert all(not cell.outputs and cell.execution_count is None for cell in stored.cells if cell.cell_type == "code")


def test_the_table_has_a_row_per_exercise_errors_and_a_total(runs: list[NotebookRun]) -> None:
    assert progress.progress_table(runs).splitlines() == [
        "notebook         exercise  result",
        "91_first.ipynb   91.1      ✗ the exercise cell above still has its stub; replace `raise "
        "NotImplementedError` with your code and run it again.",
        "91_first.ipynb   91.2      ✗ set `name` to a string",
        "92_second.ipynb  92.1      ✓ double(21) == 42",
        "92_second.ipynb  92.2      ✓ name is 'ada'",
        "91_first.ipynb: cell 4: NameError: name 'undefined_name' is not defined",
        "2 of 4 exercises pass",
    ]


def test_command_line_runs_a_named_notebook_and_exits_zero(course: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["progress", str(course / "92_second.ipynb")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2 of 2 exercises pass"


def test_the_kernels_own_log_stays_off_the_terminal(course: Path, capfd: pytest.CaptureFixture) -> None:
    assert cli.main(["progress", str(course / "92_second.ipynb")]) == 0
    assert capfd.readouterr().err.splitlines() == ["running 1 notebook on the embedded fakeredis ..."]


def test_bad_arguments_get_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["progress", str(tmp_path / "nowhere")]) == 2
    assert "neither a folder nor a notebook" in capsys.readouterr().err
    assert cli.main(["progress", str(tmp_path)]) == 2
    assert "no notebooks named NN_*.ipynb" in capsys.readouterr().err
