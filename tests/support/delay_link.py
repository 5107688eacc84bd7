"""A TCP proxy that adds a round trip to a loopback connection: a stand-in for netem or Toxiproxy.

Each chunk read from one side is sent on to the other exactly rtt/2 after it arrived, whatever
the chunks before it paid: a pipelined burst pays the latency once, as on a real link. Each
direction of each connection has a reader thread (stamps chunks with the kernel's arrival time
into a FIFO) and a writer thread (sleeps until just before a chunk's deadline, then spins the
last stretch on perf_counter: sleep() and asyncio timers wake up to a millisecond late).
"""

from __future__ import annotations

import queue
import select
import socket
import statistics
import struct
import sys
import threading
import time
from types import TracebackType

SPIN = 200e-6  # the last stretch before a deadline is spun, not slept: sleep() wakes ~80 µs late here
CHUNK = 64 * 1024  # most bytes read at once
BATCH = 1 << 20  # most bytes of already-due chunks joined into one send
PING = b"*1\r\n$4\r\nPING\r\n"
# Linux stamps each read with the time its bytes arrived (CLOCK_REALTIME), so a chunk's delay runs
# from its arrival, not from when a reader thread woke up (tens of µs later, more with the GIL busy).
SO_TIMESTAMPNS = 35 if sys.platform == "linux" else None
TIMESPEC = struct.Struct("@ll")

_Item = tuple[float, bytes | None]  # (deadline on perf_counter, chunk or None for end of stream)


def _wait_until(deadline: float) -> None:
    """Return at `deadline` (perf_counter seconds), never before: sleep most of the way, spin the rest."""
    rest = deadline - time.perf_counter()
    if rest > SPIN:
        time.sleep(rest - SPIN)
    while time.perf_counter() < deadline:  # a select() polling nothing lets other threads take the GIL
        select.select((), (), (), 0)  # (a bare loop holds it 5 ms) yet keeps the CPU (sched_yield does not)


def _arrival(ancdata: list[tuple[int, int, bytes]]) -> float:
    """The perf_counter time the bytes just read arrived: the kernel's stamp if any, else now."""
    wall, now = time.time(), time.perf_counter()  # in this order: a pause between errs late, never early
    for level, kind, raw in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(raw) >= TIMESPEC.size:
            seconds, nanoseconds = TIMESPEC.unpack_from(raw)
            lag: float = wall - seconds - nanoseconds * 1e-9
            return now - min(max(lag, 0.0), 1.0)  # clamped, against a step of the wall clock
    return now


