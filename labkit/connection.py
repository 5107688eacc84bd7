"""The lab's Redis client: embedded fakeredis by default, a real server when REDIS_URL is set."""

from __future__ import annotations

import os
import ssl
from urllib.parse import urlsplit, urlunsplit

import fakeredis
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

ENV_URL = "REDIS_URL"
ENV_PASSWORD = "REDIS_PASSWORD"
SCHEMES = ("redis", "rediss", "unix")

_fake_server: fakeredis.FakeServer | None = None


class LabConnectionError(ConnectionError):
    """The lab could not reach or log in to the Redis it was pointed at."""


def connect(url: str | None = None, *, timeout: float = 1.0) -> redis.Redis:
    """Return the lab's Redis client: fakeredis unless `url` (or $REDIS_URL) names a server.

    Every client from the embedded default shares one fake server, as app servers share one
    ElastiCache endpoint. A real server is pinged once, so a wrong URL, a refused connection
    or a failed AUTH raises `LabConnectionError` within about `timeout` seconds.
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
    try:
        client = redis.Redis.from_url(url, **options)
    except ValueError as exc:
        raise LabConnectionError(f"{shown!r} is not a valid Redis URL ({exc}). Fix {ENV_URL}.") from None
    has_password = bool(client.connection_pool.connection_kwargs.get("password"))
    try:
        client.ping()
    except (redis.AuthenticationError, redis.ResponseError) as exc:
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
    except (redis.ConnectionError, redis.TimeoutError, ssl.SSLError, OSError) as exc:
        raise LabConnectionError(
            f"Could not reach Redis at {shown}: {_reason(exc)}. Is the server running and the host "
            f"and port right? Unset {ENV_URL} to use the embedded fakeredis instead."
        ) from None
    return client


def redact(url: str) -> str:
    """Return `url` with any password replaced by ***, safe to print."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = parts.username or ""
    netloc = f"{user}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def is_fake(client: redis.Redis) -> bool:
    """True when `client` talks to the embedded fakeredis server."""
    return isinstance(client, fakeredis.FakeRedis)


def server_version(client: redis.Redis) -> tuple[int, ...]:
    """The Redis version the client talks to (fakeredis reports the version it emulates)."""
    if is_fake(client):
        return tuple(_shared_fake_server().version)
    return tuple(int(p) for p in str(client.info("server")["redis_version"]).split("."))


def backend_banner(client: redis.Redis) -> str:
    """One line naming the backend in use, printed at the top of every notebook."""
    if is_fake(client):
        return f"Backend: fakeredis {fakeredis.__version__} (embedded in this kernel, no server)"
    kwargs = client.connection_pool.connection_kwargs
    where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
    tls = " over TLS" if client.connection_pool.connection_class is redis.SSLConnection else ""
    version = ".".join(map(str, server_version(client)))
    return f"Backend: Redis {version} at {where}{tls}"


def _shared_fake_server() -> fakeredis.FakeServer:
    global _fake_server
    if _fake_server is None:
        # Emulate Debian's Redis 7.0 so the embedded default and CI's real server agree.
        _fake_server = fakeredis.FakeServer(version=(7, 0))
    return _fake_server


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.rstrip(".")
