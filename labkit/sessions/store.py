"""What every session store offers the simulated app servers: the in-memory one and Redis's."""

from __future__ import annotations

import secrets
from typing import Any, Protocol

SESSION_ID_BYTES = 32  # 256 bits from the OS's CSPRNG; printed as 43 URL-safe characters


def new_session_id() -> str:
    """A fresh, unguessable session id (sanitized as `<session-id>` in stored notebook outputs)."""
    return secrets.token_urlsafe(SESSION_ID_BYTES)


class SessionStore(Protocol):
    """Server-side session storage, keyed by the id the browser keeps in its cookie."""

    def create(self, data: dict[str, Any]) -> str:
        """Store a new session holding `data`; return its new, unguessable id."""

    def get(self, session_id: str) -> dict[str, Any] | None:
        """The session's data, or None when it does not exist (never issued, expired or deleted)."""

    def save(self, session_id: str, data: dict[str, Any]) -> None:
        """Replace an existing session's data."""

    def delete(self, session_id: str) -> bool:
        """End the session now; True when there was one to end."""
