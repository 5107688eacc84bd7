"""The lab's Redis client: embedded fakeredis by default, a real server or cluster when REDIS_URL is set.

A URL that points at any node of a Redis Cluster (an ElastiCache configuration endpoint with cluster
mode enabled) gets a cluster client: the node is asked `CLUSTER INFO` once, nothing in the URL changes.
`rediss://` URLs use TLS; the CA that signed the server's certificate comes from the system trust
store, from `?ssl_ca_certs=/path/ca.pem` in the URL, or from $REDIS_CA_CERT.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import parse_qs, urlsplit, urlunsplit

import fakeredis
import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException
from redis.retry import Retry

from labkit.config import ENV_CA_CERT, ENV_PASSWORD, ENV_URL, FAKE_SERVER_VERSION
from labkit.errors import LabConnectionError

SCHEMES = ("redis", "rediss", "unix")

# A redis-py client (redis.Redis, fakeredis or RedisCluster) made with decode_responses=True, so every
# reply is str. redis-py's own annotations say `bytes | str` whatever the option, hence Any here.
Client: TypeAlias = Any

_fake_server: fakeredis.FakeServer | None = None


def connect(url: str | None = None, *, timeout: float = 1.0,
            command_timeout: float = 30.0) -> Client:
    """Return the lab's Redis client: fakeredis unless `url` (or $REDIS_URL) names a server.

    Every client from the embedded default shares one fake server, as app servers share one
    ElastiCache endpoint. A real server is pinged once, so a wrong URL, a refused connection,
    a failed AUTH or an untrusted TLS certificate raises `LabConnectionError` within about
    `timeout` seconds. Once connected, a command may take up to `command_timeout` seconds (a big
    pipelined load on a busy machine outlasts a second). A node of a Redis Cluster gives a
    `RedisCluster` client for the whole cluster.
    """
    url = os.environ.get(ENV_URL, "") if url is None else url
    if not url:
        return fakeredis.FakeRedis(server=_shared_fake_server(), decode_responses=True)
    shown = redact(url)
    scheme = urlsplit(url).scheme
    if scheme not in SCHEMES:
        raise LabConnectionError(
            f"{shown!r} is not a Redis URL: it must start with redis://, rediss:// (TLS) "
            f"or unix://, for example redis://localhost:6379/0. Fix {ENV_URL} and try again."
        )
    options: dict = dict(
        decode_responses=True,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )
    if not urlsplit(url).password and os.environ.get(ENV_PASSWORD):
        options["password"] = os.environ[ENV_PASSWORD]
    ca_file = _ca_file(url) if scheme == "rediss" else None
    if ca_file and "ssl_ca_certs" not in parse_qs(urlsplit(url).query):
        options["ssl_ca_certs"] = ca_file
    try:
        client = redis.Redis.from_url(url, **options)
    except ValueError as exc:
        raise LabConnectionError(f"{shown!r} is not a valid Redis URL ({exc}). Fix {ENV_URL}.") from None
    _ping(client, shown, scheme, ca_file)
    cluster = _is_cluster_node(client, shown)
    client.close()  # that client only checked the way in; the lab's client waits longer for commands
    options["socket_timeout"] = command_timeout
    return _cluster_client(url, options, shown) if cluster else redis.Redis.from_url(url, **options)


def redact(url: str) -> str:
    """Return `url` with any password replaced by ***, safe to print."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = parts.username or ""
    netloc = f"{user}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def is_fake(client: Client) -> bool:
    """True when `client` talks to the embedded fakeredis server."""
    return isinstance(client, fakeredis.FakeRedis)


def is_cluster(client: Client) -> bool:
    """True when `client` talks to a Redis Cluster (keys spread over slots on several primaries)."""
    return isinstance(client, RedisCluster)


def server_version(client: Client) -> tuple[int, ...]:
    """The Redis version the client talks to (fakeredis reports the version it emulates)."""
    if is_fake(client):
        return tuple(_shared_fake_server().version)
    # On a cluster INFO goes to one node (the one named in the URL); all run the same version.
    return tuple(int(p) for p in str(client.info("server")["redis_version"]).split("."))


def backend_banner(client: Client) -> str:
    """One line naming the backend in use, printed at the top of every notebook."""
    if is_fake(client):
        return f"Backend: fakeredis {fakeredis.__version__} (embedded in this kernel, no server)"
    version = ".".join(map(str, server_version(client)))
    if is_cluster(client):
        node = client.get_default_node()
        tls = " over TLS" if client.get_connection_kwargs().get("connection_class") is redis.SSLConnection else ""
        primaries = len(client.get_primaries())
        return f"Backend: Redis Cluster {version}, {primaries} primaries, at {node.host}:{node.port}{tls}"
    kwargs = client.connection_pool.connection_kwargs
    where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
    tls = " over TLS" if client.connection_pool.connection_class is redis.SSLConnection else ""
    return f"Backend: Redis {version} at {where}{tls}"


def _ca_file(url: str) -> str | None:
    """The CA file for a rediss:// URL: its ?ssl_ca_certs=, else $REDIS_CA_CERT, else None (system store)."""
    in_url = parse_qs(urlsplit(url).query).get("ssl_ca_certs")
    path, source = (in_url[-1], "the URL's ssl_ca_certs") if in_url else (os.environ.get(ENV_CA_CERT), ENV_CA_CERT)
    if path and not Path(path).is_file():
        raise LabConnectionError(
            f"The CA certificate file {path} (from {source}) does not exist. Point it at the PEM file "
            f"of the CA that signed the server's certificate."
        )
    return path or None


