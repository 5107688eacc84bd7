"""JupyterHub: `labkit class hub-env` gives each hub user their own REDIS_URL and LABKIT_LEARNER."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import labkit
from labkit import cli


def _spawner(name: str) -> SimpleNamespace:
    return SimpleNamespace(user=SimpleNamespace(name=name))


def test_the_hub_snippet_gives_each_user_their_learner_url(admin_url: str, handout: dict[str, str], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture, monkeypatch) -> None:
    capsys.readouterr()
    assert cli.main(["class", "hub-env", "--handout", str(tmp_path / "class.csv")]) == 0
    snippet = capsys.readouterr().out
    config = SimpleNamespace(Spawner=SimpleNamespace(environment={"OTHER": "kept"}))
    exec(compile(snippet, "jupyterhub_config.py", "exec"), {"c": config})  # as JupyterHub loads its config
    environment = config.Spawner.environment
    assert environment["OTHER"] == "kept"
    bob = {name: value(_spawner("bob")) for name, value in environment.items() if callable(value)}
    assert bob == {"REDIS_URL": handout["bob"], "LABKIT_LEARNER": "bob"}
    with pytest.raises(ValueError, match="hub user 'mallory' is not a learner of this class"):
        environment["REDIS_URL"](_spawner("mallory"))
    # In bob's server the lab then runs as bob, in bob's namespace, whatever the container's login name.
    code = "import labkit; print(labkit.open_lab('01').prefix)"
    env = {"PATH": "/usr/bin:/bin", **bob, "JUPYTERHUB_USER": "bob", "USER": "jovyan"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "lab:bob:01:" and "· learner bob ·" in out
    assert labkit.connect(bob["REDIS_URL"]).acl_whoami() == "lab-bob"


def test_hub_env_needs_the_handout(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["class", "hub-env", "--handout", str(tmp_path / "missing.csv")]) == 2
    assert "no handout at" in capsys.readouterr().err
