"""`labkit bundle`: the zip a student receives: learner copies, labkit's source and set-up steps, no solutions.

The learner copies are made afresh from the instructor's notebooks (so they cannot be stale) and
checked: no notebook in the bundle has a solution cell or a solution marker, and no instructor copy
(the `notebooks/` folder) goes in.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import nbformat

from labkit.config import LEARNER_DIR, NOTEBOOK_DIR, NOTEBOOK_GLOB
from labkit.errors import ClassroomError
from labkit.exercises.learner_copies import BEGIN, SOLUTION_TAG, render

TOP = "sessions-leaderboards-lab"  # the folder the zip unpacks to
PROJECT_FILES = ("pyproject.toml", "LICENSE")
START_HERE = """# Sessions & Leaderboards Lab: start here

You need Python 3.10 or later and pip. In a terminal, in this folder:

| step | bash / zsh (Linux, macOS) | PowerShell or cmd (Windows) |
|---|---|---|
| 1. make an environment (once) | `python3 -m venv .venv` | `py -m venv .venv` |
| 2. install the lab (once) | `.venv/bin/pip install .` | `.venv\\Scripts\\pip install .` |
| 3. open the lab | `.venv/bin/labkit lab --dir learner` | `.venv\\Scripts\\labkit lab --dir learner` |

Step 2 downloads about {size} (JupyterLab and its friends).

**In a class with a shared Redis**, paste the line from your card for your shell *before* step 3,
in the same terminal window. The first code cell of each notebook then prints
`Backend: Redis ... · learner <your id> · keys under lab:<your id>:...`. If it says `fakeredis` and
`NOT the class server`, JupyterLab started without your line: close it, paste the line, start again.

**On your own**, skip the line: everything runs on an embedded Redis (fakeredis), no server needed.

`labkit progress` runs your notebooks' checks headless and prints which exercises pass.
"""
DOWNLOAD_SIZE = "90 MB"  # measured: pip download of the runtime dependencies, 110 wheels (README, "Set up")


def build_bundle(root: Path, out: Path) -> list[str]:
    """Write the student bundle zip at `out` from the project at `root`; return the names inside it."""
    sources = sorted((root / NOTEBOOK_DIR).glob(NOTEBOOK_GLOB))
    package = root / "labkit"
    if not sources or not (package / "__init__.py").is_file():
        raise ClassroomError(f"{root} is not the lab's folder (no {NOTEBOOK_DIR}/{NOTEBOOK_GLOB} or labkit/): "
                             "run `labkit bundle` in the lab's checkout")
    files: dict[str, str | bytes] = {}
    for source in sources:
        copy = render(source, root / NOTEBOOK_DIR)
        _refuse_solutions(source.name, copy)
        files[f"{LEARNER_DIR}/{source.name}"] = copy
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".typed"):
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    for name in PROJECT_FILES:
        if (root / name).is_file():
            files[name] = (root / name).read_bytes()
    files["README.md"] = files["START-HERE.md"] = START_HERE.format(size=DOWNLOAD_SIZE)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in sorted(files.items()):
            bundle.writestr(f"{TOP}/{name}", content)
    return sorted(files)


def _refuse_solutions(name: str, text: str) -> None:
    notebook = nbformat.reads(text, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if SOLUTION_TAG in cell.metadata.get("tags", []) or BEGIN in cell.source:
            raise ClassroomError(f"the learner copy of {name} still has a solution in cell {index}: "
                                 "fix its solution markers in the instructor copy")
