"""environment.yml (conda/Binder) and pyproject.toml (pip) ask for the same packages."""

from __future__ import annotations

import re
from importlib.metadata import metadata, requires

from tests.support import ROOT

# Where conda-forge names a package differently from PyPI.
CONDA_TO_PYPI = {"playwright-python": "playwright", "redis-py": "redis"}


def _split(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", requirement).groups()
    return name.lower(), spec.replace(" ", "")


def conda_requirements() -> dict[str, str]:
    text = (ROOT / "environment.yml").read_text()
    deps = {}
    for line in text.split("\ndependencies:\n", 1)[1].splitlines():
        match = re.match(r"^  - ([A-Za-z].*)$", line)  # top-level conda entries only, not pip's
        if match:
            name, spec = _split(match.group(1))
            if name not in ("python", "pip"):
                deps[CONDA_TO_PYPI.get(name, name)] = spec
    return deps


def pip_requirements() -> dict[str, str]:
    # The installed metadata is pyproject.toml's (make reinstalls whenever pyproject.toml changes).
    # conda has no extras: `fakeredis[lua]` there is fakeredis plus what its lua extra requires (lupa).
    deps = {}
    for requirement in requires("labkit") or []:
        if "extra ==" in requirement:
            continue
        name, spec = _split(requirement)
        extras, spec = re.match(r"(?:\[([^\]]*)\])?(.*)", spec).groups()
        deps[name] = spec
        for extra in (extras or "").split(","):
            for dependency in requires(name) or [] if extra else []:
                if re.search(rf"extra\s*==\s*['\"]{extra}['\"]", dependency):
                    deps.update([_split(dependency.split(";")[0])])
    return deps


def test_environment_yml_matches_pyproject() -> None:
    assert conda_requirements() == pip_requirements()


def test_environment_yml_installs_the_project_editable() -> None:
    assert re.search(r"^\s+- -e \.\s*$", (ROOT / "environment.yml").read_text(), re.M)


def test_python_floor_agrees() -> None:
    assert f"python{metadata('labkit')['Requires-Python']}" in (ROOT / "environment.yml").read_text().replace(" ", "")
