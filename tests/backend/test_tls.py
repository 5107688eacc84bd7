"""TLS: rediss:// against a local TLS-only redis-server whose certificate this run made, and clear errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import labkit
from labkit.backend.connection import ENV_CA_CERT, LabConnectionError, connect
from tests.support.servers import LocalRedis, TlsFiles, make_tls_files, redis_server_path

pytestmark = pytest.mark.skipif(redis_server_path() is None, reason="redis-server not on PATH: no TLS server")


def _bare(server: LocalRedis, scheme: str = "rediss", host: str = "127.0.0.1") -> str:
    return f"{scheme}://{host}:{server.port}/0"


def _fails_fast(url: str, match: str, timeout: float = 1.0) -> str:
    started = time.perf_counter()
    with pytest.raises(LabConnectionError, match=match) as caught:
        connect(url, timeout=timeout)
    assert time.perf_counter() - started < 3 * timeout + 1
    return str(caught.value)


def test_rediss_with_the_ca_in_the_url(tls_server: LocalRedis) -> None:
    assert "?ssl_ca_certs=" in tls_server.url
    client = connect(tls_server.url)
    client.set("lab:tls-test:k", "over TLS", ex=60)
    assert client.get("lab:tls-test:k") == "over TLS"
    assert labkit.backend_banner(client) == f"Backend: Redis {'.'.join(map(str, labkit.server_version(client)))} " \
                                           f"at 127.0.0.1:{tls_server.port} over TLS"


def test_rediss_with_the_ca_from_the_environment(tls_server: LocalRedis, tls_files: TlsFiles,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_CA_CERT, str(tls_files.ca_cert))
    assert connect(_bare(tls_server)).ping()


def test_no_ca_names_certificate_verification_and_both_fixes(tls_server: LocalRedis,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_CA_CERT, raising=False)
    message = _fails_fast(_bare(tls_server), "TLS certificate verification failed")
    assert "?ssl_ca_certs=/path/to/ca.pem" in message and f"{ENV_CA_CERT}=" in message


def test_wrong_ca_says_that_ca_did_not_sign_it(tls_server: LocalRedis, tmp_path: Path) -> None:
    stranger = make_tls_files(tmp_path, name="some other CA")
    _fails_fast(f"{_bare(tls_server)}?ssl_ca_certs={stranger.ca_cert}",
                rf"TLS certificate verification failed.*The CA file {stranger.ca_cert} did not sign")


def test_certificate_for_another_host_is_refused(tmp_path: Path) -> None:
    with LocalRedis(tls=make_tls_files(tmp_path, hosts=("localhost",))) as server:
        _fails_fast(server.url, r"verification failed.*mismatch.*Connect with a host name the certificate")
        assert connect(server.url.replace("127.0.0.1", "localhost")).ping()


def test_missing_ca_file_is_named(tls_server: LocalRedis, monkeypatch: pytest.MonkeyPatch) -> None:
    _fails_fast(f"{_bare(tls_server)}?ssl_ca_certs=/no/such/ca.pem",
                r"/no/such/ca.pem \(from the URL.s ssl_ca_certs\) does not exist")
    monkeypatch.setenv(ENV_CA_CERT, "/no/such/ca.pem")
    _fails_fast(_bare(tls_server), rf"/no/such/ca.pem \(from {ENV_CA_CERT}\) does not exist")


def test_misspelt_url_option_is_named(tls_server: LocalRedis, tls_files: TlsFiles) -> None:
    _fails_fast(f"{_bare(tls_server)}?ssl_ca_cert={tls_files.ca_cert}",
                r"URL option redis-py does not know.*ssl_ca_cert")


def test_plain_redis_url_at_a_tls_port_says_use_rediss(tls_server: LocalRedis) -> None:
    _fails_fast(_bare(tls_server, scheme="redis"), r"hung up on a plain-text connection.*must start with rediss://")


def test_rediss_url_at_a_plain_port_says_use_redis(real_redis_url: str, tls_files: TlsFiles) -> None:
    plain = real_redis_url.replace("redis://", "rediss://") + f"?ssl_ca_certs={tls_files.ca_cert}"
    _fails_fast(plain, r"No TLS handshake came back.*must start with redis://", timeout=0.5)
