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

from ..keyspace import Keyspace
from ..redis_store import LESSON_TTL, RedisSessionStore
from . import NotYet, exercise

_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


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
                         "(secrets.token_urlsafe(32) gives 256).")
        return (f"session:<id> holds the lesson's JSON for 8 hours, set with SET ... EX, under an id of "
                f"{len(first)} URL-safe characters (up to {bits} random bits).")


_OTHER_ITEM = "umbrella"


class _BusyNeighbour(RedisSessionStore):
    """A store where another app server adds an item to the cart right after this one reads it."""

    meddled = False

    def _meddle(self, session_id: str) -> None:
        if not self.meddled:
            self.meddled = True
            key = self.key(session_id)
            data = json.loads(self.client.get(key))
            data["cart"].append(_OTHER_ITEM)
            self.client.set(key, json.dumps(data), xx=True, keepttl=True)

    def get(self, session_id: str) -> dict[str, Any] | None:
        data = super().get(session_id)
        self._meddle(session_id)
        return data

    def update(self, session_id: str, change: Callable[[dict[str, Any]], Any]) -> dict[str, Any] | None:
        def change_while_busy(data: dict[str, Any]) -> Any:
            self._meddle(session_id)
            return change(data)

        return super().update(session_id, change_while_busy)


@exercise("02.2", "add_to_cart without losing a concurrent update")
def check_add_to_cart(add_to_cart: Callable[[RedisSessionStore, str, str], Any], space: Keyspace) -> str:
    """`add_to_cart(store, session_id, item)` appends `item` to the session's cart atomically."""
    with _scratch(space, "02.2") as scratch:
        store = _BusyNeighbour(scratch, ttl=60)
        session_id = store.create({"user_id": "ada", "cart": ["book"]})
        add_to_cart(store, session_id, "pen")
        cart = RedisSessionStore.get(store, session_id)["cart"]
        if "pen" not in cart:
            raise NotYet(f"after add_to_cart(store, session_id, 'pen') the cart is {cart}: 'pen' never arrived.")
        if _OTHER_ITEM not in cart:
            raise NotYet(f"the cart is {cart}: another server added {_OTHER_ITEM!r} between your read and your "
                         "write, and your write threw it away (a lost update). Make read-modify-write one "
                         "atomic step: store.update(session_id, change).")
        if sorted(cart) != sorted(["book", "pen", _OTHER_ITEM]):
            raise NotYet(f"the cart is {cart}; expected 'book', 'pen' and {_OTHER_ITEM!r} once each.")
        if not 0 < store.ttl_left(session_id) <= 60:
            raise NotYet("the session lost its expiry: keep the TTL when you write (store.update does).")
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
