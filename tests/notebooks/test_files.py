"""Notebook files are committed in the shape strict nbval needs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import ROOT

NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_code_cell_has_a_stored_execution_count(notebook: Path) -> None:
    # nbval silently skips comparing a cell that was never executed.
    cells = json.loads(notebook.read_text())["cells"]
    unrun = [i for i, c in enumerate(cells)
             if c["cell_type"] == "code" and "".join(c["source"]).strip() and c.get("execution_count") is None]
    assert not unrun, f"{notebook.name}: code cells {unrun} have no stored execution count"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_stored_errors_outside_cells_that_teach_one(notebook: Path) -> None:
    cells = json.loads(notebook.read_text())["cells"]
    bad = [i for i, c in enumerate(cells) if c["cell_type"] == "code"
           and any(o.get("output_type") == "error" for o in c.get("outputs", []))
           and "raises-exception" not in c.get("metadata", {}).get("tags", [])
           and "NBVAL_RAISES_EXCEPTION" not in "".join(c["source"])]
    assert not bad, f"{notebook.name}: cells {bad} store an error"


def test_strict_nbval_only() -> None:
    for path in [ROOT / "Makefile", ROOT / "pyproject.toml", ROOT / ".ci" / "run", *ROOT.glob("tests/**/*.py")]:
        if path.exists() and path != Path(__file__):
            assert "--nbval-lax" not in path.read_text(), f"{path.name} uses lax nbval"
