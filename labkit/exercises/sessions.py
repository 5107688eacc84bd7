"""Checks for notebook 02's exercises: a safer create_session, an atomic cart update, login without fixation.

Each check works under its own child of the notebook's keyspace and clears it afterwards.
"""

from __future__ import annotations

import json
import re
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from labkit.backend.keyspace import Keyspace
from labkit.exercises.checking import NotYet, exercise
from labkit.sessions.redis_store import LESSON_TTL, RedisSessionStore

_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")
_HEX = re.compile(r"[0-9a-fA-F]+")


@contextmanager
def _scratch(space: Keyspace, name: str) -> Iterator[Keyspace]:
    scratch = space.child(f"check-{name}")
    scratch.clear()
    try:
        yield scratch
    finally:
        scratch.clear()


def _random_bits(session_id: str) -> int:
    try:
        if uuid.UUID(session_id).version == 4:
            return 122
    except ValueError:
        pass
    if _HEX.fullmatch(session_id):
        return len(session_id) * 4  # token_hex: 4 bits a character
    return len(session_id) * 6 // 8 * 8  # URL-safe base64: 6 bits a character, whole bytes


@exercise("02.1", "create_session with secrets and SET ... EX")
def check_create_session(create_session: Callable[[Keyspace, str], str], space: Keyspace) -> str:
    """`create_session(space, user_id)` stores the lesson's JSON under space.key('session', id) for 8 h."""
    with _scratch(space, "02.1") as scratch:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DeprecationWarning)
            first = create_session(scratch, "ada")
            second = create_session(scratch, "ada")
        if any("setex" in str(w.message) for w in caught):
            raise NotYet("you called setex, which redis-py 8 deprecates: write the same thing with "
                         "client.set(key, value, ex=SESSION_TTL).")
        if not isinstance(first, str):
            raise NotYet(f"create_session returned a {type(first).__name__}; return the session id (a str).")
        if first == second:
            raise NotYet("two calls returned the same id: every session needs a fresh random id.")
        key = scratch.key("session", first)
        raw = scratch.client.get(key)
        if raw is None:
            found = sorted(k[len(scratch.prefix):] for k in scratch.keys())
            raise NotYet(f"nothing is stored under space.key('session', session_id); your keys were {found} "
                         "(shown without the prefix).")
        try:
            data = json.loads(raw)
        except ValueError:
            raise NotYet(f"the session key holds {raw[:30]!r}, not JSON: store json.dumps(session_data).") from None
        if data != {"user_id": "ada", "logged_in": True}:
            raise NotYet(f"the session holds {data}; the lesson stores {{'user_id': user_id, 'logged_in': True}}.")
        ttl = scratch.client.ttl(key)
        if ttl < 0:
            raise NotYet("the session key has no TTL, so it would never expire: pass ex=SESSION_TTL.")
        if not LESSON_TTL - 5 <= ttl <= LESSON_TTL:
            raise NotYet(f"the session expires in {ttl:,} s; the lesson's SESSION_TTL is {LESSON_TTL:,} s (8 hours).")
        bits = _random_bits(first)
        if bits < 128 or not _URL_SAFE.fullmatch(first):
            raise NotYet(f"the id carries about {bits} random bits; ask secrets for at least 128 "
                         "(secrets.token_urlsafe(32) gives 256; token_hex(n) gives 8n: n=16 is 128).")
        alphabet = "hex digits" if _HEX.fullmatch(first) else "URL-safe characters"
        return (f"session:<id> holds the lesson's JSON for 8 hours, set with SET ... EX, under an id of "
                f"{len(first)} {alphabet} (up to {bits} random bits).")


_OTHER_ITEM = "umbrella"
# Commands that read a session: a plain read, or a script, which may read it and write it in one step.
_READS = frozenset({"GET", "GETEX", "GETDEL", "MGET", "EVAL", "EVAL_RO", "EVALSHA", "EVALSHA_RO",
                    "FCALL", "FCALL_RO"})
# Methods that only build one of those commands; the proxy runs them so the command passes through it.
_READ_METHODS = frozenset({"get", "getex", "getdel", "mget", "eval", "eval_ro", "evalsha", "evalsha_ro",
                           "fcall", "fcall_ro", "_eval", "_evalsha", "_fcall"})


class _Neighbour:
    """Another app server that adds an item to the cart, once, right after this one first reads it.

    It writes with its own client commands, on a connection other than the one a WATCH holds, just
    as a second server would, so a WATCH on the session sees the write and a plain read misses it.
    """

    def __init__(self, client: Any, key: str) -> None:
        self.client, self.key = client, key
        self.wrote = False

    def after(self, args: tuple[Any, ...]) -> None:
        if self.wrote or str(args[0]).upper() not in _READS or self.key not in args[1:]:
            return
        self.wrote = True
        data = json.loads(self.client.get(self.key))
        data["cart"].append(_OTHER_ITEM)
        self.client.set(self.key, json.dumps(data), xx=True, keepttl=True)


