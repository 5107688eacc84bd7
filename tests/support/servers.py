"""Throwaway `redis-server`s on free loopback ports, for tests and benchmarks: plain, TLS, cluster."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis

CLUSTER_SLOTS = 16384


def redis_server_path() -> str | None:
    """The `redis-server` binary on PATH, or None."""
    return shutil.which("redis-server")


def openssl_path() -> str | None:
    """The `openssl` command-line tool on PATH, or None."""
    return shutil.which("openssl")


def free_port() -> int:
    """A loopback TCP port that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class TlsFiles:
    """A certificate authority and a server certificate it signed, as PEM files."""

    ca_cert: Path
    cert: Path
    key: Path


def make_tls_files(directory: Path | str, name: str = "labkit test CA",
                   hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> TlsFiles:
    """Make a fresh CA and a server certificate for `hosts`, valid two days, with the `openssl` CLI."""
    binary = openssl_path()
    if binary is None:
        raise FileNotFoundError("openssl is not on PATH (Debian: apt-get install openssl)")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(folder / "ca.crt", folder / "server.crt", folder / "server.key")
    ec_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    names = ",".join(f"IP:{h}" if h.replace(".", "").isdigit() else f"DNS:{h}" for h in hosts)
    (folder / "san.ext").write_text(f"subjectAltName={names}\n")
    steps = [
        ["req", "-x509", *ec_key, "-keyout", "ca.key", "-out", files.ca_cert.name, "-days", "2",
         "-subj", f"/CN={name}"],
        ["req", "-new", *ec_key, "-keyout", files.key.name, "-out", "server.csr", "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", "server.csr", "-CA", files.ca_cert.name, "-CAkey", "ca.key",
         "-CAcreateserial", "-out", files.cert.name, "-days", "2", "-extfile", "san.ext"],
    ]
    for step in steps:
        done = subprocess.run([binary, *step], cwd=folder, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"openssl {step[0]} failed:\n{done.stderr}")
    return files


class _PortTaken(RuntimeError):
    """The port was free when chosen, but another process bound it first."""


class LocalRedis:
    """Start `redis-server` on 127.0.0.1 with no persistence; stop it on exit.

    With `tls`, the server listens only for TLS (`--port 0 --tls-port ...`) and `.url` is a
    `rediss://` URL that names the CA file, so `labkit.connect(server.url)` verifies the server.
    """

    def __init__(self, *extra_args: str, port: int | None = None, tls: TlsFiles | None = None) -> None:
        self._pick_port = port is None  # a port found free a moment ago may be taken before the server binds it
        self.port = port or free_port()
        self.extra_args = extra_args
        self.tls = tls
        self._process: subprocess.Popen | None = None
        self._dir: tempfile.TemporaryDirectory | None = None

    @property
    def url(self) -> str:
        """The server's URL (rediss:// naming the CA file, with TLS)."""
        if self.tls is None:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"rediss://127.0.0.1:{self.port}/0?ssl_ca_certs={self.tls.ca_cert}"

    def start(self) -> LocalRedis:
        """Start the server and wait until it is ready; another free port if the chosen one was taken meanwhile."""
        for _ in range(5):
            try:
                return self._start()
            except _PortTaken:
                if not self._pick_port:
                    raise
                self.port = free_port()
        return self._start()

    def _start(self) -> LocalRedis:
        binary = redis_server_path()
        if binary is None:
            raise FileNotFoundError("redis-server is not on PATH (Debian: apt-get install redis-server)")
        self._dir = tempfile.TemporaryDirectory(prefix="labkit-redis-")
        if self.tls is None:
            listen = ["--port", str(self.port)]
        else:
            listen = ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(self.tls.cert),
                      "--tls-key-file", str(self.tls.key), "--tls-ca-cert-file", str(self.tls.ca_cert),
                      "--tls-auth-clients", "no"]
        args = [binary, "--bind", "127.0.0.1", *listen, "--save", "", "--appendonly", "no",
                "--dir", self._dir.name, *self.extra_args]
        log = open(Path(self._dir.name) / "server.log", "w")
        self._process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()
        return self

    def client(self, **options: object) -> redis.Redis:
        """A plain redis-py client for this one server, for setting things up (TLS: trusts the CA, any host name)."""
        if self.tls is not None:
            options = {"ssl": True, "ssl_ca_certs": str(self.tls.ca_cert), "ssl_check_hostname": False, **options}
        return redis.Redis(host="127.0.0.1", port=self.port, **options)

    def stop(self) -> None:
        """Stop the server and remove its working folder."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> LocalRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_ready(self, timeout: float = 10.0) -> None:
        client = self.client(socket_connect_timeout=0.2)
        deadline = time.monotonic() + timeout
        while True:
            log = (Path(self._dir.name) / "server.log").read_text()
            try:
                if "Ready to accept connections" in log:  # ours, not another run's server on the same port
                    client.ping()
                    return
            except (redis.AuthenticationError, redis.ResponseError):
                return  # it answered: it is up, and wants a password
            except redis.ConnectionError:
                pass
            finally:
                client.close()
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                if "Address already in use" in log:
                    raise _PortTaken(self.port)
                raise RuntimeError(f"redis-server did not start on port {self.port}:\n{log}")
            time.sleep(0.05)


class LocalCluster:
    """A Redis Cluster of `primaries` cluster-enabled servers on loopback, slots split evenly.

    Built from Python (CLUSTER ADDSLOTSRANGE and CLUSTER MEET), so only `redis-server` is needed.
    `.url` names the first node, as an ElastiCache configuration endpoint names one address.
    """

    def __init__(self, primaries: int = 3, *extra_args: str, tls: TlsFiles | None = None) -> None:
        if primaries < 1:
            raise ValueError("a cluster needs at least one primary")
        cluster_args = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", "5000"]
        if tls is not None:
            cluster_args += ["--tls-cluster", "yes"]
        self.bus_ports = [free_port() for _ in range(primaries)]
        self.nodes = [LocalRedis(*cluster_args, "--cluster-port", str(bus), *extra_args, tls=tls)
                      for bus in self.bus_ports]

    @property
    def url(self) -> str:
        """The first node's URL, as an ElastiCache configuration endpoint names one address."""
        return self.nodes[0].url

    def start(self, timeout: float = 20.0) -> LocalCluster:
        """Start every node, assign the slots, join them, and wait for cluster_state:ok everywhere."""
        try:
            for node in self.nodes:
                node.start()
            clients = [node.client(decode_responses=True) for node in self.nodes]
            share = CLUSTER_SLOTS // len(self.nodes)
            for i, client in enumerate(clients):
                last = CLUSTER_SLOTS - 1 if i == len(clients) - 1 else (i + 1) * share - 1
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", i * share, last)
            for node, bus in zip(self.nodes[1:], self.bus_ports[1:]):
                clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", node.port, bus)
            self._wait_ok(clients, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every node."""
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_ok(self, clients: list[redis.Redis], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            infos = [client.execute_command("CLUSTER", "INFO") for client in clients]
            if all(_cluster_ready(info, len(clients)) for info in infos):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the local cluster did not reach cluster_state:ok:\n{infos[0]}")
            time.sleep(0.05)


def _cluster_ready(info: str | dict, nodes: int) -> bool:
    if isinstance(info, str):
        info = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    return str(info.get("cluster_state")) == "ok" and int(info.get("cluster_known_nodes", 0)) == nodes
