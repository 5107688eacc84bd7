"""What every session store offers the simulated app servers: the in-memory one and Redis's."""

from __future__ import annotations

import re
import secrets
from typing import Any, Protocol

from labkit.errors import InvalidSessionId

SESSION_ID_BYTES = 32  # 256 bits from the OS's CSPRNG; printed as 43 URL-safe characters
MAX_ID_LENGTH = 128
is_valid_id = re.compile(rf"[A-Za-z0-9_-]{{22,{MAX_ID_LENGTH}}}").fullmatch  # 22 chars of base64 = 128 bits


def new_session_id() -> str:
    """A fresh, unguessable session id (sanitized as `<session-id>` in stored notebook outputs)."""
    return secrets.token_urlsafe(SESSION_ID_BYTES)


def check_id(session_id: object) -> None:
    """Refuse (InvalidSessionId) an id no store issues: not a str, too long, or not URL-safe base64."""
    if not isinstance(session_id, str):
        raise InvalidSessionId(f"a session id is a str, not {type(session_id).__name__}")
    if len(session_id) > MAX_ID_LENGTH:
        raise InvalidSessionId(
            f"session id is {len(session_id):,} characters long; ids are at most {MAX_ID_LENGTH} "
            "(labkit issues 43): refusing it before it reaches Redis"
        )
    if not is_valid_id(session_id):
        raise InvalidSessionId(
            f"malformed session id {shown(session_id)}: expected 22 to {MAX_ID_LENGTH} URL-safe "
            "characters (A-Z a-z 0-9 _ -), as secrets.token_urlsafe or uuid4 make"
        )


def shown(session_id: str) -> str:
    """A session id safe to put in a message: ids are secrets, so only the first 6 characters."""
    return repr(session_id[:6] + "…") if len(session_id) > 6 else repr(session_id)


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
