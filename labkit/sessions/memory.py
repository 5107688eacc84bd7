"""Sessions kept in one app server's memory: the setup that breaks once there are two servers."""

from __future__ import annotations

import copy
from typing import Any

from labkit.errors import NoSuchSession
from labkit.sessions.payload import check_round_trip
from labkit.sessions.store import new_session_id


class MemorySessionStore:
    """A `SessionStore` in a plain dict: fast, private to one process, gone when it stops.

    It refuses (BadArgument) the data the Redis store refuses, data JSON would not give back
    unchanged, so code that works on one store works on the other.
    """

    def __init__(self) -> None:
        self._sessions: dict[str, dict[str, Any]] = {}

    def create(self, data: dict[str, Any]) -> str:
        """Store a new session holding a copy of `data`; return its new id."""
        check_round_trip(data)
        session_id = new_session_id()
        self._sessions[session_id] = copy.deepcopy(data)
        return session_id

    def get(self, session_id: str) -> dict[str, Any] | None:
        """A copy of the session's data (edits need `save`, as with Redis), or None."""
        data = self._sessions.get(session_id)
        return None if data is None else copy.deepcopy(data)

    def save(self, session_id: str, data: dict[str, Any]) -> None:
        """Replace an existing session's data; NoSuchSession if there is none."""
        check_round_trip(data)
        if session_id not in self._sessions:
            raise NoSuchSession(f"no session {session_id!r} in this server's memory: create it first")
        self._sessions[session_id] = copy.deepcopy(data)

    def delete(self, session_id: str) -> bool:
        """End the session now; True when there was one."""
        return self._sessions.pop(session_id, None) is not None

    def __len__(self) -> int:
        return len(self._sessions)

    def __repr__(self) -> str:
        return f"MemorySessionStore({len(self)} sessions)"
