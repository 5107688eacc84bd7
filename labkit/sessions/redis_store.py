"""Sessions in Redis, in the lesson's format: `session:{id}` holds a JSON payload with a TTL.

With the same key prefix, a session written by the lesson's `create_session` is read here and the
other way round (an empty prefix gives the lesson's exact keys). A write that depends on what a key
holds (save, update, refresh, delete) WATCHes the key, reads it, and writes in MULTI/EXEC only if it
holds a session, so a value some other program stored there is never changed. Each transaction
touches one key, so the store also works on a cluster, where a session and its user's index
(`user_index`) live in different hash slots.
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

import redis
from redis.client import NEVER_DECODE

from labkit.backend.connection import Client, error_code
from labkit.backend.keyspace import Keyspace
from labkit.errors import BadArgument, CorruptSession, NoSuchSession, SessionContended
from labkit.sessions.payload import decode, encode, not_a_string
from labkit.sessions.store import check_id, is_valid_id, new_session_id, shown
from labkit.sessions.user_index import UserIndex, user_of

LESSON_TTL = int(timedelta(hours=8).total_seconds())  # the lesson's SESSION_TTL
MIN_TTL_MS = 1  # Redis counts expiry in whole milliseconds
# Redis refuses an expiry whose absolute time passes 2**63 - 1 ms, a bound that moves with the clock;
# half of it, about 146 million years, is a bound that holds today and keeps a float's TTL exact enough.
MAX_TTL_MS = 2**62
MAX_UPDATE_ATTEMPTS = 100
_RAW: dict[str, Any] = {NEVER_DECODE: []}  # read a value as bytes: a non-UTF-8 one must be named, not crash the decoder
log = logging.getLogger("labkit.sessions")

Change = Callable[[dict[str, Any]], Any]
T = TypeVar("T")


class RedisSessionStore:
    """Server-side sessions shared by every app server that talks to the same Redis.

    `ttl` (seconds or a timedelta; fractions allowed, down to 1 ms) is the lifetime of a session
    after its creation or last `refresh`. Sessions whose data names a user under `user_field` (the
    lesson's `user_id`; the lab's Flask app uses `user`) are also listed in that user's index, so
    `logout_everywhere` can end them all.
    """

    def __init__(self, keyspace: Keyspace, ttl: float | timedelta = LESSON_TTL, *,
                 user_field: str = "user_id") -> None:
        seconds = ttl_seconds(ttl)
        if not isinstance(user_field, str) or not user_field:
            raise BadArgument(f"user_field is the name of a field in the session data, not {user_field!r}")
        self.keyspace = keyspace
        self.client: Client = keyspace.client
        self.ttl = seconds
        self.user_field = user_field
        self._ttl_ms = round(seconds * 1000)
        # Whole seconds use EX, exactly the lesson's command; fractions need PX.
        self._expiry = {"ex": int(seconds)} if seconds.is_integer() else {"px": self._ttl_ms}
        self._session_prefix = keyspace.key("session", "")
        self._index = UserIndex(keyspace, self._ttl_ms)

    def __repr__(self) -> str:
        return f"RedisSessionStore(prefix={self.keyspace.prefix!r}, ttl={self.ttl:g} s)"

    def key(self, session_id: str) -> str:
        """The Redis key of a session: `<prefix>session:<id>`."""
        check_id(session_id)
        return self._session_prefix + session_id

    def index_key(self, user_id: object) -> str:
        """The Redis key of the set listing one user's session ids."""
        return self._index.key(user_id)

    def create(self, data: dict[str, Any]) -> str:
        """Store a new session for `ttl`: SET session:<id> <json> EX (PX for fractions), then SADD + PEXPIRE its user's index."""
        payload = encode(data)
        session_id = new_session_id()
        user = user_of(data, self.user_field)
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self._session_prefix + session_id, payload, **self._expiry)
        if user is not None and not self._index.ordered_pipelines:
            pipe.execute()  # listed only once it exists: the index drops ids whose session it cannot find
            pipe = self.client.pipeline(transaction=False)
        if user is not None:
            self._index.queue_add(pipe, user, session_id)
        pipe.execute()
        return session_id

    def get(self, session_id: str) -> dict[str, Any] | None:
        """The session's data (GET, then JSON), or None when it never existed, expired or was deleted."""
        if type(session_id) is not str or not is_valid_id(session_id):
            check_id(session_id)
        return _read(self.client, self._session_prefix + session_id)

    def save(self, session_id: str, data: dict[str, Any]) -> None:
        """Replace a session's data, keeping its TTL: WATCH + GET (a session?), then SET XX KEEPTTL in MULTI/EXEC.

        NoSuchSession if it is gone; a new user named in `data` lists it in that user's index first.
        """
        key = self.key(session_id)
        payload = encode(data)
        user = user_of(data, self.user_field)

        def replace(pipe: Any, old: dict[str, Any]) -> bool:
            self._list_if_moved(user, user_of(old, self.user_field), session_id)
            pipe.multi()
            pipe.set(key, payload, xx=True, keepttl=True)
            return bool(pipe.execute()[0])

        if not self._transact(key, replace, missing=False):
            raise NoSuchSession(f"no session {shown(session_id)}: it expired or was deleted")

    def delete(self, session_id: str) -> bool:
        """End the session now: WATCH + GET (a session?), DEL in MULTI/EXEC, then SREM from its user's index."""
        key = self.key(session_id)

        def end(pipe: Any, data: dict[str, Any]) -> dict[str, Any] | None:
            pipe.multi()
            pipe.delete(key)
            return data if pipe.execute()[0] else None

        data = self._transact(key, end, missing=None)
        if data is None:
            return False
        user = user_of(data, self.user_field)
        if user is not None:
            self._index.forget(user, [session_id])
        return True

    def refresh(self, session_id: str) -> dict[str, Any] | None:
        """Sliding expiry: WATCH + GET (a session?), then PEXPIRE in MULTI/EXEC; its data, or None if it is gone.

        Its user's index is extended first (SADD + PEXPIRE), so it outlives the session.
        """
        key = self.key(session_id)

        def extend(pipe: Any, data: dict[str, Any]) -> dict[str, Any] | None:
            user = user_of(data, self.user_field)
            if user is not None:
                self._index.add(user, session_id)
            pipe.multi()
            pipe.pexpire(key, self._ttl_ms)
            return data if pipe.execute()[0] else None

        return self._transact(key, extend, missing=None)

    def update(self, session_id: str, change: Change) -> dict[str, Any] | None:
        """Apply `change(data)` atomically: WATCH + GET, then SET XX KEEPTTL in MULTI/EXEC, retried on conflict.

        `change` edits the dict in place (or returns a new dict). If another client writes the
        session between our read and our write, EXEC is refused and `change` runs again on the
        fresh data, so no concurrent update is lost. The session keeps its expiry. Returns the new
        data, or None when there is no session.
        """
        key = self.key(session_id)

        def apply(pipe: Any, data: dict[str, Any]) -> dict[str, Any] | None:
            before = user_of(data, self.user_field)
            changed = change(data)
            data = data if changed is None else changed
            payload = encode(data)
            self._list_if_moved(user_of(data, self.user_field), before, session_id)
            pipe.multi()
            pipe.set(key, payload, xx=True, keepttl=True)
            return data if pipe.execute()[0] else None  # None: it expired between read and write

        return self._transact(key, apply, missing=None)

    def ttl_left(self, session_id: str) -> float | None:
        """Seconds until the session expires (PTTL), or None when it does not exist."""
        left = self.client.pttl(self.key(session_id))
        return None if left < 0 else left / 1000

    def sessions_of(self, user_id: object) -> list[str]:
        """The live session ids of one user, sorted: SMEMBERS of the index, then GET of each listed session."""
        user = _user(user_id)
        ids = self._index.members(user)
        values = self._read_many(ids)
        self._index.forget(user, [s for s, value in zip(ids, values) if value is None])
        return [s for s, value in zip(ids, values) if self._belongs(value, user)]

    def logout_everywhere(self, user_id: object) -> int:
        """End every session of one user (all devices); return how many were alive.

        SMEMBERS of the index and GET of each listed session; then each of the user's sessions ends
        with WATCH + GET + DEL in MULTI/EXEC, so a session that meanwhile moved to another user stays.
        """
        user = _user(user_id)
        ids = self._index.members(user)
        values = self._read_many(ids)
        ended, gone = 0, [s for s, value in zip(ids, values) if value is None]
        for session_id, value in zip(ids, values):
            if self._belongs(value, user):
                key = self._session_prefix + session_id
                outcome = self._transact(key, partial(self._end_if_owned, key=key, user=user), missing="gone")
                ended += outcome == "ended"
                gone += [session_id] if outcome in ("ended", "gone") else []
        self._index.forget(user, gone)
        return ended

    def rotate(self, session_id: str, **changes: Any) -> str | None:
        """A new id for the session's data (plus `changes`), the old id ended (GET, SET ... EX, `delete`): do this at login.

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

    def _transact(self, key: str, act: Callable[[Any, dict[str, Any]], T], missing: T) -> T:
        """WATCH `key` and read it; `missing` if it is gone, else `act(pipe, data)`, which runs MULTI/EXEC.

        A key that holds anything but a session raises CorruptSession before `act` can touch it; a
        write between our read and EXEC refuses the EXEC and the whole step runs again.
        """
        with self.client.pipeline(transaction=True) as pipe:
            for _ in range(MAX_UPDATE_ATTEMPTS):
                try:
                    pipe.watch(key)
                    data = _read(pipe, key)
                    if data is None:
                        pipe.unwatch()
                        return missing
                    return act(pipe, data)
                except redis.WatchError:
                    continue
        session_id = key.removeprefix(self._session_prefix)
        raise SessionContended(f"session {shown(session_id)} changed under us {MAX_UPDATE_ATTEMPTS} times in a row")

    def _list_if_moved(self, user: str | None, before: str | None, session_id: str) -> None:
        """Before a write names a new user, list the session in that user's index (SADD + PEXPIRE)."""
        if user is not None and user != before:
            self._index.add(user, session_id)

    def _end_if_owned(self, pipe: Any, data: dict[str, Any], *, key: str, user: str) -> str:
        """DEL in MULTI/EXEC if the (WATCHed) session still names `user`: 'ended', 'gone' or 'moved'."""
        if user_of(data, self.user_field) != user:
            pipe.unwatch()
            return "moved"
        pipe.multi()
        pipe.delete(key)
        return "ended" if pipe.execute()[0] else "gone"

    def _read_many(self, ids: list[str]) -> list[dict[str, Any] | CorruptSession | None]:
        """GET each listed session in one pipeline: its data, None if gone, or the CorruptSession it raises."""
        if not ids:
            return []
        pipe = self.client.pipeline(transaction=False)
        for session_id in ids:
            pipe.execute_command("GET", self._session_prefix + session_id, **_RAW)
        values: list[dict[str, Any] | CorruptSession | None] = []
        for session_id, raw in zip(ids, pipe.execute(raise_on_error=False)):
            try:
                values.append(_parse(self._session_prefix + session_id, raw))
            except CorruptSession as exc:
                log.warning("a user's index lists a key that holds no session; left untouched: %s", exc)
                values.append(exc)
        return values

    def _belongs(self, value: object, user: str) -> bool:
        return isinstance(value, dict) and user_of(value, self.user_field) == user


