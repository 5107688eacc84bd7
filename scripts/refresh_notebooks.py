"""Re-run notebooks top to bottom on the embedded backend and store their outputs for nbval.

Usage: python scripts/refresh_notebooks.py [notebooks/01_*.ipynb ...]   (default: all)
Outputs and execution counts are kept (strict nbval compares them); volatile metadata is dropped.
Runs as the learner `nbval`, as the nbval driver does, then brings the learner copies up to date.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from labkit.config import LEARNER_DIR, NOTEBOOK_DIR, NOTEBOOK_GLOB
from labkit.exercises.kernel_client import SteadyKernelManager
from labkit.exercises.learner_copies import sync

ROOT = Path(__file__).resolve().parent.parent
KEEP_CELL_METADATA = {"tags", "jupyter"}  # tags carry nbval markers; jupyter.source_hidden folds solutions


def refresh(path: Path) -> float:
    """Execute `path` in place; return the seconds it took."""
    notebook = nbformat.read(path, as_version=4)
    os.environ["REDIS_URL"] = ""  # the embedded backend, chosen (unset, the banner would warn of a missed class URL)
    os.environ.pop("LABKIT_PREFIX", None)
    os.environ["LABKIT_LEARNER"] = "nbval"  # the namespace tests/test_notebooks.py runs under
    started = time.perf_counter()
    NotebookClient(notebook, timeout=600, kernel_name="python3", store_widget_state=True,
                   kernel_manager_class=SteadyKernelManager,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - started
    for cell in notebook.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA}
        if cell.cell_type == "code":
            for output in cell.outputs:
                output.get("metadata", {}).pop("execution", None)
    notebook.metadata = {k: v for k, v in notebook.metadata.items() if k in ("kernelspec", "language_info", "widgets")}
    notebook.metadata.get("language_info", {}).pop("version", None)
    nbformat.write(notebook, path)
    return elapsed


def main(paths: list[str]) -> None:
    targets = [Path(p) for p in paths] or sorted((ROOT / NOTEBOOK_DIR).glob(NOTEBOOK_GLOB))
    for path in targets:
        print(f"{path.name}: executed in {refresh(path):.1f} s")
    for change in sync(ROOT / NOTEBOOK_DIR, ROOT / LEARNER_DIR):
        print(f"learner copy: {change}")


if __name__ == "__main__":
    main(sys.argv[1:])
