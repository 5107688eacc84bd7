"""Without a server binary notebook 04 says how to get one, and every later cell prints 'skipped' instead of failing."""

from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient

from labkit.production import cells, servers
from tests.support import ROOT

NOTEBOOK = ROOT / "notebooks" / "04_production.ipynb"


def test_without_a_server_the_first_cell_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(servers, "_found", {})
    monkeypatch.setenv("LABKIT_SERVER", "none")
    assert cells.production_servers() is None
    said = capsys.readouterr().out
    assert "apt-get install redis-server" in said and "labkit[production]" in said
    assert cells.skip_without_server(["r.set('a', 1)\n"]) == [cells.SKIPPED]


def test_with_a_server_the_first_cell_names_it(server_binary, capsys) -> None:
    assert cells.production_servers() == server_binary
    assert capsys.readouterr().out.startswith("Experiments start their own servers on 127.0.0.1: ")


@pytest.mark.parametrize("copy", ["notebooks", "learner"])
def test_the_notebook_runs_without_a_server_and_skips_its_experiments(copy: str) -> None:
    notebook = nbformat.read(ROOT / copy / NOTEBOOK.name, as_version=4)
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "LABKIT_PREFIX")}
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env, LABKIT_SERVER="none", LABKIT_LEARNER="nbval")
    try:
        NotebookClient(notebook, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(ROOT / copy)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    first = next(i for i, c in enumerate(code) if "production_servers()" in c.source)
    said = "".join(o.get("text", "") for o in code[first].outputs)
    assert "No Redis server binary here" in said
    for cell in code[first + 1:]:
        assert "".join(o.get("text", "") for o in cell.outputs) == "skipped: no server\n", cell.source[:60]