class _Observed:
    """A client or pipeline as the learner's code sees it: every command passes through unchanged,
    and the neighbour writes right after the first command that reads the session returns (for a
    command queued in a pipeline, after `execute`)."""

    def __init__(self, target: Any, neighbour: _Neighbour) -> None:
        self._target, self._neighbour = target, neighbour
        self._queued: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(type(self._target), name, None)
        if name in _READ_METHODS and callable(method):
            return method.__get__(self)  # builds the command and sends it through our execute_command
        return getattr(self._target, name)

    def __enter__(self) -> _Observed:
        self._target.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        return self._target.__exit__(*exc_info)

    def execute_command(self, *args: Any, **options: Any) -> Any:
        result = self._target.execute_command(*args, **options)
        if result is self._target:  # queued in a pipeline: it runs at execute()
            self._queued.append(args)
            return self
        self._neighbour.after(args)
        return result

    def pipeline(self, *args: Any, **kwargs: Any) -> _Observed:
        return _Observed(self._target.pipeline(*args, **kwargs), self._neighbour)

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        queued, self._queued = self._queued, []
        result = self._target.execute(*args, **kwargs)
        for command in queued:
            self._neighbour.after(command)
        return result


@exercise("02.2", "add_to_cart without losing a concurrent update")
def check_add_to_cart(add_to_cart: Callable[[RedisSessionStore, str, str], Any], space: Keyspace) -> str:
    """`add_to_cart(store, session_id, item)` appends `item` to the session's cart atomically.

    The store handed to the learner's code talks to Redis through `_Observed`, so however the code
    reads the session (store.get, store.update, client.get, a GET after WATCH, a script), another
    server's write lands right after that read, on its own connection.
    """
    with _scratch(space, "02.2") as scratch:
        session_id = RedisSessionStore(scratch, ttl=60).create({"user_id": "ada", "cart": ["book"]})
        neighbour = _Neighbour(scratch.client, scratch.key("session", session_id))
        store = RedisSessionStore(Keyspace(_Observed(scratch.client, neighbour), scratch.prefix), ttl=60)
        add_to_cart(store, session_id, "pen")
        cart = (RedisSessionStore(scratch).get(session_id) or {}).get("cart", [])
        if "pen" not in cart:
            raise NotYet(f"after add_to_cart(store, session_id, 'pen') the cart is {cart}: 'pen' never arrived.")
        if not neighbour.wrote:
            raise NotYet(f"the cart is {cart}, but your code never read the session (the check watches GET, "
                         "GETEX, GETDEL, MGET and scripts), so it cannot have kept what was there: read it, "
                         "append, and write it back in one atomic step (store.update(session_id, change)).")
        if _OTHER_ITEM not in cart:
            raise NotYet(f"the cart is {cart}: another server added {_OTHER_ITEM!r} between your read and your "
                         "write, and your write threw it away (a lost update). Make read-modify-write one "
                         "atomic step: store.update(session_id, change), or the WATCH/MULTI loop of §4.")
        if sorted(cart) != sorted(["book", "pen", _OTHER_ITEM]):
            raise NotYet(f"the cart is {cart}; expected 'book', 'pen' and {_OTHER_ITEM!r} once each.")
        left = RedisSessionStore(scratch).ttl_left(session_id)
        if left is None or not 0 < left <= 60:
            raise NotYet("the session lost its expiry: keep the TTL when you write (keepttl=True; store.update "
                         "does).")
        return f"a concurrent write from another server ({_OTHER_ITEM!r}) survived your update: cart {cart}."


@exercise("02.3", "log in with a new session id (no session fixation)")
def check_login(login: Callable[[RedisSessionStore, str, str], str], space: Keyspace) -> str:
    """`login(store, session_id, user_id)` returns the id for the cookie after logging the session in."""
    with _scratch(space, "02.3") as scratch:
        store = RedisSessionStore(scratch, ttl=60)
        planted = store.create({"cart": ["book"]})  # an attacker's id, planted in the victim's browser
        new_id = login(store, planted, "ada")
        if not isinstance(new_id, str):
            raise NotYet(f"login returned {type(new_id).__name__}; return the session id the cookie should carry.")
        if new_id == planted:
            raise NotYet("login kept the id the browser arrived with, so an attacker who planted that id is "
                         "now logged in as ada (session fixation): issue a new id at login.")
        if store.get(planted) is not None:
            raise NotYet("the pre-login id still works after login: end it (store.delete) so a planted copy is worthless.")
        data = store.get(new_id)
        if data is None:
            raise NotYet("the id login returned names no session: create (or rotate into) a new one.")
        if data.get("user_id") != "ada":
            raise NotYet(f"the new session holds {data}: it should say who logged in, under 'user_id'.")
        if data.get("cart") != ["book"]:
            raise NotYet(f"the new session's cart is {data.get('cart')}; the visitor had ['book'] before logging "
                         "in: carry the old session's data over.")
        return "login issued a fresh id, ended the planted one and kept the visitor's cart."
