"""A TCP proxy between a replica and its primary that adds a delay each way, and can be paused.

Replication is a TCP stream from the primary to the replica, so a replica told `REPLICAOF 127.0.0.1
<link port>` receives every write `delay` seconds late: a stand-in for a loaded or distant replica.
Each chunk is sent on at its arrival time plus the delay, never queued behind earlier chunks'
delays. While paused, chunks are held (a network partition); `stop()` drops whatever is held.
"""

from __future__ import annotations

import queue
import socket
import threading
import time

CHUNK = 64 * 1024


class DelayLink:
    """A loopback proxy to `host:port` that delays each direction by `delay` seconds; `pause()` holds everything."""

    def __init__(self, host: str, port: int, delay: float) -> None:
        self.upstream = (host, port)
        self.delay = delay
        self._flowing = threading.Event()
        self._flowing.set()
        self._stopped = threading.Event()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DelayLink(delay {self.delay * 1e3:g} ms each way, {'flowing' if self.flowing else 'paused'})"

    @property
    def port(self) -> int:
        """The loopback port to connect to instead of the upstream's."""
        assert self._listener is not None, "DelayLink not started"
        return int(self._listener.getsockname()[1])

    @property
    def flowing(self) -> bool:
        """False while paused."""
        return self._flowing.is_set()

    def start(self) -> DelayLink:
        """Listen on a free loopback port; returns self."""
        self._listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True, name="delay-link").start()
        return self

    def pause(self) -> None:
        """Hold every byte in both directions until `resume()` (a partition between the two)."""
        self._flowing.clear()

    def resume(self) -> None:
        """Deliver what was held and let bytes flow again."""
        self._flowing.set()

    def stop(self) -> None:
        """Close the listener and every connection; bytes still held are dropped."""
        self._stopped.set()
        self._flowing.set()  # wake writers, which see the stop and drop what they hold
        with self._lock:
            sockets, self._sockets = self._sockets, []
            if self._listener is not None:
                sockets.append(self._listener)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def __enter__(self) -> DelayLink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                if self._stopped.is_set():
                    return
                continue
            upstream.settimeout(None)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                chunks: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()
                threading.Thread(target=self._read, args=(src, dst, chunks), daemon=True).start()
                threading.Thread(target=self._write, args=(dst, chunks), daemon=True).start()

    def _read(self, src: socket.socket, dst: socket.socket, chunks: queue.SimpleQueue[tuple[float, bytes]]) -> None:
        """Stamp each chunk with its due time (arrival + delay); b'' marks the end."""
        try:
            while data := src.recv(CHUNK):
                chunks.put((time.perf_counter() + self.delay, data))
        except OSError:
            pass
        chunks.put((time.perf_counter() + self.delay, b""))

    def _write(self, dst: socket.socket, chunks: queue.SimpleQueue[tuple[float, bytes]]) -> None:
        """Send each chunk when due (and the link flows); on the end mark or a stop, close `dst`."""
        try:
            while True:
                due, data = chunks.get()
                rest = due - time.perf_counter()
                if rest > 0:
                    time.sleep(rest)
                self._flowing.wait()
                if self._stopped.is_set() or not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
