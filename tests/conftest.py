"""Shared fixtures: fakeredis, a real redis-server, one behind a delay link, a local cluster, a TLS server; the legs report."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

import labkit
from labkit.config import ENV_URL
from tests.support import LEGS
from tests.support.delay_link import DelayLink, measure_ping_rtt
from tests.support.servers import LocalCluster, LocalRedis, TlsFiles, make_tls_files, openssl_path, redis_server_path


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


# The network leg: the real server reached through an added round trip, as a class server down the hall
# (about 3 ms) or ElastiCache from an EC2 instance in its own Availability Zone (about 0.3 ms) would be.
NETWORK_RTTS = {"0.3 ms": 0.0003, "3 ms": 0.003}


@pytest.fixture(scope="session", params=list(NETWORK_RTTS), ids=lambda name: f"rtt {name}")
def network_redis_url(request: pytest.FixtureRequest, real_redis_url: str) -> str:
    """URL of the real server through a delay link adding each NETWORK_RTTS round trip in turn."""
    upstream = urlsplit(real_redis_url)
    link = DelayLink(upstream.hostname or "127.0.0.1", upstream.port or 6379, NETWORK_RTTS[request.param]).start()
    measured = measure_ping_rtt(*link.address)
    LEGS[f"network, {request.param} round trip"] = (f"ran against the real redis-server through a delay link: "
                                                     f"PING p50 {measured * 1000:.2f} ms (asked {request.param})")
    yield f"redis://{link.address[0]}:{link.port}/0"
    link.stop()


@pytest.fixture(scope="session")
def cluster_url() -> str:
    """URL of one node of a throwaway three-primary Redis Cluster on loopback ports."""
    if redis_server_path() is None:
        LEGS["cluster"] = "SKIPPED: redis-server not on PATH (apt-get install redis-server)"
        pytest.skip("redis-server not on PATH: no local cluster")
    cluster = LocalCluster(3).start()
    client = labkit.connect(cluster.url)
    LEGS["cluster"] = f"ran against a {labkit.backend_banner(client).removeprefix('Backend: ')}"
    client.close()
    yield cluster.url
    cluster.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A CA and a server certificate for 127.0.0.1, made for this run with openssl."""
    if openssl_path() is None:
        LEGS["TLS"] = "SKIPPED: openssl not on PATH (apt-get install openssl)"
        pytest.skip("openssl not on PATH: no certificates for the TLS leg")
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def tls_server(tls_files: TlsFiles) -> LocalRedis:
    """A throwaway redis-server that speaks only TLS, with the run's certificate; `.url` names the CA."""
    if redis_server_path() is None:
        LEGS["TLS"] = "SKIPPED: redis-server not on PATH (apt-get install redis-server)"
        pytest.skip("redis-server not on PATH")
    server = LocalRedis(tls=tls_files).start()
    version = ".".join(map(str, labkit.server_version(labkit.connect(server.url))))
    LEGS["TLS"] = f"ran against Redis {version} with TLS only on 127.0.0.1:{server.port} (CA made by openssl)"
    yield server
    server.stop()


@pytest.fixture(params=["fakeredis", "redis-server", "cluster"])
def backend_url(request: pytest.FixtureRequest) -> str:
    """'' for the embedded fakeredis, a real server's URL, a cluster node's URL: a test using this runs on all three."""
    if request.param == "fakeredis":
        LEGS.setdefault("fakeredis", "ran")
        return ""
    return request.getfixturevalue("real_redis_url" if request.param == "redis-server" else "cluster_url")


@pytest.fixture
def space(backend_url: str, monkeypatch: pytest.MonkeyPatch) -> labkit.Keyspace:
    """A keyspace of the test's own on each backend, cleared before and after."""
    monkeypatch.setenv(ENV_URL, backend_url)
    keyspace = labkit.Keyspace(labkit.connect(), f"{labkit.lab_prefix()}test:")
    keyspace.clear()
    yield keyspace
    keyspace.clear()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist, a worker hands the legs it ran to the controller, which writes the summary."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["legs"] = dict(LEGS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """pytest-xdist's controller: gather each worker's legs (a skip only where no worker ran the leg)."""
    for leg, what in getattr(node, "workeroutput", {}).get("legs", {}).items():
        if leg not in LEGS or LEGS[leg].startswith("SKIPPED"):
            LEGS[leg] = what


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.section("backends (legs) in this run")
    for leg, what in sorted(LEGS.items()):
        terminalreporter.write_line(f"{leg}: {what}")
    if not LEGS:
        terminalreporter.write_line("no backend fixture was used")
