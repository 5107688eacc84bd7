"""Your progress without a server: run every notebook's checks headless and tabulate what passes.

    labkit progress [learner/ or notebooks/ or NN_x.ipynb ...]

Each notebook runs top to bottom in a fresh kernel on the embedded fakeredis (REDIS_URL is
ignored, so nothing touches a shared server), the notebook files are left unchanged, and each
exercise's check line is collected into one table.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from labkit.config import ENV_URL, LEARNER_DIR, NOTEBOOK_DIR, NOTEBOOK_GLOB
from labkit.exercises.kernel_client import SteadyKernelManager

CHECK_LINE = re.compile(r"^(?P<mark>[✓✗]) Exercise (?P<id>\S+?)(?: passed: |, not yet: )(?P<detail>.*)$", re.M)
TEACHES_AN_ERROR = "NBVAL_RAISES_EXCEPTION"
CELL_TIMEOUT = 600  # seconds
WORKERS = 2  # notebooks run at once, each in its own kernel process
KERNEL_LOG_TAIL = 5  # lines of the kernel's own log shown when the kernel dies


@dataclass
class NotebookRun:
    """What one headless run of a notebook showed: each check's last line, and unexpected errors."""

    path: Path
    checks: dict[str, str] = field(default_factory=dict)  # exercise id -> its check line
    errors: list[str] = field(default_factory=list)  # "cell 12: NameError: ..."

    def passed(self, exercise_id: str) -> bool:
        """True when the exercise's last check line in this run says it passed."""
        return self.checks[exercise_id].startswith("✓")


def check_lines(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """Each exercise's last check line in the notebook's outputs, by exercise id."""
    found: dict[str, str] = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                for match in CHECK_LINE.finditer(output.get("text", "")):
                    found[match["id"]] = match.group(0)
    return dict(sorted(found.items()))


def unexpected_errors(notebook: nbformat.NotebookNode) -> list[str]:
    """Error outputs of cells that are not there to teach an error."""
    return [f"cell {index}: {output.get('ename')}: {output.get('evalue')}"
            for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and TEACHES_AN_ERROR not in cell.source
            for output in cell.get("outputs", []) if output.get("output_type") == "error"]


def run_notebook(path: Path, timeout: int = CELL_TIMEOUT, *, redis_url: str = "") -> NotebookRun:
    """Execute a copy of the notebook at `path` in a fresh kernel, on the embedded backend by default."""
    notebook = nbformat.read(path, as_version=4)
    env = {key: value for key, value in os.environ.items() if key != ENV_URL}
    if redis_url:
        env[ENV_URL] = redis_url
    run = NotebookRun(Path(path))
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
                            kernel_manager_class=SteadyKernelManager,
                            resources={"metadata": {"path": str(Path(path).resolve().parent)}})
    # The kernel's own log (its plain-TCP warning, a KeyboardInterrupt it reports while shutting
    # down) goes to a file rather than the terminal: cells' errors come from their outputs, and the
    # log is shown only if the kernel dies.
    with tempfile.TemporaryFile() as kernel_log:
        try:
            client.execute(env=env, stderr=kernel_log)
        except (CellTimeoutError, DeadKernelError) as exc:
            run.errors.append(f"the run stopped: {type(exc).__name__}: {str(exc).strip().splitlines()[0]}")
            if isinstance(exc, DeadKernelError):
                run.errors.extend(kernel_log_tail(kernel_log))
    run.checks = check_lines(notebook)
    run.errors[:0] = unexpected_errors(notebook)
    return run


def kernel_log_tail(log: IO[bytes], lines: int = KERNEL_LOG_TAIL) -> list[str]:
    """The last lines the kernel wrote to its log, as "kernel: ..." lines."""
    log.seek(0)
    text = log.read().decode("utf-8", errors="replace")
    return [f"kernel: {line}" for line in text.strip().splitlines()[-lines:]]


def run_notebooks(paths: Sequence[Path], workers: int = WORKERS) -> list[NotebookRun]:
    """Run each notebook (a few at a time), in the order given."""
    with ThreadPoolExecutor(max(1, min(workers, len(paths)))) as pool:
        return list(pool.map(run_notebook, paths))


def find_notebooks(targets: Sequence[str]) -> list[Path]:
    """Notebooks named, or found in the folders named (default: ./learner, else ./notebooks, else .)."""
    if not targets:
        targets = [next((d for d in (LEARNER_DIR, NOTEBOOK_DIR) if Path(d).is_dir()), ".")]
    paths: list[Path] = []
    for target in map(Path, targets):
        if target.is_dir():
            paths.extend(sorted(target.glob(NOTEBOOK_GLOB)))
        elif target.suffix == ".ipynb" and target.is_file():
            paths.append(target)
        else:
            raise FileNotFoundError(f"{target} is neither a folder nor a notebook (.ipynb)")
    if not paths:
        raise FileNotFoundError(f"no notebooks named NN_*.ipynb in {', '.join(targets)}")
    return paths


def progress_table(runs: Sequence[NotebookRun]) -> str:
    """One row per exercise (✓ passes, ✗ not yet, with the check's words), then any errors and a total."""
    rows = [(run.path.name, exercise_id, line) for run in runs for exercise_id, line in run.checks.items()]
    width = max([len("notebook"), *(len(run.path.name) for run in runs)])
    id_width = max([len("exercise"), *(len(exercise_id) for _, exercise_id, _ in rows)])
    lines = [f"{'notebook'.ljust(width)}  {'exercise'.ljust(id_width)}  result"]
    for name, exercise_id, line in sorted(rows, key=lambda row: row[1]):
        match = CHECK_LINE.match(line)
        assert match is not None  # check_lines() kept only lines that match
        lines.append(f"{name.ljust(width)}  {exercise_id.ljust(id_width)}  {match['mark']} {match['detail']}")
    for run in runs:
        lines.extend(f"{run.path.name}: {error}" for error in run.errors)
    passed = sum(run.passed(exercise_id) for run in runs for exercise_id in run.checks)
    lines.append(f"{passed} of {len(rows)} exercises pass")
    return "\n".join(lines)


def report(targets: Sequence[str]) -> str:
    """Run the notebooks named (or found in the folders named) and return the progress table."""
    paths = find_notebooks(targets)
    noun = "notebook" if len(paths) == 1 else "notebooks"
    print(f"running {len(paths)} {noun} on the embedded fakeredis ...", file=sys.stderr, flush=True)
    return progress_table(run_notebooks(paths))
