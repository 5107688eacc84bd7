"""Shared fixtures: the embedded backend, a real redis-server when one is installed, the legs report."""

from __future__ import annotations

import pytest

import labkit
from labkit.local_server import LocalRedis, redis_server_path

# Which backends ("legs") this run covered, printed at the end so a skipped leg is visible.
LEGS: dict[str, str] = {}


@pytest.fixture(scope="session")
def real_redis_url() -> str:
    """URL of a throwaway redis-server on a free loopback port; skips where none is installed."""
    if redis_server_path() is None:
        LEGS["real redis-server"] = "SKIPPED: redis-server not on PATH (apt-get install redis-server)"
        pytest.skip("redis-server not on PATH")
    server = LocalRedis().start()
    version = ".".join(map(str, labkit.server_version(labkit.connect(server.url))))
    LEGS["real redis-server"] = f"ran against Redis {version} on 127.0.0.1:{server.port}"
    yield server.url
    server.stop()


@pytest.fixture(params=["fakeredis", "redis-server"])
def backend_url(request: pytest.FixtureRequest) -> str:
    """'' for the embedded fakeredis, then a real server's URL: a test using this runs on both."""
    if request.param == "fakeredis":
        LEGS.setdefault("fakeredis", "ran")
        return ""
    return request.getfixturevalue("real_redis_url")


@pytest.fixture
def space(backend_url: str, monkeypatch: pytest.MonkeyPatch) -> labkit.Keyspace:
    """A keyspace of the test's own on each backend, cleared before and after."""
    monkeypatch.setenv(labkit.connection.ENV_URL, backend_url)
    keyspace = labkit.Keyspace(labkit.connect(), f"{labkit.lab_prefix()}test:")
    keyspace.clear()
    yield keyspace
    keyspace.clear()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.section("backends (legs) in this run")
    for leg, what in sorted(LEGS.items()):
        terminalreporter.write_line(f"{leg}: {what}")
    if not LEGS:
        terminalreporter.write_line("no backend fixture was used")
