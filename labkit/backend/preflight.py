"""Checks made before redis-py connects, each failure told as a sentence naming what was tried and the fix.

The URL's database must be a number; the host name must resolve within the timeout (a slow name
server would otherwise hold the lab for ten seconds or more: socket.getaddrinfo has no timeout of its
own, so it runs in a thread we stop waiting for); the port must accept a TCP connection; and a
rediss:// server must answer a TLS handshake. Failures are told apart by exception type and errno,
never by their text.
"""

from __future__ import annotations

import errno
import ipaddress
import re
import socket
import ssl
import threading
import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from labkit.config import ENV_URL
from labkit.errors import LabConnectionError

_NUMBER = re.compile(r"[0-9]+").fullmatch
_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
_NO_ROUTE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN}
FALLBACK = f"Unset {ENV_URL} to use the embedded fakeredis instead."
# OpenSSL's reasons for a reply that is no TLS record at all (plain text, HTTP...).
_NOT_TLS = {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "UNKNOWN_PROTOCOL",
            "HTTP_REQUEST", "HTTPS_PROXY_REQUEST", "BAD_RECORD_TYPE", "RECORD_TOO_LARGE"}


def database_of(url: str, shown: str) -> int:
    """The database number a Redis URL names (?db= or the path after the port), 0 if none; refuses a non-number."""
    parts = urlsplit(url)
    in_query = parse_qs(parts.query).get("db")
    if in_query:
        text = in_query[-1]
    elif parts.scheme != "unix" and parts.path not in ("", "/"):
        text = unquote(parts.path)[1:]
    else:
        return 0
    if not _NUMBER(text):
        raise LabConnectionError(
            f"{shown!r} names the database {text!r}, but Redis databases are numbered: end the URL with /0 "
            f"(the database the lab uses), e.g. redis://localhost:6379/0. Fix {ENV_URL}."
        )
    return int(text)


def check_reachable(where: dict[str, Any], shown: str, tls: bool, timeout: float) -> None:
    """Resolve the host, open a TCP (or unix socket) connection and, for TLS, shake hands; each within `timeout`."""
    if where.get("path"):
        _check_socket_file(str(where["path"]), shown, timeout)
        return
    host, port = str(where.get("host") or "localhost"), int(where.get("port") or 6379)
    deadline = time.monotonic() + timeout
    failure: OSError | None = None
    for family, kind, proto, _, address in _resolve(host, port, shown, timeout):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(left)
            sock.connect(address)
        except OSError as exc:
            failure = exc
            sock.close()
            continue
        try:
            if tls:
                _check_tls_spoken(sock, host, port, shown, timeout)
        finally:
            sock.close()
        return
    raise _tcp_failure(failure, host, port, shown, timeout)


def _resolve(host: str, port: int, shown: str, timeout: float) -> list[tuple[Any, ...]]:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:  # a literal address needs no name server
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
    found: list[tuple[Any, ...]] = []
    failed: list[OSError] = []

    def look_up() -> None:
        try:
            found.extend(socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM))
        except OSError as exc:
            failed.append(exc)

    worker = threading.Thread(target=look_up, name=f"labkit-resolve-{host}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():  # left to finish on its own: a daemon thread holds nothing the lab needs
        raise LabConnectionError(
            f"Could not reach Redis at {shown}: the host name {host!r} did not resolve within {timeout:g} s "
            f"(the name server is slow or unreachable). Check the host name and this machine's DNS "
            f"settings, or use the server's IP address. {FALLBACK}"
        )
    if failed:
        exc = failed[0]
        if isinstance(exc, socket.gaierror) and exc.errno in _NO_SUCH_NAME:
            what = (f"the host name {host!r} is unknown ({exc.strerror}). Check it for typos "
                    "(ElastiCache: copy the endpoint from the console).")
        elif isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_AGAIN:
            what = (f"the name server could not look up {host!r} just now ({exc.strerror}). Check this "
                    "machine's network and DNS settings, then try again.")
        else:
            what = f"looking up the host name {host!r} failed ({exc.strerror or exc})."
        raise LabConnectionError(f"Could not reach Redis at {shown}: {what} {FALLBACK}")
    if not found:
        raise LabConnectionError(f"Could not reach Redis at {shown}: the host name {host!r} has no address. "
                                 f"{FALLBACK}")
    return found


def _tcp_failure(exc: OSError | None, host: str, port: int, shown: str, timeout: float) -> LabConnectionError:
    if isinstance(exc, ConnectionRefusedError):
        what = (f"nothing accepts connections on port {port} of {host} (connection refused). "
                "Is the server running and the port right?")
    elif isinstance(exc, TimeoutError) or exc is None:
        what = (f"{host}:{port} did not answer within {timeout:g} s. The host may be down, or a firewall "
                "or security group drops the packets (ElastiCache answers only inside its VPC).")
    elif exc.errno in _NO_ROUTE:
        what = f"there is no network route to {host} ({exc.strerror}). Check the host name and this machine's network."
    else:
        what = f"connecting to {host}:{port} failed ({exc.strerror or exc}). Is the server running and the host and port right?"
    return LabConnectionError(f"Could not reach Redis at {shown}: {what} {FALLBACK}")


def _check_socket_file(path: str, shown: str, timeout: float) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(path)
    except FileNotFoundError:
        what = f"there is no socket file {path}. Is the server running, with unixsocket {path} in its configuration?"
    except PermissionError:
        what = f"this user may not open the socket {path}. Check its permissions (unixsocketperm)."
    except ConnectionRefusedError:
        what = f"nothing listens on the socket {path}: is it a file left by a server that stopped?"
    except OSError as exc:
        what = f"connecting to the socket {path} failed ({exc.strerror or exc})."
    else:
        return
    finally:
        sock.close()
    raise LabConnectionError(f"Could not reach Redis at {shown}: {what} {FALLBACK}")


def _check_tls_spoken(sock: socket.socket, host: str, port: int, shown: str, timeout: float) -> None:
    """Shake hands without verifying anything: only whether TLS is spoken (redis-py verifies afterwards)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    sock.settimeout(timeout)
    try:
        context.wrap_socket(sock, server_hostname=None if _is_address(host) else host).close()
        return
    except TimeoutError:
        what = f"no TLS handshake came back from {host}:{port} within {timeout:g} s"
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError) as exc:
        what = f"{host}:{port} closed the connection instead of answering the TLS handshake ({exc.reason})"
    except ssl.SSLError as exc:
        if exc.reason not in _NOT_TLS:  # a TLS answer (an alert, a protocol version): redis-py will say what
            return
        what = f"the answer from {host}:{port} is not TLS ({exc.reason})"
    except ConnectionError as exc:
        what = f"{host}:{port} hung up during the TLS handshake ({exc.strerror or type(exc).__name__})"
    raise LabConnectionError(
        f"Could not reach Redis at {shown}: {what}. No TLS handshake came back: if this server does not use "
        f"TLS, the URL must start with redis://. {FALLBACK}"
    )


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
