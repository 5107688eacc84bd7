"""What the first code cell of every notebook calls."""

from __future__ import annotations

from .connection import backend_banner, connect
from .keyspace import Keyspace, lab_prefix


def open_lab(name: str) -> Keyspace:
    """Connect, print which backend this notebook runs on, and return a fresh keyspace of its own.

    Only the notebook's own keys (under the lab prefix plus `name`) are cleared, so running a
    notebook twice gives the same outputs and nothing else on the server is touched.
    """
    client = connect()
    space = Keyspace(client, f"{lab_prefix()}{name}:")
    space.clear()
    print(backend_banner(client))
    return space
