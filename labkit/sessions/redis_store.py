"""Sessions in Redis, in the lesson's format: `session:{id}` holds a JSON payload with a TTL.

With the same key prefix, a session written by the lesson's `create_session` is read here and the
other way round (an empty prefix gives the lesson's exact keys). Every command touches one key,
or keys in a non-transactional pipeline, so the store also works on a cluster where a session
and its user's index live in different hash slots.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import redis

from labkit.backend.connection import Client
from labkit.backend.keyspace import Keyspace
from labkit.errors import BadArgument, CorruptSession, InvalidSessionId, NoSuchSession, SessionContended
from labkit.sessions.store import new_session_id

LESSON_TTL = int(timedelta(hours=8).total_seconds())  # the lesson's SESSION_TTL
MAX_ID_LENGTH = 128
_VALID_ID = re.compile(rf"[A-Za-z0-9_-]{{22,{MAX_ID_LENGTH}}}").fullmatch  # 22 chars of base64 = 128 bits
MAX_UPDATE_ATTEMPTS = 100

Change = Callable[[dict[str, Any]], Any]


class RedisSessionStore:
    """Server-side sessions shared by every app server that talks to the same Redis.

    `ttl` (seconds or a timedelta; fractions allowed) is the lifetime of a session after its
    creation or last `refresh`. Sessions whose data names a user under `user_field` (the lesson's
    `user_id`; the lab's Flask app uses `user`) are also listed in that user's index, so
    `logout_everywhere` can end them all.
    """

    def __init__(self, keyspace: Keyspace, ttl: float | timedelta = LESSON_TTL, *,
                 user_field: str = "user_id") -> None:
        seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else float(ttl)
        if not seconds > 0:
            raise BadArgument(f"ttl must be a positive number of seconds, got {ttl!r}")
        self.keyspace = keyspace
        self.client: Client = keyspace.client
        self.ttl = seconds
        self.user_field = user_field
        self._ttl_ms = round(seconds * 1000)
        # Whole seconds use EX, exactly the lesson's command; fractions need PX.
        self._expiry = {"ex": int(seconds)} if seconds.is_integer() else {"px": self._ttl_ms}
        self._session_prefix = keyspace.key("session", "")

    def __repr__(self) -> str:
        return f"RedisSessionStore(prefix={self.keyspace.prefix!r}, ttl={self.ttl:g} s)"

    def key(self, session_id: str) -> str:
        """The Redis key of a session: `<prefix>session:<id>`."""
        _check_id(session_id)
        return self._session_prefix + session_id

    def index_key(self, user_id: object) -> str:
        """The Redis key of the set listing one user's session ids."""
        return self.keyspace.key("user-sessions", str(user_id))

    def create(self, data: dict[str, Any]) -> str:
        """Store a new session holding `data` for `ttl`; return its new 256-bit id."""
        session_id = new_session_id()
        payload = _encode(data)
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self._session_prefix + session_id, payload, **self._expiry)
        if data.get(self.user_field) is not None:
            index = self.index_key(data[self.user_field])
            pipe.sadd(index, session_id)
            # Every session lives at most `ttl` after its last create/refresh, so resetting the
            # index's TTL on each one keeps it alive as long as its newest session.
            pipe.pexpire(index, self._ttl_ms)
        pipe.execute()
        return session_id

    def get(self, session_id: str) -> dict[str, Any] | None:
        """The session's data, or None when it never existed, expired or was deleted."""
        if type(session_id) is not str or not _VALID_ID(session_id):
            _check_id(session_id)
        key = self._session_prefix + session_id
        try:
            raw = self.client.get(key)
        except redis.ResponseError as exc:
            raise _corrupt(key, exc) from None
        if raw is None:
            return None
        return _decode(key, raw)

    def save(self, session_id: str, data: dict[str, Any]) -> None:
        """Replace an existing session's data, keeping its expiry; KeyError if it is gone."""
        key = self.key(session_id)
        if not self.client.set(key, _encode(data), xx=True, keepttl=True):
            raise NoSuchSession(f"no session {_shown(session_id)}: it expired or was deleted")

    def delete(self, session_id: str) -> bool:
        """End the session now (instant invalidation); True when there was one to end."""
        key = self.key(session_id)
        try:
            raw = self.client.getdel(key)
        except redis.ResponseError as exc:
            raise _corrupt(key, exc) from None
        if raw is None:
            return False
        user_id = _user_of(raw, self.user_field)
        if user_id is not None:
            self.client.srem(self.index_key(user_id), session_id)
        return True

    def refresh(self, session_id: str) -> dict[str, Any] | None:
        """Sliding expiry: restart the session's TTL and return its data (None if it is gone)."""
        key = self.key(session_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.pexpire(key, self._ttl_ms)
        pipe.get(key)
        try:
            _, raw = pipe.execute()
        except redis.ResponseError as exc:
            raise _corrupt(key, exc) from None
        if raw is None:
            return None
        data = _decode(key, raw)
        if data.get(self.user_field) is not None:
            self.client.pexpire(self.index_key(data[self.user_field]), self._ttl_ms)
        return data

    def ttl_left(self, session_id: str) -> float | None:
        """Seconds until the session expires, or None when it does not exist."""
        left = self.client.pttl(self.key(session_id))
        return None if left < 0 else left / 1000

    def sessions_of(self, user_id: object) -> list[str]:
        """The live session ids of one user, sorted; expired ones are pruned from the index."""
        index = self.index_key(user_id)
        ids = sorted(self.client.smembers(index))
        pipe = self.client.pipeline(transaction=False)
        for session_id in ids:
            pipe.exists(self._session_prefix + session_id)
        alive = pipe.execute() if ids else []
        dead = [s for s, live in zip(ids, alive) if not live]
        if dead:
            self.client.srem(index, *dead)
        return [s for s, live in zip(ids, alive) if live]

    def logout_everywhere(self, user_id: object) -> int:
        """End every session of one user (all devices); return how many were alive."""
        index = self.index_key(user_id)
        ids = self.client.smembers(index)
        if not ids:
            return 0
        pipe = self.client.pipeline(transaction=False)  # one DEL per key: keys may sit in different slots
        for session_id in sorted(ids):
            pipe.delete(self._session_prefix + session_id)
        ended = sum(pipe.execute())
        # SREM only what was read: a session created meanwhile stays listed.
        self.client.srem(index, *ids)
        return ended

    def update(self, session_id: str, change: Change) -> dict[str, Any] | None:
        """Apply `change(data)` atomically (WATCH/MULTI, retried on conflict); the new data or None.

        `change` edits the dict in place (or returns a new dict). If another client writes the
        session between our read and our write, the write is refused and `change` runs again on
        the fresh data, so no concurrent update is lost. The session keeps its expiry.
        """
        key = self.key(session_id)
        with self.client.pipeline(transaction=True) as pipe:
            for _ in range(MAX_UPDATE_ATTEMPTS):
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if raw is None:
                        pipe.unwatch()
                        return None
                    data = _decode(key, raw)
                    changed = change(data)
                    data = data if changed is None else changed
                    pipe.multi()
                    pipe.set(key, _encode(data), xx=True, keepttl=True)
                    if pipe.execute() == [None]:
                        return None  # expired between read and write
                    return data
                except redis.WatchError:
                    continue
                except redis.ResponseError as exc:
                    raise _corrupt(key, exc) from None
        raise SessionContended(f"session {_shown(session_id)} changed under us {MAX_UPDATE_ATTEMPTS} times in a row")

    def rotate(self, session_id: str, **changes: Any) -> str | None:
        """A new id for the session's data (plus `changes`), and the old id ended: do this at login.

        Regenerating the id when privileges change defeats session fixation: an id an attacker
        planted before the login is worth nothing after it. None if the session is gone.
        """
        data = self.get(session_id)
        if data is None:
            return None
        data.update(changes)
        new_id = self.create(data)
        self.delete(session_id)
        return new_id


def _check_id(session_id: object) -> None:
    if not isinstance(session_id, str):
        raise InvalidSessionId(f"a session id is a str, not {type(session_id).__name__}")
    if len(session_id) > MAX_ID_LENGTH:
        raise InvalidSessionId(
            f"session id is {len(session_id):,} characters long; ids are at most {MAX_ID_LENGTH} "
            "(labkit issues 43): refusing it before it reaches Redis"
        )
    if not _VALID_ID(session_id):
        raise InvalidSessionId(
            f"malformed session id {_shown(session_id)}: expected 22 to {MAX_ID_LENGTH} URL-safe "
            "characters (A-Z a-z 0-9 _ -), as secrets.token_urlsafe or uuid4 make"
        )


def _shown(session_id: str) -> str:
    """A session id safe to put in a message: ids are secrets, so only the first 6 characters."""
    return repr(session_id[:6] + "…") if len(session_id) > 6 else repr(session_id)


def _encode(data: dict[str, Any]) -> str:
    if not isinstance(data, dict):
        raise TypeError(f"session data is a dict, not {type(data).__name__}")
    return json.dumps(data)


def _decode(key: str, raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise CorruptSession(
            f"{key!r} does not hold JSON (it starts {raw[:20]!r}); something other than a session "
            "store wrote it. It was left untouched: inspect it with GET, remove it with DEL."
        ) from None
    if not isinstance(data, dict):
        raise CorruptSession(f"{key!r} holds JSON {type(data).__name__}, not a session object; left untouched.")
    return data


def _corrupt(key: str, exc: redis.ResponseError) -> Exception:
    if "WRONGTYPE" in str(exc):
        return CorruptSession(f"{key!r} is not a string key (Redis said: {exc}); left untouched.")
    return exc


def _user_of(raw: str, field: str) -> object | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data.get(field) if isinstance(data, dict) else None
