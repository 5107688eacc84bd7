"""The network leg: every notebook, instructor and learner copies, on a real Redis across an added round trip.

Loopback answers in about 0.05 ms; a class server down the hall or ElastiCache in another building does
not. The delay link (tests/support/delay_link.py) adds 0.3 ms and 3 ms, and the stored outputs must still
compare equal: nothing a notebook prints or asserts may depend on how far away the server is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.config import ENV_LEARNER
from labkit.exercises import progress
from tests.support import LEARNER_COPIES, NOTEBOOKS
from tests.support.nbval import check_nbval


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_across_a_network(notebook: Path, network_redis_url: str) -> None:
    check_nbval(notebook, network_redis_url, f"a real Redis through a delay link ({network_redis_url})")


@pytest.mark.parametrize("copy", LEARNER_COPIES, ids=lambda p: p.stem)
def test_learner_copy_across_a_network(copy: Path, network_redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_LEARNER, "network-learner")
    run = progress.run_notebook(copy, redis_url=network_redis_url)
    assert run.errors == [], f"{copy.name}'s learner copy raised across the network"
    assert run.checks, f"{copy.name} ran no exercise check"
    for line in run.checks.values():
        assert line.startswith("✗") and ", not yet: " in line, line
