"""The lab's Redis client: embedded fakeredis by default, a real server or cluster when REDIS_URL is set.

A URL that points at any node of a Redis Cluster (an ElastiCache configuration endpoint with cluster
mode enabled) gets a cluster client: the node is asked `CLUSTER INFO` once, nothing in the URL changes.
`rediss://` URLs use TLS; the CA that signed the server's certificate comes from the system trust
store, from `?ssl_ca_certs=/path/ca.pem` in the URL, or from $REDIS_CA_CERT.

Before the client is handed over, every way of failing is tried once and told as a sentence naming
what was tried and the fix, within about `timeout` seconds (see `preflight`); failures are told
apart by exception type, errno and Redis's error code, never by searching their text.
"""

from __future__ import annotations

import os
import re
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

from labkit.backend.preflight import FALLBACK, check_reachable, database_of
from labkit.config import ENV_CA_CERT, ENV_PASSWORD, ENV_URL, FAKE_SERVER_VERSION, redis_url
from labkit.errors import LabConnectionError

SCHEMES = ("redis", "rediss", "unix")

# A redis-py client (redis.Redis, fakeredis or RedisCluster) made with decode_responses=True, so every
# reply is str. redis-py's own annotations say `bytes | str` whatever the option, hence Any here.
Client: TypeAlias = Any

_fake_server: fakeredis.FakeServer | None = None

# The error codes redis-py strips from a reply and turns into an exception class instead.
_CODE_OF_CLASS: tuple[tuple[type[redis.RedisError], str], ...] = (
    (redis.exceptions.NoPermissionError, "NOPERM"),
    (redis.exceptions.BusyLoadingError, "LOADING"),
    (redis.exceptions.ReadOnlyError, "READONLY"),
    (redis.exceptions.NoScriptError, "NOSCRIPT"),
    (redis.exceptions.ExecAbortError, "EXECABORT"),
    (redis.exceptions.OutOfMemoryError, "OOM"),
)
# OpenSSL's verify codes (X509_V_ERR_*) that say the certificate names another host, or is out of date.
_NAME_MISMATCH = {62, 63, 64}  # HOSTNAME_MISMATCH, EMAIL_MISMATCH, IP_ADDRESS_MISMATCH
_OUT_OF_DATE = {9, 10}  # CERT_NOT_YET_VALID, CERT_HAS_EXPIRED


def connect(url: str | None = None, *, timeout: float = 1.0,
            command_timeout: float = 30.0) -> Client:
    """Return the lab's Redis client: fakeredis unless `url` (or $REDIS_URL) names a server.

    Every client from the embedded default shares one fake server, as app servers share one
    ElastiCache endpoint. A real server is checked once (the URL's database, the host name, the
    port, TLS, the login, the database), so any mistake raises `LabConnectionError` within about
    `timeout` seconds. Once connected, a command may take up to `command_timeout` seconds (a big
    pipelined load on a busy machine outlasts a second). A node of a Redis Cluster gives a
    `RedisCluster` client for the whole cluster.
    """
    url = redis_url() if url is None else url
    if not url:
        return fakeredis.FakeRedis(server=_shared_fake_server(), decode_responses=True)
    shown = redact(url)
    try:
        scheme = urlsplit(url).scheme
    except ValueError as exc:
        raise LabConnectionError(f"{shown!r} is not a valid Redis URL ({exc}). Fix {ENV_URL}.") from None
    if scheme not in SCHEMES:
        raise LabConnectionError(
            f"{shown!r} is not a Redis URL: it must start with redis://, rediss:// (TLS) "
            f"or unix://, for example redis://localhost:6379/0. Fix {ENV_URL} and try again."
        )
    db = database_of(url, shown)
    options: dict = dict(
        decode_responses=True,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        # no CLIENT SETINFO: two round trips on every new connection (four of the nine or so a connect makes),
        # for a client name the lab never reads
        driver_info=None,
    )
    if not urlsplit(url).password and os.environ.get(ENV_PASSWORD):
        options["password"] = os.environ[ENV_PASSWORD]
    ca_file = _ca_file(url) if scheme == "rediss" else None
    if ca_file and "ssl_ca_certs" not in parse_qs(urlsplit(url).query):
        options["ssl_ca_certs"] = ca_file
    try:
        check = redis.Redis.from_url(url, **options)
    except ValueError as exc:
        raise LabConnectionError(f"{shown!r} is not a valid Redis URL ({exc}). Fix {ENV_URL}.") from None
    where = check.connection_pool.connection_kwargs
    where["db"] = 0  # the database is tried on its own below, to say which step failed
    try:
        check_reachable(where, shown, scheme == "rediss", timeout)
        _ping(check, shown, scheme, ca_file)
        cluster = _is_cluster_node(check, shown)
        if db:
            _check_database(check, shown, db, cluster)
    finally:
        check.close()  # that client only checked the way in; the lab's client waits longer for commands
    options["socket_timeout"] = command_timeout
    return _cluster_client(url, options, shown) if cluster else redis.Redis.from_url(url, **options)


def error_code(exc: redis.RedisError) -> str:
    """The error code Redis put before its message (WRONGTYPE, NOPERM, LOADING...; ERR when there is none).

    redis-py strips some codes from the message and keeps them as the exception's class (and, from
    redis-py 8, its `status_code`); the others stay as the message's first word.
    """
    code = getattr(exc, "status_code", None)
    if code:
        return str(code)
    for cls, name in _CODE_OF_CLASS:
        if isinstance(exc, cls):
            return name
    first = str(exc).split(" ", 1)[0]
    return first if first.isalpha() and first.isupper() and len(first) > 2 else "ERR"