def ttl_seconds(ttl: object) -> float:
    """`ttl` as seconds, if Redis can keep a key that long: from 1 ms to about 146 million years."""
    if isinstance(ttl, timedelta):
        seconds = ttl.total_seconds()
    elif isinstance(ttl, numbers.Real) and not isinstance(ttl, bool):
        try:
            seconds = float(ttl)
        except OverflowError:  # an int (or a fraction) too big for a float
            raise _too_long(f"an int of {ttl.bit_length():,} bits" if isinstance(ttl, int) else "a number too "
                            "big for a float") from None
    else:
        raise BadArgument(f"ttl is a number of seconds or a timedelta, not {type(ttl).__name__}")
    if not math.isfinite(seconds):
        raise BadArgument(f"ttl must be a finite number of seconds, got {ttl!r}")
    if not seconds * 1000 >= MIN_TTL_MS:
        raise BadArgument(f"ttl must be a positive number of seconds, at least 0.001 (1 ms, the smallest "
                          f"expiry Redis keeps), got {ttl!r}")
    if not seconds * 1000 <= MAX_TTL_MS:
        raise _too_long(repr(ttl))
    return seconds


def _too_long(got: str) -> BadArgument:
    return BadArgument(f"ttl must be at most {MAX_TTL_MS // 1000:,} seconds (about 146 million years; Redis "
                       f"refuses expiries much beyond that), got {got}")


def _user(user_id: object) -> str:
    if user_id is None:
        raise BadArgument("a user id is needed, not None: sessions without a user are in no user's index")
    return str(user_id)


def _read(conn: Any, key: str) -> dict[str, Any] | None:
    """GET `key` as raw bytes on a client or a WATCHing pipeline; its session data, or None."""
    try:
        raw = conn.execute_command("GET", key, **_RAW)
    except redis.ResponseError as exc:
        raise _classified(key, exc) from None
    except UnicodeDecodeError as exc:  # a client that decodes whatever NEVER_DECODE says: its reply was read whole
        raw = exc.object
    return _parse(key, raw)


def _parse(key: str, raw: object) -> dict[str, Any] | None:
    if isinstance(raw, redis.ResponseError):
        raise _classified(key, raw)
    return None if raw is None else decode(key, raw)  # type: ignore[arg-type]


def _classified(key: str, exc: redis.ResponseError) -> Exception:
    return not_a_string(key, exc) if error_code(exc) == "WRONGTYPE" else exc
