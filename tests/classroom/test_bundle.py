"""`labkit bundle`: what students receive has the learner copies and labkit, and no solution anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from labkit import cli
from labkit.classroom.bundle import TOP, build_bundle
from labkit.config import NOTEBOOK_GLOB
from labkit.errors import ClassroomError
from labkit.exercises.learner_copies import BEGIN, END
from tests.support import ROOT


def test_the_bundle_holds_learner_copies_and_labkit_but_no_instructor_copy(tmp_path: Path) -> None:
    out = tmp_path / "lab.zip"
    old = Path.cwd()
    os.chdir(ROOT)
    try:
        assert cli.main(["bundle", "--out", str(out)]) == 0
    finally:
        os.chdir(old)
    names = zipfile.ZipFile(out).namelist()
    assert all(name.startswith(TOP + "/") for name in names)
    notebooks = sorted(name for name in names if name.endswith(".ipynb"))
    expected = sorted(f"{TOP}/learner/{path.name}" for path in (ROOT / "notebooks").glob(NOTEBOOK_GLOB))
    assert notebooks == expected, "learner copies only: no notebooks/ folder"
    assert f"{TOP}/START-HERE.md" in names and f"{TOP}/pyproject.toml" in names and f"{TOP}/labkit/__init__.py" in names
    zipfile.ZipFile(out).extractall(tmp_path)
    for name in notebooks:
        notebook = nbformat.read(tmp_path / name, as_version=4)
        assert not any("solution" in cell.metadata.get("tags", []) for cell in notebook.cells)
        assert not any(marker in cell.source for cell in notebook.cells for marker in (BEGIN, END))
        assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    start = (tmp_path / TOP / "START-HERE.md").read_text()
    assert "labkit lab --dir learner" in start and "PowerShell" in start
    # The bundle's labkit imports on its own, and knows every exercise the copies check.
    code = "import labkit, labkit.exercises, labkit.exercises.checking as c; print(labkit.__file__, len(c.registry()))"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path / TOP, capture_output=True, text=True, check=True)
    assert done.stdout.startswith(str(tmp_path / TOP / "labkit")) and int(done.stdout.split()[-1]) > 0


def test_a_solution_left_in_a_copy_stops_the_bundle(tmp_path: Path) -> None:
    (tmp_path / "labkit").mkdir()
    (tmp_path / "labkit" / "__init__.py").write_text("")
    (tmp_path / "notebooks").mkdir()
    cell = nbformat.v4.new_code_cell(f"{BEGIN}\nanswer = 42\n{END}")  # markers, but no solution tag
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), tmp_path / "notebooks" / "01_x.ipynb")
    with pytest.raises(Exception, match="no 'solution' tag"):
        build_bundle(tmp_path, tmp_path / "out.zip")
    assert not (tmp_path / "out.zip").exists()
    with pytest.raises(ClassroomError, match="not the lab's folder"):
        build_bundle(tmp_path / "nowhere", tmp_path / "out.zip")