def _ping(client: Client, shown: str, scheme: str, ca_file: str | None) -> None:
    """PING once, turning every way it can fail into a LabConnectionError that says what to fix."""
    has_password = bool(client.connection_pool.connection_kwargs.get("password"))
    try:
        client.ping()
    except (redis.AuthenticationError, redis.ResponseError) as exc:
        if "SELECT is not allowed in cluster mode" in str(exc):
            db = client.connection_pool.connection_kwargs.get("db")
            raise LabConnectionError(
                f"Redis at {shown} is a cluster, and a cluster has only database 0: end the URL with /0 "
                f"(not /{db}) or with no database at all."
            ) from None
        if not isinstance(exc, redis.AuthenticationError) and "NOAUTH" not in str(exc):
            raise
        if not has_password:
            raise LabConnectionError(
                f"Redis at {shown} needs a password. Put it in {ENV_URL} "
                f"(redis://USER:PASSWORD@host:port/0) or set {ENV_PASSWORD}."
            ) from None
        raise LabConnectionError(
            f"Redis at {shown} rejected the login ({exc}). Check the user name and password in "
            f"{ENV_URL}, or {ENV_PASSWORD}."
        ) from None
    except TypeError as exc:  # redis-py passes unknown ?name=value URL options to the connection
        raise LabConnectionError(f"{shown!r} has a URL option redis-py does not know ({exc}). Fix {ENV_URL}.") from None
    except (redis.ConnectionError, redis.TimeoutError, ssl.SSLError, OSError) as exc:
        raise _unreachable(exc, shown, scheme, ca_file) from None


def _unreachable(exc: BaseException, shown: str, scheme: str, ca_file: str | None) -> LabConnectionError:
    cause = exc.__context__ or exc.__cause__
    if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        detail = (getattr(cause, "verify_message", None) or _reason(exc)).rstrip(".")
        if "mismatch" in detail:  # "Hostname mismatch" or "IP address mismatch"
            fix = "Connect with a host name the certificate names (ElastiCache: the endpoint as shown in the console)."
        elif ca_file:
            fix = (f"The CA file {ca_file} did not sign the server's certificate: point ssl_ca_certs "
                   f"(in the URL) or {ENV_CA_CERT} at the CA that did.")
        else:
            fix = (f"The system does not trust the CA that signed it: add ?ssl_ca_certs=/path/to/ca.pem "
                   f"to the URL or set {ENV_CA_CERT}=/path/to/ca.pem (ElastiCache's certificates chain to "
                   f"a public CA the system already trusts).")
        return LabConnectionError(
            f"TLS certificate verification failed for Redis at {shown}: {detail}. {fix}")
    hint = ""
    if scheme == "redis" and isinstance(cause, ConnectionResetError | BrokenPipeError):
        hint = (" The server hung up on a plain-text connection: if it uses TLS (ElastiCache in-transit "
                "encryption), the URL must start with rediss://.")
    elif scheme == "rediss" and "handshake" in str(cause):
        hint = " No TLS handshake came back: if this server does not use TLS, the URL must start with redis://."
    return LabConnectionError(
        f"Could not reach Redis at {shown}: {_reason(exc)}.{hint} Is the server running and the host "
        f"and port right? Unset {ENV_URL} to use the embedded fakeredis instead."
    )


def _is_cluster_node(client: Client, shown: str) -> bool:
    """Ask the node CLUSTER INFO: a cluster-mode node must also report every slot served."""
    try:
        info = client.execute_command("CLUSTER", "INFO")
    except redis.ResponseError:  # "cluster support disabled", or a user not allowed to ask
        return False
    if isinstance(info, str):
        info = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    if str(info.get("cluster_state")) != "ok":
        raise LabConnectionError(
            f"Redis at {shown} is a cluster node, but the cluster is not ready (cluster_state:"
            f"{info.get('cluster_state')}, {info.get('cluster_slots_ok')} of 16384 slots served). "
            f"Wait for it to finish forming or failing over, then try again."
        )
    return True


def _cluster_client(url: str, options: dict, shown: str) -> RedisCluster:
    kwargs = {name: value for name, value in options.items() if name != "retry"}
    try:
        cluster = RedisCluster.from_url(url, **kwargs)
        cluster.ping(target_nodes=RedisCluster.PRIMARIES)  # the login, and the route, to every primary
    except redis.AuthenticationError as exc:
        raise LabConnectionError(
            f"Redis at {shown} accepted the login, but another primary of its cluster rejected it "
            f"({_reason(exc)}). Users and passwords are kept per node: the user must exist on every node."
        ) from None
    except (RedisClusterException, redis.ConnectionError, redis.TimeoutError) as exc:
        raise LabConnectionError(
            f"Redis at {shown} is a cluster node, but the cluster client could not reach the whole "
            f"cluster: {_reason(exc)}. Every node the cluster announces must be reachable from here."
        ) from None
    return cluster


def _shared_fake_server() -> fakeredis.FakeServer:
    global _fake_server
    if _fake_server is None:
        # Emulate Debian's Redis 7.0 so the embedded default and CI's real server agree.
        _fake_server = fakeredis.FakeServer(version=FAKE_SERVER_VERSION)
    return _fake_server


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.rstrip(".")
