"""connect(): the embedded default, a real server, and clear errors for every way it goes wrong."""

from __future__ import annotations

import time

import pytest

import labkit
from labkit.backend.connection import LabConnectionError, connect, redact
from tests.support.servers import LocalRedis, free_port, redis_server_path

needs_server = pytest.mark.skipif(redis_server_path() is None, reason="redis-server not on PATH")


def test_default_is_one_shared_fake_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    first, second = connect(), connect()
    first.set("lab:test:shared", "yes")
    assert labkit.is_fake(first) and second.get("lab:test:shared") == "yes"
    first.delete("lab:test:shared")
    assert connect().ping()


def test_fake_backend_banner_and_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    client = connect()
    assert labkit.backend_banner(client).startswith("Backend: fakeredis")
    assert labkit.server_version(client)[:2] == (7, 0)


@pytest.mark.parametrize("url", ["http://localhost:6379", "localhost:6379", "redis//nohost"])
def test_malformed_url_is_named_with_the_fix(url: str) -> None:
    with pytest.raises(LabConnectionError, match=r"not a Redis URL.*redis://"):
        connect(url)


def test_refused_port_fails_fast_and_says_what_was_tried() -> None:
    port = free_port()
    started = time.perf_counter()
    with pytest.raises(LabConnectionError, match=rf"Could not reach Redis at redis://127.0.0.1:{port}"):
        connect(f"redis://127.0.0.1:{port}/0")
    assert time.perf_counter() - started < 3, "connection errors must not sit through redis-py's retries"


def test_unknown_host_is_reported() -> None:
    with pytest.raises(LabConnectionError, match="no-such-host.invalid"):
        connect("redis://no-such-host.invalid:6379/0")


def test_password_is_never_printed() -> None:
    assert redact("redis://alice:s3cret@h:6380/0") == "redis://alice:***@h:6380/0"
    assert redact("redis://h:6379") == "redis://h:6379"
    with pytest.raises(LabConnectionError) as caught:
        connect(f"redis://:s3cret@127.0.0.1:{free_port()}/0")
    assert "s3cret" not in str(caught.value)


@needs_server
def test_real_server_banner_names_version_and_address(real_redis_url: str) -> None:
    client = connect(real_redis_url)
    banner = labkit.backend_banner(client)
    assert banner.startswith("Backend: Redis 7") or banner.startswith("Backend: Redis"), banner
    assert "127.0.0.1" in banner


@needs_server
def test_wrong_password_and_missing_password_are_told_apart() -> None:
    with LocalRedis("--requirepass", "right") as server:
        base = f"127.0.0.1:{server.port}/0"
        with pytest.raises(LabConnectionError, match="rejected the login"):
            connect(f"redis://:wrong@{base}")
        with pytest.raises(LabConnectionError, match="needs a password"):
            connect(f"redis://{base}")
        assert connect(f"redis://:right@{base}").ping()


@needs_server
def test_password_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalRedis("--requirepass", "from-env") as server:
        monkeypatch.setenv("REDIS_PASSWORD", "from-env")
        assert connect(f"redis://127.0.0.1:{server.port}/0").ping()


def test_keyspace_clears_only_its_own_keys(space: labkit.Keyspace) -> None:
    client = space.client
    client.set("lab:other:keep", "1")
    client.set(space.key("*glob"), "x")  # glob characters in keys are matched literally
    client.set(space.key("a"), "1")
    nested = space.child("nb")
    client.set(nested.key("b"), "2")
    assert sorted(nested.keys()) == [nested.key("b")]
    assert space.clear() == 3
    assert client.get("lab:other:keep") == "1"
    client.delete("lab:other:keep")


def test_empty_prefix_refuses_to_scan_everything() -> None:
    with pytest.raises(ValueError, match="every key"):
        list(labkit.Keyspace(connect(""), "").keys())


@needs_server
def test_commands_get_a_longer_timeout_than_the_connect_check(real_redis_url: str) -> None:
    # Failing fast applies to reaching the server; a slow command on a busy machine must not time out at 1 s.
    client = connect(real_redis_url, timeout=0.5, command_timeout=5.0)
    assert client.blpop(["lab:test:never-pushed"], timeout=1.2) is None  # the server answers after 1.2 s