def redact(url: str) -> str:
    """Return `url` with any password replaced by ***, safe to print."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed [IPv6 bracket: hide whatever sits between user: and @
        return re.sub(r"(//[^/@:]*:)[^/@]*@", r"\1***@", url)
    if not parts.password:
        return url
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{parts.netloc.rpartition('@')[2]}"))


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
    except redis.AuthenticationError as exc:  # NOAUTH or WRONGPASS
        if not has_password:
            raise LabConnectionError(
                f"Redis at {shown} needs a password. Put it in {ENV_URL} "
                f"(redis://USER:PASSWORD@host:port/0) or set {ENV_PASSWORD}."
            ) from None
        raise LabConnectionError(
            f"Redis at {shown} rejected the login ({exc}). Check the user name and password in "
            f"{ENV_URL}, or {ENV_PASSWORD}."
        ) from None
    except (redis.ResponseError, redis.exceptions.BusyLoadingError) as exc:
        raise _refused_ping(exc, shown) from None
    except TypeError as exc:  # redis-py passes unknown ?name=value URL options to the connection
        raise LabConnectionError(f"{shown!r} has a URL option redis-py does not know ({exc}). Fix {ENV_URL}.") from None
    except redis.exceptions.InvalidResponse:
        raise LabConnectionError(
            f"Something answered at {shown}, but not in Redis's protocol: is that port a Redis server (and not, "
            f"say, a web server)? Check the host and port in {ENV_URL}. {FALLBACK}"
        ) from None
    except (redis.ConnectionError, redis.TimeoutError, ssl.SSLError, OSError) as exc:
        raise _unreachable(exc, shown, scheme, ca_file) from None


def _refused_ping(exc: redis.RedisError, shown: str) -> LabConnectionError:
    code = error_code(exc)
    if code == "NOPERM":
        return LabConnectionError(
            f"Redis at {shown} accepted the login, but this user may not run PING ({exc}). Ask whoever runs "
            f"the server to allow it (ACL SETUSER <user> +ping), or log in as another user in {ENV_URL}."
        )
    if code == "LOADING":
        return LabConnectionError(f"Redis at {shown} is still loading its data into memory ({exc}). "
                                  "Wait a moment and try again.")
    return LabConnectionError(f"Redis at {shown} answered PING with the error {code} ({exc}). "
                              f"Check that {ENV_URL} names a Redis server.")


def _unreachable(exc: BaseException, shown: str, scheme: str, ca_file: str | None) -> LabConnectionError:
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ssl.SSLCertVerificationError):
        detail = (cause.verify_message or _reason(exc)).rstrip(".")
        if cause.verify_code in _NAME_MISMATCH:  # "Hostname mismatch" or "IP address mismatch"
            fix = "Connect with a host name the certificate names (ElastiCache: the endpoint as shown in the console)."
        elif cause.verify_code in _OUT_OF_DATE:
            fix = "Check this machine's clock; if it is right, the server's certificate must be renewed."
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
    # The port accepted a connection (preflight): a plain-text one that is then dropped met a TLS server.
    hung_up = isinstance(cause, ConnectionResetError | BrokenPipeError) or (
        cause is None and type(exc) is redis.ConnectionError)
    if scheme == "redis" and hung_up:
        hint = (" The server hung up on a plain-text connection: if it uses TLS (ElastiCache in-transit "
                "encryption), the URL must start with rediss://.")
    elif isinstance(exc, redis.TimeoutError):
        hint = (" The port accepted a connection, but nothing answered PING in time: is it a Redis server, and "
                "not one stuck in a long command?")
    return LabConnectionError(
        f"Could not reach Redis at {shown}: {_reason(exc)}.{hint} Is the server running and the host "
        f"and port right? {FALLBACK}"
    )


def _check_database(client: Client, shown: str, db: int, cluster: bool) -> None:
    """SELECT the URL's database once, to name the fix when it does not exist or this user may not use it."""
    if cluster:
        raise _cluster_has_only_db0(shown, db)
    try:
        client.execute_command("SELECT", db)
    except redis.exceptions.NoPermissionError as exc:
        raise LabConnectionError(
            f"Redis at {shown} accepted the login, but this user may not use database {db} (SELECT: {exc}): "
            f"end the URL with /0, the database the lab uses."
        ) from None
    except redis.ResponseError as exc:
        if _cluster_enabled(client):  # a cluster node that would not answer CLUSTER INFO to this user
            raise _cluster_has_only_db0(shown, db) from None
        count = _database_count(client)
        has = f"has {count} databases (0 to {count - 1}), so no database {db}" if count else \
            f"has no database {db} (SELECT {db}: {exc})"
        raise LabConnectionError(f"Redis at {shown} {has}: end the URL with /0, the database the lab uses.") from None


def _cluster_has_only_db0(shown: str, db: int) -> LabConnectionError:
    return LabConnectionError(
        f"Redis at {shown} is a cluster, and a cluster has only database 0: end the URL with /0 "
        f"(not /{db}) or with no database at all."
    )


def _database_count(client: Client) -> int | None:
    """CONFIG GET databases, or None where CONFIG is not allowed (ElastiCache, a restricted user)."""
    try:
        return int(client.config_get("databases").get("databases", 0)) or None
    except (redis.ResponseError, ValueError):
        return None


def _cluster_enabled(client: Client) -> bool:
    try:
        return bool(int(client.info("cluster").get("cluster_enabled", 0)))
    except (redis.ResponseError, ValueError):
        return False


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
