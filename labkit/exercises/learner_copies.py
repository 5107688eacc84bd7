"""Learner copies of the notebooks: the same lesson with every solution taken out.

A solution cell (tagged "solution") holds its answer between `### BEGIN SOLUTION` and
`### END SOLUTION`; the learner copy replaces that cell by a short note, clears every output
(the learner's own run shows each check's "not yet" line) and records where it came from.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from labkit.config import NOTEBOOK_GLOB
from labkit.errors import SolutionMarkerError

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
SOLUTION_TAG = "solution"
KEEP_METADATA = ("kernelspec", "language_info")
_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$", re.M)


def learner_copy(notebook: NotebookNode, source_name: str) -> NotebookNode:
    """The learner's version of `notebook`: solution cells replaced by a note, no outputs."""
    copy = nbformat.from_dict(notebook)
    cells = []
    for index, cell in enumerate(copy.cells):
        markers = _MARKER.findall(cell.source)
        is_solution = SOLUTION_TAG in cell.metadata.get("tags", [])
        where = f"{source_name}, cell {index}"
        if is_solution:
            if cell.cell_type != "code" or markers != ["BEGIN", "END"]:
                raise SolutionMarkerError(f"{where}: a solution cell needs one '{BEGIN}' line, then one "
                                          f"'{END}' line (found {markers or 'none'})")
            note = nbformat.v4.new_markdown_cell(
                "*Stuck? Your check above says what your answer does and what to look at. A worked solution is "
                f"in the instructor copy, `{source_name}`, in a clone of the whole lab; a class bundle "
                "leaves it out, so ask your instructor.*")
            note.id = cell.get("id", note.id)
            cells.append(note)
            continue
        if markers:
            raise SolutionMarkerError(f"{where} has solution markers but no '{SOLUTION_TAG}' tag, so its "
                                      "solution would reach the learner copy: tag the cell")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    copy.cells = cells
    copy.metadata = {key: copy.metadata[key] for key in KEEP_METADATA if key in copy.metadata}
    copy.metadata["labkit"] = {"learner_copy_of": source_name}
    return copy


def render(source: Path, root: Path) -> str:
    """The learner copy of the notebook at `source`, as the text written to disk."""
    notebook = nbformat.read(source, as_version=4)
    return nbformat.writes(learner_copy(notebook, source.relative_to(root).as_posix())) + "\n"


def sync(notebooks: Path, learner_dir: Path, *, write: bool = True) -> list[str]:
    """Bring `learner_dir` up to date with `notebooks`; return what was (or, with write=False, would be) changed."""
    root = notebooks.resolve().parent
    wanted = {learner_dir / source.name: render(source.resolve(), root)
              for source in sorted(notebooks.glob(NOTEBOOK_GLOB))}
    changes = []
    for path, text in wanted.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            changes.append(f"{'write' if path.exists() else 'create'} {path}")
            if write:
                learner_dir.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    for path in sorted(learner_dir.glob(NOTEBOOK_GLOB)):
        if path not in wanted and _is_learner_copy(path):  # its source notebook is gone
            changes.append(f"remove {path}")
            if write:
                path.unlink()
    return changes


def _is_learner_copy(path: Path) -> bool:
    return "learner_copy_of" in nbformat.read(path, as_version=4).metadata.get("labkit", {})
