"""Before redis-py connects: the host name resolves in time, the port answers, TLS is spoken; each failure a sentence."""

from __future__ import annotations

import errno
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from labkit.backend.connection import LabConnectionError, connect
from tests.support.servers import LocalRedis, free_port, redis_server_path

needs_server = pytest.mark.skipif(redis_server_path() is None, reason="redis-server not on PATH")
BOUND = 5  # seconds: every failure comes within about the 1 s timeout; the unbounded ones took 10 s or more


def _fails_within_bound(url: str, *words: str) -> str:
    started = time.monotonic()
    with pytest.raises(LabConnectionError) as caught:
        connect(url, timeout=1.0)
    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert elapsed < BOUND, f"took {elapsed:.1f} s: {message}"
    for word in (url, *words, "Unset REDIS_URL"):
        assert word in message, f"{word!r} missing from: {message}"
    return message


@pytest.fixture
def name_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Callable[[], None]]]:
    """socket.getaddrinfo answering, for the host names put in the dict, as a broken name server would."""
    answers: dict[str, Callable[[], None]] = {}
    released = threading.Event()
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if host in answers:
            answers[host]()
        return real(host, *args, **kwargs)

    def hang() -> None:  # a name server that never answers: the lookup holds its thread until the test ends
        released.wait(60)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    answers["hang"] = hang  # not a host name: the hook tests use to pick it
    yield answers
    released.set()


def _raises(exc: BaseException) -> Callable[[], None]:
    def answer() -> None:
        raise exc
    return answer


NAME_FAILURES = [
    ("hang", "did not resolve within 1 s (the name server is slow or unreachable)"),
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "is unknown (Name or service not known)"),
    (socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), "could not look up"),
    (socket.gaierror(socket.EAI_FAIL, "Non-recoverable failure in name resolution"), "looking up the host name"),
]


@pytest.mark.parametrize("answer, words", NAME_FAILURES, ids=["slow", "unknown", "no answer now", "other"])
def test_a_host_name_that_does_not_resolve_fails_within_the_bound(name_server, answer, words: str) -> None:
    host = "cache.lab-test.example"
    name_server[host] = name_server["hang"] if answer == "hang" else _raises(answer)
    _fails_within_bound(f"redis://{host}:6379/0", f"{host!r}", words)


def test_an_unknown_host_on_the_real_name_server_is_named() -> None:
    _fails_within_bound("redis://no-such-host.invalid:6379/0", "'no-such-host.invalid'")


TCP_FAILURES = [
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "(connection refused)"),
    (TimeoutError("timed out"), "did not answer within 1 s. The host may be down, or a firewall or security group"),
    (OSError(errno.EHOSTUNREACH, "No route to host"), "no network route to 10.1.2.3 (No route to host)"),
    (PermissionError(errno.EACCES, "Permission denied"), "connecting to 10.1.2.3:6379 failed (Permission denied)"),
]


@pytest.mark.parametrize("exc, words", TCP_FAILURES, ids=["refused", "timeout", "no route", "other"])
def test_each_way_a_port_fails_is_told_from_its_type_and_errno(monkeypatch: pytest.MonkeyPatch, exc, words) -> None:
    def connect_fails(self, address):
        raise exc

    monkeypatch.setattr(socket.socket, "connect", connect_fails)
    _fails_within_bound("redis://10.1.2.3:6379/0", words)


def test_a_refused_port_is_named_for_real() -> None:
    port = free_port()
    _fails_within_bound(f"redis://127.0.0.1:{port}/0", f"nothing accepts connections on port {port} of 127.0.0.1")


def test_unix_socket_failures_are_named(tmp_path: Path) -> None:
    _fails_within_bound(f"unix://{tmp_path}/none.sock", f"there is no socket file {tmp_path}/none.sock")
    stale = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(stale))  # a socket file nobody listens on, as a stopped server leaves
    _fails_within_bound(f"unix://{stale}", f"nothing listens on the socket {stale}")


@needs_server
def test_a_unix_socket_server_connects() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/redis.sock"
        with LocalRedis("--unixsocket", path):
            client = connect(f"unix://{path}?db=0")
            assert client.ping() and client.connection_pool.connection_kwargs["path"] == path


@pytest.mark.parametrize("answer, words", [
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", "is not TLS"),
    (b"", "closed the connection instead of answering the TLS handshake"),
], ids=["plain text", "hang-up"])
def test_a_port_that_answers_but_not_in_tls_is_named(answer: bytes, words: str) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer_in_plain_text() -> None:
        conn, _ = listener.accept()
        with conn:
            if answer:
                conn.sendall(answer)
                conn.recv(1024)

    threading.Thread(target=answer_in_plain_text, daemon=True).start()
    try:
        _fails_within_bound(f"rediss://127.0.0.1:{port}/0", words, "the URL must start with redis://")
    finally:
        listener.close()


@pytest.mark.parametrize("answer, words", [
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", "not in Redis's protocol: is that port a Redis server"),
    (None, "nothing answered PING in time: is it a Redis server"),
], ids=["a web server", "silence"])
def test_a_port_that_answers_but_is_not_redis_is_named(answer: bytes | None, words: str) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    done = threading.Event()

    def reply(conn: socket.socket) -> None:
        with conn:
            if answer and conn.recv(1024):  # the preflight's connection sends nothing and closes
                conn.sendall(answer)
            done.wait(5)

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=reply, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        message = _fails_within_bound(f"redis://127.0.0.1:{port}/0", words)
    finally:
        done.set()
        listener.close()
    assert "Traceback" not in message
