"""The notebooks keep to labkit's public contract: `labkit.__all__` and `labkit.exercises.__all__`, nothing deeper."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import nbformat
import pytest

import labkit
from tests.support import LEARNER_COPIES, NOTEBOOKS

PUBLIC = {"labkit": set(labkit.__all__), "labkit.exercises": set(importlib.import_module("labkit.exercises").__all__)}


def contract_breaches(source: str) -> list[str]:
    """What a cell's code takes from labkit beyond its public names, and any private attribute it touches."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    found = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "labkit":
            if node.module not in PUBLIC:
                found.append(f"from {node.module} import ...: import from labkit or labkit.exercises")
            else:
                found.extend(f"{alias.name} is not in {node.module}.__all__"
                             for alias in node.names if alias.name not in PUBLIC[node.module])
        elif isinstance(node, ast.Import):
            found.extend(f"import {alias.name}" for alias in node.names if alias.name.startswith("labkit."))
        elif isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "labkit" and node.attr not in PUBLIC["labkit"]:
                found.append(f"labkit.{node.attr} is not in labkit.__all__")
            if node.attr.startswith("_") and not node.attr.startswith("__"):
                found.append(f"private attribute .{node.attr}")
    return found


@pytest.mark.parametrize("notebook", NOTEBOOKS + LEARNER_COPIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_notebooks_use_only_the_public_contract(notebook: Path) -> None:
    cells = nbformat.read(notebook, as_version=4).cells
    breaches = [f"cell {index}: {breach}" for index, cell in enumerate(cells) if cell.cell_type == "code"
                for breach in contract_breaches(cell.source)]
    assert not breaches, f"{notebook.name} reaches past labkit's public names:\n" + "\n".join(breaches)


@pytest.mark.parametrize("source, breach", [
    ("from labkit.fleet.widget import FleetControl", "import from labkit or labkit.exercises"),
    ("import labkit.backend.connection", "import labkit.backend.connection"),
    ("from labkit import learner_id", "learner_id is not in labkit.__all__"),
    ("import labkit\nlabkit.config.ENV_URL", "labkit.config is not in labkit.__all__"),
    ("store._session_prefix", "private attribute ._session_prefix"),
])
def test_the_contract_check_catches_each_breach(source: str, breach: str) -> None:
    assert breach in "\n".join(contract_breaches(source))


def test_every_public_name_exists() -> None:
    for module, names in PUBLIC.items():
        missing = [name for name in names if not hasattr(importlib.import_module(module), name)]
        assert not missing, f"{module}.__all__ names what it does not define: {missing}"
