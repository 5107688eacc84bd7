"""Each notebook as a learner meets it: JupyterLab (started by `make lab`) in headless Chromium.

For every notebooks/NN_*.ipynb, on a temporary copy (the committed files are never touched):
- opened, before anything runs, the widget views stored in the file come back as widgets;
- run from the Run menu, in a kernel of this project's environment, no cell shows an error, every
  cell that stores a widget shows a live widget (not its text fallback) and every stored plot draws;
- every control of a widget (box, slider, list, button...) has an accessible name in Chromium's
  accessibility tree, so a screen reader says what it sets;
- a widget with buttons answers the keyboard (Enter on a focused button changes what it shows).
A control checks that an unsigned copy shows the text fallback, so the saved-state check can fail.
A full-page screenshot of each, and one of each widget cell, is saved under artifacts/screenshots/
(CI keeps that folder; docs/fleet-control.png is the widget cell of notebook 01, made smaller).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.support import LEGS, NOTEBOOKS, ROOT
from tests.support.browser_lab import CHROMIUM_ARGS, NON_NAMES, Lab, NotebookTab, chromium_path

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
RUN_TIMEOUT = 240  # seconds for one notebook's Run All; a hang fails instead of blocking CI
PROBE = "import sys, labkit\nprint(sys.prefix)\nprint(labkit.__file__)"


def stored_cells(notebook: Path) -> list[dict]:
    """Per cell: whether the file stores a widget view, a plot, an error that the cell teaches."""
    cells = []
    for cell in json.loads(notebook.read_text())["cells"]:
        outputs = cell.get("outputs", [])
        source = "".join(cell["source"])
        cells.append({
            "code": cell["cell_type"] == "code" and bool(source.strip()),
            "widget": any(WIDGET_VIEW in o.get("data", {}) for o in outputs),
            "plot": any("image/png" in o.get("data", {}) for o in outputs),
            "stderr": any(o.get("name") == "stderr" for o in outputs),
            "raises": "raises-exception" in cell.get("metadata", {}).get("tags", [])
                      or "NBVAL_RAISES_EXCEPTION" in source,
        })
    return cells


def widget_problems(tab: NotebookTab, expected: list[dict]) -> list[str]:
    """Every cell storing a widget view shows one as a widget, never as its text fallback."""
    problems = []
    for cell, want in zip(tab.cells(), expected):
        where = f"cell {cell.index} {cell.prompt}"
        if want["widget"] and not cell.widgets:
            problems.append(f"{where} shows no widget; it shows {[o['text'][:120] for o in cell.outputs]}")
        if cell.fallback_text:
            problems.append(f"{where} shows a widget's text fallback: {cell.fallback_text[0][:120]!r}")
    return problems


@pytest.fixture(scope="module")
def browser():
    chromium = chromium_path()
    reason = None if chromium else "Chromium not installed (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = reason or "playwright not importable (make test reinstalls .venv from pyproject.toml)"
    if reason:
        LEGS["browser"] = f"SKIPPED: {reason}"
        pytest.skip(reason)
    version = subprocess.run([chromium, "--version"], capture_output=True, text=True).stdout.strip()
    LEGS["browser"] = f"JupyterLab in headless {version or chromium}; screenshots in {SCREENSHOTS}"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def lab(browser, tmp_path_factory: pytest.TempPathFactory):
    """`make lab` serving a temporary copy of the notebooks."""
    work = tmp_path_factory.mktemp("browser")
    copies = work / "notebooks"
    copies.mkdir()
    for notebook in NOTEBOOKS:
        shutil.copy(notebook, copies)
    server = Lab(copies, work).start()
    yield server
    server.stop()


def test_an_unsigned_notebook_shows_the_text_fallback(lab: Lab, browser) -> None:
    # The control for the saved-state check below: a notebook that `make lab` did not sign shows only text.
    with_widgets = [n for n in NOTEBOOKS if any(c["widget"] for c in stored_cells(n))]
    if not with_widgets:
        pytest.skip("no notebook stores a widget view")
    copy = nbformat.read(with_widgets[0], as_version=4)
    copy.metadata["browser_test"] = "an unsigned copy"  # other content, so the signature no longer matches
    nbformat.write(copy, lab.notebook_dir / "unsigned.ipynb")
    tab = NotebookTab(browser, lab, "unsigned.ipynb")
    try:
        expected = stored_cells(with_widgets[0])
        problems = tab.poll(lambda: [] if widget_problems(tab, expected) else ["renders"], timeout=20)
    finally:
        tab.close()
    assert not problems, "an unsigned notebook rendered its stored widgets: the saved-state check proves nothing"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_in_the_browser(lab: Lab, browser, notebook: Path) -> None:
    expected = stored_cells(notebook)
    tab = NotebookTab(browser, lab, notebook.name)
    try:
        # 1. Opened, not run: its kernel is new, so any widget view on screen comes from the file's saved state.
        opened = tab.poll(lambda: widget_problems(tab, expected), timeout=20)
        problems = [f"opened without running: {p}" for p in opened]
        if any(c["widget"] for c in expected):
            tab.screenshot(SCREENSHOTS / f"{notebook.stem}.opened.png")
        # 2. Run > Run All Cells, after clearing the outputs so everything checked comes from this run.
        tab.clear_all_outputs()
        seconds = tab.run_all(timeout=RUN_TIMEOUT)
        print(f"{notebook.name}: Run All Cells took {seconds:.1f} s in the browser")
        tab.screenshot(SCREENSHOTS / f"{notebook.stem}.png", cells=tuple(i for i, c in enumerate(expected) if c["widget"]))
        problems += widget_problems(tab, expected)
        for cell, want in zip(tab.cells(), expected):
            if want["code"] and cell.prompt and not cell.prompt[1:-2].isdigit():  # a folded cell shows no prompt
                problems.append(f"cell {cell.index} did not run (prompt {cell.prompt!r}): Run All stopped before it")
            if cell.stderr and not (want["raises"] or want["stderr"]):
                problems.append(f"cell {cell.index} {cell.prompt} shows an error: {cell.stderr[0][-400:]}")
            if want["plot"] and not cell.images:
                problems.append(f"cell {cell.index} {cell.prompt} stores a plot but drew no image")
        # 3. Every control is named in the accessibility tree (and the tree shows every form element).
        for index in [i for i, want in enumerate(expected) if want["widget"]]:
            controls, form_elements = tab.controls(index)
            unnamed = [f"{role} {name!r}" for role, name in controls if name in NON_NAMES]
            if unnamed:
                problems.append(f"cell {index}: controls with no accessible name: {unnamed}")
            if sum(role != "button" for role, _ in controls) < form_elements:
                problems.append(f"cell {index}: {form_elements} form elements, but the accessibility tree "
                                f"shows only these controls: {controls}")
        # 4. Each widget with buttons answers the keyboard: Enter on a button changes what it shows.
        for index in [i for i, want in enumerate(expected) if want["widget"]]:
            pressed, changed = tab.press_with_keyboard(index)
            if pressed and not changed:
                problems.append(f"cell {index}: Enter on the buttons {pressed} changed nothing the widget shows")
        # 5. A cell typed at the end with the keyboard asks the kernel where it runs.
        probe_cell = tab.run_below(PROBE)
    finally:
        tab.close()
    assert not problems, f"{notebook.name} in the browser:\n" + "\n".join(problems)
    shown = "".join(o["text"] for o in probe_cell.outputs)
    assert len(shown.split()) == 2, f"the probe cell {PROBE!r} showed {shown!r}"
    prefix, labkit_file = shown.split()
    ran = sum(c["code"] for c in expected)
    # The kernel is this project's environment (the one running the tests), with this checkout's labkit,
    # and it ran every code cell.
    assert prefix == sys.prefix, f"the notebook's kernel runs in {prefix}, not the project's {sys.prefix}"
    assert Path(labkit_file).resolve().is_relative_to((ROOT / "labkit").resolve()), (
        f"the kernel imported labkit from {labkit_file}, not from this checkout")
    assert probe_cell.prompt == f"[{ran + 1}]:", (
        f"the probe cell ran as {probe_cell.prompt}: not all {ran} code cells ran in this kernel")
