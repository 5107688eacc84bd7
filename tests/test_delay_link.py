"""The delay link adds the round trip it is asked for, per chunk, both ways, and shuts down cleanly.

Lower bounds are structural (the link never forwards a chunk early), so they are asserted on every
try. Upper bounds are on medians, and a busy machine can only add time, so each such check gets up
to TRIES tries and passes on the first in bounds: a link that really is too slow fails them all.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
import redis

from tests.support.delay_link import PING, DelayLink, describe, measure_ping_rtt

HOST = "127.0.0.1"
MS = 1e-3
TRIES = 5


@pytest.fixture(scope="module")
def redis_port(real_redis_url: str) -> Iterator[int]:
    """Port of the run's throwaway redis-server on loopback (skipped where redis-server is missing)."""
    port = urlsplit(real_redis_url).port
    assert port is not None
    yield port
    redis.Redis(HOST, port).delete(*KEYS)  # the server is shared by the whole run


KEYS = ("lab:test:delay-link:board", "lab:test:delay-link:hits")


class Echo:
    """A loopback TCP echo server recording when each read arrived, each reply left, and each EOF."""

    def __init__(self) -> None:
        self.listener = socket.create_server((HOST, 0))
        self.port: int = self.listener.getsockname()[1]
        self.reads: list[tuple[float, bytes]] = []
        self.sends: list[float] = []
        self.eofs: list[float] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with conn:
            while data := conn.recv(1 << 20):
                self.reads.append((time.perf_counter(), data))
                self.sends.append(time.perf_counter())
                conn.sendall(data)
            self.eofs.append(time.perf_counter())

    def close(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes accept() on Linux
        self.listener.close()


@pytest.fixture
def echo() -> Iterator[Echo]:
    server = Echo()
    yield server
    server.close()


def connect(address: tuple[str, int]) -> socket.socket:
    """A client socket with Nagle off, so each send leaves at once."""
    sock = socket.create_connection(address, timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    """Exactly `size` bytes from `sock`, failing if it closes first."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, f"connection closed after {len(data)} of {size} bytes"
        data += chunk
    return data


def within_bounds(attempt: Callable[[], tuple[bool, str]]) -> None:
    """Run `attempt` (asserting its lower bounds, returning (upper bounds met, report)) until it is in bounds."""
    reports = []
    for _ in range(TRIES):
        ok, report = attempt()
        reports.append(report)
        if ok:
            print(f"{report} (try {len(reports)})")
            return
    pytest.fail(f"out of bounds in all {TRIES} tries:\n" + "\n".join(reports))


@pytest.mark.parametrize(("rtt", "low", "high"), [(0.3 * MS, 0.24 * MS, 0.7 * MS), (3 * MS, 2.7 * MS, 4.0 * MS)],
                         ids=["0.3ms", "3ms"])
def test_ping_pays_the_asked_round_trip(redis_port: int, rtt: float, low: float, high: float) -> None:
    with DelayLink(HOST, redis_port, rtt) as link:

        def attempt() -> tuple[bool, str]:
            direct, through = measure_ping_rtt(HOST, redis_port), measure_ping_rtt(*link.address)
            report = f"direct PING p50 {direct / MS:.3f} ms, {describe(link, through)}"
            assert through >= rtt, report  # structural: every sample through the link is >= rtt, so the median is
            return low <= through - direct <= high, report  # compares two medians: a busy moment can skew one

        within_bounds(attempt)


def command(*args: str | int) -> bytes:
    """One Redis command in RESP, as a client library sends it."""
    parts = [str(arg).encode() for arg in args]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(part), part) for part in parts)


BURSTS = {  # requests sent back to back (one send each) without waiting, and how many reply lines come back
    "2000 PINGs, one send each": ([PING] * 2000, 2000),
    "a 10,000-member ZADD pipeline in one send": (
        [b"".join(command("ZADD", "lab:test:delay-link:board", *(x for i in range(s, s + 100) for x in (i, f"player:{i}")))
                  for s in range(0, 10_000, 100))], 100),
}


def burst(address: tuple[str, int], requests: list[bytes], replies: int) -> float:
    """Seconds to send `requests` back to back and read `replies` reply lines, on a raw socket (no client CPU)."""
    with connect(address) as sock:
        sock.sendall(PING)
        recv_exactly(sock, 7)
        started = time.perf_counter()
        for request in requests:
            sock.sendall(request)
        lines = 0
        while lines < replies:
            chunk = sock.recv(1 << 16)
            assert chunk and not chunk.startswith(b"-"), chunk[:100]
            lines += chunk.count(b"\n")
        return time.perf_counter() - started


@pytest.mark.parametrize("name", BURSTS)
def test_a_pipelined_burst_pays_the_latency_once(redis_port: int, name: str) -> None:
    rtt = 3 * MS
    with DelayLink(HOST, redis_port, rtt) as link:

        def attempt() -> tuple[bool, str]:
            direct, through = burst((HOST, redis_port), *BURSTS[name]), burst(link.address, *BURSTS[name])
            report = f"{name}: direct {direct / MS:.1f} ms, through a {rtt / MS:.0f} ms link {through / MS:.1f} ms"
            assert through >= rtt, report
            return through < direct + 5 * rtt, report  # queued chunk by chunk, it would take tens of round trips

        within_bounds(attempt)


def test_each_chunk_is_delayed_from_its_own_arrival(echo: Echo) -> None:
    rtt, count = 3 * MS, 200
    with DelayLink(HOST, echo.port, rtt) as link:

        def attempt() -> tuple[bool, str]:
            echo.reads.clear()
            sent = []
            with connect(link.address) as sock:
                for i in range(count):  # 200 one-byte chunks over ~35 ms
                    sent.append(time.perf_counter())
                    sock.sendall(bytes([i]))
                    time.sleep(0.0001)
                assert recv_exactly(sock, count) == bytes(range(count))
            assert b"".join(data for _, data in echo.reads) == bytes(range(count))  # in order
            arrived = [at for at, data in echo.reads for _ in data]
            one_way = sorted(a - s for a, s in zip(arrived, sent))
            p50, p90 = one_way[count // 2], one_way[count * 9 // 10]
            report = f"one-way delay of {count} chunks: min {one_way[0] / MS:.3f} ms, p50 {p50 / MS:.3f} ms, " \
                     f"p90 {p90 / MS:.3f} ms, max {one_way[-1] / MS:.3f} ms (asked {rtt / 2 / MS} ms)"
            assert one_way[0] >= rtt / 2, report
            # Were each chunk queued behind the one before, the median would be ~150 ms and the p90 ~270 ms.
            return p50 <= rtt / 2 + 1 * MS and p90 <= rtt / 2 + 10 * MS, report

        within_bounds(attempt)


def test_both_directions_are_delayed(echo: Echo) -> None:
    rtt, count = 3 * MS, 50
    with DelayLink(HOST, echo.port, rtt) as link:

        def attempt() -> tuple[bool, str]:
            echo.reads.clear()
            echo.sends.clear()
            sent, received = [], []
            with connect(link.address) as sock:
                for i in range(count):
                    sent.append(time.perf_counter())
                    sock.sendall(bytes([i]))
                    assert recv_exactly(sock, 1) == bytes([i])
                    received.append(time.perf_counter())
            going = statistics.median(at - s for (at, _), s in zip(echo.reads, sent))
            coming = statistics.median(r - s for s, r in zip(echo.sends, received))
            report = f"p50 client->server {going / MS:.3f} ms, server->client {coming / MS:.3f} ms (asked {rtt / 2 / MS} ms each)"
            assert len(echo.reads) == count, report
            assert all(at - s >= rtt / 2 for (at, _), s in zip(echo.reads, sent)), report
            assert all(r - s >= rtt / 2 for s, r in zip(echo.sends, received)), report
            return going <= rtt / 2 + 0.5 * MS and coming <= rtt / 2 + 0.5 * MS, report

        within_bounds(attempt)


def test_a_half_close_reaches_the_far_side_after_the_data(echo: Echo) -> None:
    rtt = 3 * MS
    with DelayLink(HOST, echo.port, rtt) as link, connect(link.address) as sock:
        started = time.perf_counter()
        sock.sendall(b"hello")
        sock.shutdown(socket.SHUT_WR)
        assert recv_exactly(sock, 5) == b"hello"
        assert sock.recv(1) == b""  # the echo server closed once it saw EOF, and that came through too
        elapsed = time.perf_counter() - started
    assert [data for _, data in echo.reads] == [b"hello"] and echo.eofs[0] >= echo.reads[0][0]
    assert echo.eofs[0] - started >= rtt / 2 and elapsed >= rtt


def test_many_concurrent_connections(redis_port: int) -> None:
    rtt, workers, calls = 3 * MS, 16, 25
    before = set(threading.enumerate())
    with DelayLink(HOST, redis_port, rtt) as link:
        client = redis.Redis(*link.address, max_connections=workers)
        client.delete("lab:test:delay-link:hits")
        elapsed: list[float] = []

        def work() -> None:
            started = time.perf_counter()
            for _ in range(calls):
                client.incr("lab:test:delay-link:hits")
            elapsed.append(time.perf_counter() - started)

        threads = [threading.Thread(target=work) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert int(client.get("lab:test:delay-link:hits") or 0) == workers * calls
        assert min(elapsed) >= calls * rtt  # each INCR paid a round trip, none was skipped
        client.close()
    assert set(threading.enumerate()) <= before, "stop() left threads behind"


def test_bulk_bytes_pass_at_hundreds_of_mb_per_second() -> None:
    rtt, size = 3 * MS, 32 << 20
    sink = socket.create_server((HOST, 0))  # counts what each connection sends, answers with the count at EOF

    def count() -> None:
        while True:
            try:
                conn, _ = sink.accept()
            except OSError:
                return
            with conn:
                total = 0
                while data := conn.recv(1 << 20):
                    total += len(data)
                conn.sendall(str(total).encode())

    threading.Thread(target=count, daemon=True).start()
    with DelayLink(HOST, sink.getsockname()[1], rtt) as link:

        def attempt() -> tuple[bool, str]:
            with connect(link.address) as sock:
                started = time.perf_counter()
                sock.sendall(b"x" * size)
                sock.shutdown(socket.SHUT_WR)
                answer = sock.recv(64)
                elapsed = time.perf_counter() - started
            report = f"32 MB through a 3 ms link in {elapsed / MS:.0f} ms"
            assert int(answer) == size and elapsed >= rtt / 2, report
            return elapsed < 0.5, report  # were each 64 KiB chunk queued behind the last, 0.75 s

        within_bounds(attempt)
    sink.shutdown(socket.SHUT_RDWR)
    sink.close()


def test_stop_closes_every_connection_promptly(redis_port: int) -> None:
    before = set(threading.enumerate())
    link = DelayLink(HOST, redis_port, 3 * MS).start()
    address = link.address
    client = redis.Redis(*address)
    assert client.ping()
    raw = connect(address)
    raw.sendall(PING)
    recv_exactly(raw, 7)
    raw.sendall(PING)  # a request still in flight when the link stops
    started = time.perf_counter()
    link.stop()
    assert time.perf_counter() - started < 1.0
    try:  # the client sees the connection end (perhaps after the PONG), not a hang
        while raw.recv(64):
            pass
    except ConnectionResetError:
        pass
    raw.close()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address, timeout=1)
    assert set(threading.enumerate()) <= before, "stop() left threads behind"
    link.stop()  # a second stop is harmless
