"""Each user's index of sessions, `user-sessions:<user>`: a set of session ids, so "log out everywhere" needs no scan.

The index may list more than the user's sessions, never fewer. A session's id is added (SADD) before
the write that names the user commits, and stays listed when the session later names another user or
ends; readers check each listed session's own data, which alone says whose it is. An id is removed
(SREM) only once its session is gone: ids are never reused, so a gone id cannot come back. No command
spans an index and a session, so this holds on a cluster too, where they live in different slots.
The index expires `ttl` after the last write that listed a session in it, as its newest session does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from labkit.backend.connection import Client, is_cluster
from labkit.backend.keyspace import Keyspace


def user_of(data: dict[str, Any], field: str) -> str | None:
    """The user a session's data names under `field`, as the index knows it (str), or None."""
    value = data.get(field)
    return None if value is None else str(value)


class UserIndex:
    """The `user-sessions:<user>` sets of one keyspace."""

    def __init__(self, keyspace: Keyspace, ttl_ms: int) -> None:
        self.keyspace = keyspace
        self.client: Client = keyspace.client
        self.ttl_ms = ttl_ms
        # A pipeline on one server runs its commands in order; a cluster's runs them per node, in any order.
        self.ordered_pipelines = not is_cluster(keyspace.client)

    def key(self, user: object) -> str:
        """The Redis key of the set listing one user's session ids."""
        return self.keyspace.key("user-sessions", str(user))

    def queue_add(self, pipe: Any, user: str, session_id: str) -> None:
        """Queue SADD + PEXPIRE: list the session under its user and keep the index alive `ttl` longer."""
        index = self.key(user)
        pipe.sadd(index, session_id)
        pipe.pexpire(index, self.ttl_ms)

    def add(self, user: str, session_id: str) -> None:
        """List a session under its user: SADD + PEXPIRE in one pipeline."""
        pipe = self.client.pipeline(transaction=False)
        self.queue_add(pipe, user, session_id)
        pipe.execute()

    def members(self, user: object) -> list[str]:
        """Every session id listed under `user` (SMEMBERS), sorted; some may have ended or moved on."""
        return sorted(self.client.smembers(self.key(user)))

    def forget(self, user: object, gone: Iterable[str]) -> None:
        """Unlist sessions that no longer exist: SREM (an emptied set disappears with its last member)."""
        ids = sorted(set(gone))
        if ids:
            self.client.srem(self.key(user), *ids)
