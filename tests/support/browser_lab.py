"""JupyterLab in headless Chromium, used the way a learner uses it: the browser test's helpers.

`Lab` starts JupyterLab with the README's `make lab` on a free loopback port, serving a copy of the
notebooks. `NotebookTab` opens one notebook in a Playwright page, runs it from the Run menu, waits
for the kernel, and reads back what each cell shows.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import ROOT
from tests.support.servers import free_port

# How this machine's Chromium is known to run headless without reaching out to the network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
MAX_SCREENSHOT_HEIGHT = 14000  # Chromium cannot paint a much taller page in one piece
WIDGET_FALLBACKS = ("Loading widget", "Error displaying widget", "children=(")  # text shown instead of a view
# Roles a learner operates: each needs an accessible name, or a screen reader announces only "spin button".
CONTROL_ROLES = frozenset({"button", "checkbox", "combobox", "listbox", "radio", "searchbox", "slider",
                           "spinbutton", "switch", "textbox"})
# One node of Playwright's ARIA snapshot: `- spinbutton "App servers": "3"`, unnamed `- slider: "3"`.
# Names that are no name: a widget with an empty description gets a tooltip of "null" from ipywidgets.
NON_NAMES = frozenset({"", "null", "undefined"})
_ARIA_NODE = re.compile(r'\s*- (?P<role>[a-z]+)(?: "(?P<name>(?:[^"\\]|\\.)*)")?')
# No news or update checks: the lab would try to reach jupyter.org and show a toast over the notebook.
# Every cell attached to the page (no windowing), so each one can be read and photographed.
LAB_SETTINGS = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings":
                {"fetchNews": "false", "checkForUpdates": False},
                "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"}}


def chromium_path() -> str | None:
    """Debian's Chromium, or None where it is not installed."""
    return shutil.which("chromium")