def _tune(sock: socket.socket) -> socket.socket:
    """`sock` with Nagle's algorithm off (a small chunk leaves when sent) and arrival stamps on."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if SO_TIMESTAMPNS is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        except OSError:
            pass
    return sock


class _Connection:
    """One proxied connection: a reader and a writer thread each way; sockets closed when both ways end."""

    def __init__(self, client: socket.socket, upstream: socket.socket, delay: float) -> None:
        self.sockets = (client, upstream)
        self._lock = threading.Lock()
        self._open = 2
        self.threads: list[threading.Thread] = []
        for src, dst in ((client, upstream), (upstream, client)):
            fifo: queue.SimpleQueue[_Item] = queue.SimpleQueue()
            self.threads += [threading.Thread(target=self._read, args=(src, fifo, delay), daemon=True),
                             threading.Thread(target=self._write, args=(fifo, dst), daemon=True)]
        for thread in self.threads:
            thread.start()

    @staticmethod
    def _read(src: socket.socket, fifo: queue.SimpleQueue[_Item], delay: float) -> None:
        """Stamp each chunk from `src` with its deadline; end with a None once `src` is closed."""
        try:
            while True:
                data, ancdata, _, _ = src.recvmsg(CHUNK, 64)
                if not data:
                    break
                fifo.put((_arrival(ancdata) + delay, data))
        except OSError:
            pass
        fifo.put((time.perf_counter() + delay, None))

    def _write(self, fifo: queue.SimpleQueue[_Item], dst: socket.socket) -> None:
        """Send each chunk to `dst` at its deadline (with any others then due); half-close `dst` at the end."""
        held: _Item | None = None  # taken from the FIFO but not yet due
        try:
            while True:
                deadline, data = held or fifo.get()
                held = None
                _wait_until(deadline)
                out: list[bytes] = []
                size = 0
                while data is not None:
                    out.append(data)
                    size += len(data)
                    if size >= BATCH:
                        break
                    try:
                        held = fifo.get_nowait()
                    except queue.Empty:
                        break
                    if held[0] > time.perf_counter():
                        break
                    (_, data), held = held, None
                if out:
                    dst.sendall(b"".join(out))
                if data is None:
                    dst.shutdown(socket.SHUT_WR)
                    return
        except OSError:
            self.abort()
        finally:
            with self._lock:
                self._open -= 1
                if self._open == 0:
                    for sock in self.sockets:
                        sock.close()

    def abort(self) -> None:
        """Shut both sockets down now: blocked reads return, blocked sends fail, and the threads end."""
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def done(self) -> bool:
        """Whether every thread of this connection has ended."""
        return not any(thread.is_alive() for thread in self.threads)


class DelayLink:
    """A TCP proxy on 127.0.0.1 that adds `rtt` seconds of round trip (half each way) to `upstream`."""

    def __init__(self, upstream_host: str, upstream_port: int, rtt: float) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.rtt = rtt
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._connections: list[_Connection] = []
        self._lock = threading.Lock()
        self._stopping = False

    def start(self) -> DelayLink:
        """Listen on a free loopback port and start accepting; returns self."""
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self._acceptor = threading.Thread(target=self._accept, name=f"delay-link-{self.port}", daemon=True)
        self._acceptor.start()
        return self

    def _accept(self) -> None:
        """Pair each accepted client with a new upstream connection until stop()."""
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._stopping:
                client.close()
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._stopping:
                    client.close()
                    upstream.close()
                    return
                self._connections = [c for c in self._connections if not c.done()]
                self._connections.append(_Connection(_tune(client), _tune(upstream), self.rtt / 2))

    def stop(self) -> None:
        """Close the listener and every connection, and join their threads."""
        if self._listener is None:
            return
        with self._lock:
            self._stopping = True
            connections = self._connections
        try:  # wake accept(): closing a listening socket does not, everywhere
            socket.create_connection(self.address, timeout=1).close()
        except OSError:
            pass
        assert self._acceptor is not None
        self._acceptor.join(timeout=5)
        self._listener.close()
        for connection in connections:
            connection.abort()
        for thread in (t for c in connections for t in c.threads):
            thread.join(timeout=5)
        self._listener = None

    @property
    def port(self) -> int:
        """The loopback port clients connect to."""
        assert self._listener is not None, "DelayLink not started"
        return int(self._listener.getsockname()[1])

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) clients connect to."""
        return "127.0.0.1", self.port

    def __enter__(self) -> DelayLink:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def measure_ping_rtt(host: str, port: int, n: int = 200) -> float:
    """Median seconds of a Redis PING round trip on one raw socket, after 20 warm-up PINGs."""
    samples = []
    with _tune(socket.create_connection((host, port), timeout=5)) as sock:
        for _ in range(n + 20):
            started = time.perf_counter()
            sock.sendall(PING)
            reply = b""
            while not reply.endswith(b"\r\n"):
                if not (chunk := sock.recv(64)):
                    raise ConnectionError(f"{host}:{port} closed the connection during PING")
                reply += chunk
            samples.append(time.perf_counter() - started)
    if reply != b"+PONG\r\n":
        raise ConnectionError(f"{host}:{port} answered PING with {reply!r}")
    return statistics.median(samples[20:])


def describe(link: DelayLink, measured_rtt: float) -> str:
    """One line for a test report, e.g. 'through a delay link: PING p50 3.12 ms (asked 3.00 ms)'."""
    return f"through a delay link: PING p50 {measured_rtt * 1e3:.2f} ms (asked {link.rtt * 1e3:.2f} ms)"
