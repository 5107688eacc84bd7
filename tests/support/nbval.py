"""Run a notebook under strict nbval (stored outputs compared) in a fresh pytest process, on one backend."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support import ROOT

SANITIZE = ROOT / "tests" / "sanitize.cfg"


def run_nbval(notebook: Path, redis_url: str) -> subprocess.CompletedProcess:
    """Run one notebook under strict nbval in a fresh pytest process, on the given backend."""
    # A fixed learner namespace (lab:nbval:NN:...) so runs do not depend on the login name.
    env = {k: v for k, v in os.environ.items() if k != "LABKIT_PREFIX"}
    env.update(REDIS_URL=redis_url, LABKIT_LEARNER="nbval")
    command = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env",
               "--nbval-sanitize-with", str(SANITIZE), "-p", "no:cacheprovider", "-q",
               "-o", "addopts=", str(notebook)]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def check_nbval(notebook: Path, redis_url: str, label: str) -> None:
    """Assert that `notebook` passes strict nbval on `redis_url` ("" for fakeredis); print how long it took."""
    started = time.perf_counter()
    done = run_nbval(notebook, redis_url)
    elapsed = time.perf_counter() - started
    print(f"{notebook.name} on {label}: nbval took {elapsed:.1f} s")
    assert done.returncode == 0, f"{notebook.name} failed on {label}:\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"