class Lab:
    """JupyterLab started by `make lab` on loopback, serving `notebook_dir`; logs go to `work/lab.log`."""

    def __init__(self, notebook_dir: Path, work: Path) -> None:
        self.notebook_dir, self.work = notebook_dir, work
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.log = work / "lab.log"
        self.process: subprocess.Popen | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def start(self, timeout: float = 90) -> Lab:
        settings = self.work / "settings"
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        lab_args = [f"--port={self.port}", "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", "--no-browser",
                    f"--IdentityProvider.token={self.token}"]
        if os.geteuid() == 0:  # CI runs as root, which JupyterLab refuses unless told
            lab_args.append("--allow-root")
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # the browser leg runs on fakeredis
        env.update(JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(self.work / "workspaces"))
        # -o: never rebuild .venv from inside a test; `make test` has just made sure it is current.
        command = ["make", "--no-print-directory", "-o", ".venv/.installed", "lab",
                   f"NOTEBOOK_DIR={self.notebook_dir}", f"LAB_ARGS={' '.join(lab_args)}"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log.open("w"),
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"`make lab` exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url(f"api/status?token={self.token}"), timeout=2):
                    return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """Shut the server down (and its kernels) through its API; kill its process group if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            request = urllib.request.Request(self.url(f"api/shutdown?token={self.token}"), method="POST")
            urllib.request.urlopen(request, timeout=5).close()
            self.process.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)


@dataclass
class CellView:
    """What one cell shows in the browser."""

    index: int
    prompt: str  # "[3]:", "[*]:", "[ ]:" for code cells; "" where the input is folded (solutions)
    outputs: list[dict] = field(default_factory=list)  # {"mime", "text", "widgets", "images"}

    @property
    def widgets(self) -> int:
        return sum(o["widgets"] for o in self.outputs)

    @property
    def images(self) -> int:
        return sum(o["images"] for o in self.outputs)

    @property
    def stderr(self) -> list[str]:
        """Tracebacks and stderr text, both drawn with JupyterLab's stderr style."""
        return [o["text"] for o in self.outputs if o["mime"] == "application/vnd.jupyter.stderr"]

    @property
    def fallback_text(self) -> list[str]:
        return [o["text"] for o in self.outputs
                if o["mime"] == "text/plain" and any(f in o["text"] for f in WIDGET_FALLBACKS)]


# Runs in the page: one record per cell of the visible notebook.
_READ_CELLS = """panel => Array.from(panel.querySelectorAll('.jp-Notebook .jp-Cell')).map((cell, index) => ({
    index,
    prompt: (cell.querySelector('.jp-InputArea-prompt') || {innerText: ''}).innerText.trim(),
    outputs: Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map(out => ({
      mime: out.getAttribute('data-mime-type') || '',
      text: out.innerText.slice(0, 400),
      widgets: out.querySelectorAll('.jupyter-widgets').length,
      images: out.querySelectorAll('img').length,
    })),
  }))"""


class NotebookTab:
    """One notebook opened in its own browser page, on a fresh JupyterLab workspace."""

    def __init__(self, browser, lab: Lab, relative_path: str) -> None:
        self.lab = lab
        self.page = browser.new_page(viewport=VIEWPORT)
        self.page.goto(lab.url(f"lab/tree/{relative_path}?reset&token={lab.token}"))
        self.panel = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        self.panel.locator(".jp-Cell").first.wait_for(timeout=60_000)
        self.wait_for_idle_kernel(timeout=60)

    def kernel_status(self) -> str:
        indicator = self.panel.locator(".jp-Notebook-ExecutionIndicator")
        return (indicator.get_attribute("data-status") or "") if indicator.count() else ""

    def wait_for_idle_kernel(self, timeout: float, settle: float = 1.0) -> None:
        """Until the kernel has been idle with no cell queued for `settle` seconds."""
        deadline, idle_since = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            busy = self.kernel_status() != "idle" or any(c.prompt == "[*]:" for c in self.cells())
            if busy:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= settle:
                return
            time.sleep(0.25)
        raise TimeoutError(f"kernel still {self.kernel_status()!r} after {timeout:.0f} s")

    def menu(self, menu: str, item: str) -> None:
        """Choose `item` from the menu bar's `menu`, with the mouse."""
        self.page.locator(".lm-MenuBar-itemLabel").get_by_text(menu, exact=True).click()
        self.page.locator(".lm-Menu-itemLabel").get_by_text(item, exact=True).click()

    def clear_all_outputs(self) -> None:
        self.menu("Edit", "Clear Outputs of All Cells")
        self.page.wait_for_function("panel => !panel.querySelector('.jp-OutputArea-output')",
                                    arg=self.panel.element_handle(), timeout=10_000)

    def run_all(self, timeout: float) -> float:
        """Run > Run All Cells, as a learner would; return the seconds until the kernel was idle."""
        started = time.monotonic()
        self.menu("Run", "Run All Cells")
        # Started: the kernel is busy, or (a quick notebook) a cleared prompt already shows a count.
        self.page.wait_for_function(
            """panel => panel.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status') !== 'idle'
                || Array.from(panel.querySelectorAll('.jp-InputArea-prompt')).some(p => /\\[\\d+\\]/.test(p.innerText))""",
            arg=self.panel.element_handle(), timeout=10_000)
        self.wait_for_idle_kernel(timeout=timeout)
        return time.monotonic() - started

    def poll(self, problems: Callable[[], list[str]], timeout: float) -> list[str]:
        """Call `problems` until it returns none or `timeout` passes; return its last answer."""
        deadline = time.monotonic() + timeout
        while (found := problems()) and time.monotonic() < deadline:
            time.sleep(0.5)
        return found

    def cells(self) -> list[CellView]:
        return [CellView(**c) for c in self.panel.evaluate(_READ_CELLS)]

    def press_with_keyboard(self, cell_index: int) -> tuple[list[str], bool]:
        """Press each enabled button of the cell's widgets with Enter until one changes what they show.

        Returns the buttons pressed (those not reachable with Tab are marked so) and whether one worked.
        """
        views = self.panel.locator(".jp-Notebook .jp-Cell").nth(cell_index).locator(
            ".jp-OutputArea-output:has(.jupyter-widgets)")
        buttons = views.locator("button:enabled")
        pressed = []
        for i in range(buttons.count()):
            button = buttons.nth(i)
            name = button.inner_text().strip()
            if button.evaluate("b => b.tabIndex < 0"):
                pressed.append(f"{name} (not reachable with Tab)")
                continue
            before = views.all_inner_texts()
            button.focus()
            self.page.keyboard.press("Enter")
            self.wait_for_idle_kernel(timeout=60)
            pressed.append(name)
            if self.poll(lambda: [] if views.all_inner_texts() != before else ["unchanged"], timeout=3) == []:
                return pressed, True
        return pressed, False

    def controls(self, cell_index: int) -> tuple[list[tuple[str, str]], int]:
        """The cell's widget controls as (role, accessible name), read from Chromium's accessibility
        tree, and how many form elements (input, select, textarea) they hold, to show none was missed."""
        views = self.panel.locator(".jp-Notebook .jp-Cell").nth(cell_index).locator(
            ".jp-OutputArea-output:has(.jupyter-widgets)")
        found, form_elements = [], 0
        for i in range(views.count()):
            for line in views.nth(i).aria_snapshot().splitlines():
                node = _ARIA_NODE.match(line)
                if node and node["role"] in CONTROL_ROLES:
                    found.append((node["role"], (node["name"] or "").strip()))
            form_elements += views.nth(i).locator("input:not([type=hidden]), select, textarea").count()
        return found, form_elements

    def run_below(self, code: str, timeout: float = 30) -> CellView:
        """Add a code cell after the last one with the keyboard, run it, and return what it shows."""
        before = len(self.cells())
        self.panel.locator(".jp-Cell").last.locator(".jp-InputPrompt").click()
        for key in ("Escape", "b", "Enter"):
            self.page.keyboard.press(key)
        self.page.keyboard.insert_text(code)
        self.page.keyboard.press("Shift+Enter")
        self.wait_for_idle_kernel(timeout=timeout)
        cells = self.cells()
        assert len(cells) > before, "the keyboard did not add a cell"
        return cells[before]

    def screenshot(self, path: Path, cells: tuple[int, ...] = ()) -> None:
        """The whole notebook, top to bottom (the page is made as tall as the notebook for the shot),
        and each cell in `cells` on its own, as `<path stem>.cell<N>.png`."""
        scroller = self.panel.locator(".jp-WindowedPanel-outer").first
        extra = scroller.evaluate("""el => {  // from the top to the last cell's end (not JupyterLab's scroll-past-end)
            el.scrollTop = 0;
            const cells = el.querySelectorAll('.jp-Cell');
            const end = cells[cells.length - 1].getBoundingClientRect().bottom - el.getBoundingClientRect().top;
            return Math.ceil(end) + 40 - el.clientHeight; }""")
        height = min(VIEWPORT["height"] + max(extra, 0), MAX_SCREENSHOT_HEIGHT)
        self.page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        self.page.wait_for_timeout(500)  # let the layout and the widgets settle at the new size
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))
        for index in cells:
            box = self.panel.locator(".jp-Notebook .jp-Cell").nth(index).bounding_box()
            if box and box["y"] + box["height"] <= height:
                self.page.screenshot(path=str(path.with_name(f"{path.stem}.cell{index}.png")), clip=box)
        self.page.set_viewport_size(VIEWPORT)

    def close(self) -> None:
        self.page.close()
