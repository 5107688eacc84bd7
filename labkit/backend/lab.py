"""What the first code cell of every notebook calls."""

from __future__ import annotations

from labkit.backend.connection import backend_banner, connect, server_version
from labkit.backend.keyspace import Keyspace, lab_prefix
from labkit.config import MIN_SERVER_VERSION
from labkit.errors import LabConnectionError


def open_lab(name: str) -> Keyspace:
    """Connect, print which backend this notebook runs on, and return a fresh keyspace of its own.

    Only the notebook's own keys (under the lab prefix plus `name`) are cleared, so running a
    notebook twice gives the same outputs and nothing else on the server is touched. A server
    older than Redis 6.2 is refused here, before any cell depends on a command it lacks.
    """
    client = connect()
    version = server_version(client)
    if version[:2] < MIN_SERVER_VERSION:
        raise LabConnectionError(
            f"{backend_banner(client).removeprefix('Backend: ')} is too old for this lab: it needs "
            f"Redis {'.'.join(map(str, MIN_SERVER_VERSION))} or later (it uses GETDEL and ZADD GT). "
            "On ElastiCache, upgrade the engine version; or unset REDIS_URL to use the embedded fakeredis."
        )
    space = Keyspace(client, f"{lab_prefix()}{name}:")
    space.clear()
    print(backend_banner(client))
    return space
