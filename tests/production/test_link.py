"""The delay link delays each direction without queueing, holds everything while paused, and drops it on stop."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from labkit.production.link import DelayLink


@pytest.fixture
def echo():
    """A loopback echo server: (host, port)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=_echo, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()
    listener.close()


def _echo(conn: socket.socket) -> None:
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)


def _round_trip(sock: socket.socket, payload: bytes = b"ping") -> float:
    started = time.perf_counter()
    sock.sendall(payload)
    got = b""
    while len(got) < len(payload):
        got += sock.recv(65536)
    assert got == payload
    return time.perf_counter() - started


def test_a_round_trip_takes_at_least_twice_the_delay(echo) -> None:
    with DelayLink(*echo, delay=0.01) as link, socket.create_connection(("127.0.0.1", link.port)) as sock:
        times = [_round_trip(sock) for _ in range(5)]
    assert min(times) >= 0.02


def test_a_burst_pays_the_delay_once_not_per_chunk(echo) -> None:
    with DelayLink(*echo, delay=0.02) as link, socket.create_connection(("127.0.0.1", link.port)) as sock:
        started = time.perf_counter()
        for i in range(20):
            sock.sendall(f"{i:03d}".encode())
            time.sleep(0.001)
        got = b""
        while len(got) < 60:
            got += sock.recv(65536)
        elapsed = time.perf_counter() - started
    assert got == b"".join(f"{i:03d}".encode() for i in range(20))
    assert elapsed < 20 * 0.04 / 2, "chunks queued behind each other's delays"


def test_pause_holds_bytes_until_resume(echo) -> None:
    with DelayLink(*echo, delay=0.001) as link, socket.create_connection(("127.0.0.1", link.port)) as sock:
        link.pause()
        assert not link.flowing and "paused" in repr(link)
        sock.sendall(b"held")
        sock.settimeout(0.2)
        with pytest.raises(socket.timeout):
            sock.recv(16)
        link.resume()
        sock.settimeout(5)
        assert sock.recv(16) == b"held"


def test_stop_drops_what_a_paused_link_holds(echo) -> None:
    link = DelayLink(*echo, delay=0.001).start()
    sock = socket.create_connection(("127.0.0.1", link.port))
    link.pause()
    sock.sendall(b"lost")
    time.sleep(0.05)
    link.stop()
    sock.settimeout(5)
    try:
        assert sock.recv(16) == b""
    except ConnectionResetError:
        pass
    sock.close()
