"""Checks for notebook 02's exercises 02.2 and 02.3: a cart with a limit under concurrency, login with a new id.

Each check judges what the answer does, never how it is written: 02.2 runs the learner's code while
another app server writes the same session at every point between the learner's commands, whatever
client or API the code uses, once filling the cart and once leaving room in it; 02.3 looks at the
sessions left behind after the login. (02.1, the session ids, is in session_ids.py.)
"""

from __future__ import annotations

import json
import string
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis

from labkit.backend.keyspace import Keyspace
from labkit.errors import NoSuchSession
from labkit.exercises.checking import NotYet, exercise
from labkit.exercises.learner_requests import command_names, created_keys_removed
from labkit.sessions.payload import decode, encode
from labkit.sessions.races import requests_hooked
from labkit.sessions.redis_store import LESSON_TTL, RedisSessionStore
from labkit.sessions.store import new_session_id

__all__ = ["CART_LIMIT", "check_add_to_cart", "check_login"]

CART_LIMIT = 3  # 02.2: a cart holds at most this many items
MAX_SENDS = 200  # 02.2: more commands than this for one call means a retry loop that never ends
_GAVE_UP = ("gave up after one conflict: when EXEC answers None (redis-py raises WatchError), read the session again "
           "and retry.")


def _yours(exc: BaseException) -> str:
    """Where in the learner's code `exc` was raised: ' (your line N)', or '' if not found."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "labkit" not in f.filename
              and "/redis/" not in f.filename and "fakeredis" not in f.filename]
    return f" (line {frames[-1].lineno} of your cell)" if frames else ""


# --- 02.2: an atomic conditional update, under interference at every point --------------------------

_NEIGHBOUR_ITEM = "umbrella"
_OWN_ITEM = "pen"
_URL_SAFE = set(string.ascii_letters + string.digits + "-_")


class _Runaway(BaseException):
    """The learner's code kept sending requests: a BaseException, so `except Exception` cannot swallow it."""


@dataclass
class _Interference:
    """Lets another app server write the session right before the learner's k-th request leaves the client.

    It hooks the connection class every redis-py client (fakeredis's too) sends through, so it sees
    the learner's requests whatever object sends them: the store, `store.client`, another client
    made elsewhere, a pipeline, `transaction()`, a script. Only the checking thread is watched.
    """

    write: Callable[[], None]
    strike_at: int | None = None  # 1-based request number; None: only count
    sent: list[str] = field(default_factory=list)  # one label per request sent, e.g. "WATCH" or "MULTI+SET+EXEC"
    struck_before: str | None = None
    _busy: bool = False
    _thread: int = 0

    def before_send(self, command: Any) -> None:
        if self._busy or threading.get_ident() != self._thread:
            return
        label = "+".join(command_names(command)) or "?"
        self.sent.append(label)
        if len(self.sent) > MAX_SENDS:
            raise _Runaway
        if len(self.sent) == self.strike_at:
            self.struck_before, self._busy = label, True
            try:
                self.write()
            finally:
                self._busy = False

    @contextmanager
    def installed(self) -> Iterator[_Interference]:
        self._thread = threading.get_ident()
        with requests_hooked(self.before_send):
            yield self


@dataclass
class _CartRun:
    """One call of the learner's add_to_cart, and what came of it."""

    returned: Any
    cart: list[Any]
    ttl: int
    neighbour_added: bool
    sent: list[str]
    struck_before: str | None


def _run_cart(add_to_cart: Callable[..., Any], space: Keyspace, cart: list[str], strike_at: int | None) -> _CartRun:
    store = RedisSessionStore(space)
    session_id = store.create({"cart": list(cart)})
    key = store.key(session_id)
    added = [False]

    def neighbour() -> None:  # another server adds an umbrella, atomically, if the cart has room
        raw = space.client.get(key)
        data = json.loads(raw) if raw else {}
        if isinstance(data, dict) and isinstance(data.get("cart"), list) and len(data["cart"]) < CART_LIMIT:
            data["cart"].append(_NEIGHBOUR_ITEM)
            space.client.set(key, json.dumps(data), xx=True, keepttl=True)
            added[0] = True

    hook = _Interference(neighbour, strike_at)
    try:
        with hook.installed():
            try:
                returned = add_to_cart(store, session_id, _OWN_ITEM)
            except _Runaway:
                raise NotYet(f"your code sent more than {MAX_SENDS} requests to Redis for one call "
                             f"(it began {', '.join(hook.sent[:4])}): does a retry loop never end?") from None
            except NoSuchSession as exc:
                raise NotYet(f"your code raised NoSuchSession{_yours(exc)}: {exc}") from None
            except redis.WatchError as exc:
                wrote = f"another server wrote right before your {hook.struck_before}, so " if hook.struck_before else ""
                raise NotYet(f"your code let redis.WatchError escape{_yours(exc)}: {wrote}EXEC was refused, and your "
                             f"code {_GAVE_UP}") from None
        pipe = space.client.pipeline(transaction=False)
        pipe.get(key)
        pipe.ttl(key)
        pipe.delete(key)
        raw, ttl, _ = pipe.execute()  # read and clean up in one round trip
    except BaseException:
        space.client.delete(key)
        raise
    if raw is None:
        raise NotYet("after add_to_cart the session was gone: your code deleted it, or wrote it with a TTL that "
                     "ran out; a cart update must leave the session in place, with the time it had left.")
    try:
        stored = json.loads(raw)["cart"]
    except (ValueError, KeyError, TypeError):
        raise NotYet(f"after add_to_cart the session holds {raw[:60]!r}: keep it a JSON object with a 'cart' "
                     "list.") from None
    return _CartRun(returned, stored, ttl, added[0], hook.sent, hook.struck_before)


def _lost_update_advice(sent: list[str]) -> str:
    """What to change, given the requests this answer sent (so the advice never asks for what it already does)."""
    commands = [label.split("+") for label in sent]
    watches = [i for i, names in enumerate(commands) if "WATCH" in names]
    reads = [i for i, names in enumerate(commands) if "GET" in names]
    if watches and reads and reads[0] < watches[0]:
        return ("Your code read the session before it WATCHed it, so EXEC cannot see a write made in that gap: "
                "look at the order of your WATCH and your GET.")
    if len(watches) > 1 and not any(i > watches[-1] for i in reads):
        return ("After EXEC was refused your code tried again without reading the session again, with the stale "
                "copy: read it afresh on every attempt.")
    return "Read, change and write back in one atomic step (WATCH/MULTI with a retry, a script, or store.update)."


def _judge_cart(run: _CartRun, before: list[str]) -> None:
    """Raise NotYet if this run's effect is wrong; the hint names what went wrong and where."""
    cart, where = run.cart, (f"right before your {run.struck_before}" if run.struck_before else "")
    if run.returned not in (True, False) or isinstance(run.returned, str):
        raise NotYet(f"add_to_cart returned {run.returned!r}: return True when it added the item, False when "
                     f"the cart already held {CART_LIMIT} items.")
    if len(cart) > CART_LIMIT and not run.struck_before:
        raise NotYet(f"on the cart {before} your code added {_OWN_ITEM!r}: it ended with {len(cart)} items, over "
                     f"the limit of {CART_LIMIT}.")
    if len(cart) > CART_LIMIT:
        raise NotYet(f"the cart ended with {len(cart)} items {cart}, over the limit of {CART_LIMIT}: another "
                     f"server added {_NEIGHBOUR_ITEM!r} {where}, after your code had checked the size. The size check "
                     "belongs inside the atomic step (in the function store.update runs, between WATCH and MULTI, or "
                     "in the script).")
    if run.neighbour_added and _NEIGHBOUR_ITEM not in cart:
        raise NotYet(f"another server added {_NEIGHBOUR_ITEM!r} {where}, and your write threw it away: the cart "
                     f"is {cart} (a lost update). {_lost_update_advice(run.sent)}")
    if cart.count(_OWN_ITEM) > 1:
        raise NotYet(f"the cart is {cart}: {_OWN_ITEM!r} went in {cart.count(_OWN_ITEM)} times for one call.")
    if any(item not in cart for item in before):
        raise NotYet(f"the cart started as {before} and ended as {cart}: items already in it were lost.")
    if (run.returned is False and _OWN_ITEM not in cart and len(cart) < CART_LIMIT and run.struck_before
            and any("EXEC" in label.split("+") for label in run.sent)):
        raise NotYet(f"another server added {_NEIGHBOUR_ITEM!r} {where}, so your EXEC was refused, and add_to_cart "
                     f"returned False although the cart {cart} still had room: it {_GAVE_UP}")
    retried = sum("WATCH" in label.split("+") for label in run.sent) > 1
    if bool(run.returned) != (_OWN_ITEM in cart) and retried:
        raise NotYet(f"add_to_cart returned {run.returned!r}, but the cart is {cart}: another server wrote {where}, "
                     "so the first EXEC was refused and your change function ran again on the fresh data, but the "
                     "result your code returned still described an earlier run, whose write was refused. Look at "
                     "where that result is set, and what becomes of it when the change function runs again.")
    if bool(run.returned) != (_OWN_ITEM in cart):
        said = "added" if run.returned else "did not add"
        raise NotYet(f"add_to_cart returned {run.returned!r} (it {said} the item), but the cart is {cart}"
                     + (f" (another server wrote {where})" if run.struck_before else "") + ".")
    if run.ttl < 0:
        writes = sorted({n for label in run.sent for n in label.split("+") if n in ("SET", "PERSIST", "MSET")})
        raise NotYet("after add_to_cart the session had no TTL left, so it would never expire: one of the requests "
                     f"your code sent ({', '.join(writes) or 'its write'}) cleared the time it had left; look at what "
                     "each does to the key's TTL.")


@exercise("02.2", "add to a cart of at most 3 items without losing a concurrent update")
def check_add_to_cart(add_to_cart: Callable[[RedisSessionStore, str, str], Any], space: Keyspace) -> str:
    """`add_to_cart(store, session_id, item)` adds `item` if the cart has room, atomically; True if it did.

    First a call on a full cart, and one on its own; then, for every gap between two requests the
    lone call sent, two calls during which another server adds an item in that gap: one where that
    fills the cart, one where room is left (an answer that gives up at a conflict fails there).
    """
    full = ["book", "lamp", "mug"]
    if _judge_first(_run_cart(add_to_cart, space, full, None), full, "a full cart") is not False:
        raise NotYet(f"on a cart already holding {full} your add_to_cart returned True: the limit is {CART_LIMIT}.")
    before = ["book", "lamp"]
    alone = _run_cart(add_to_cart, space, before, None)
    if _judge_first(alone, before, "a cart with room") is not True:
        raise NotYet(f"on the cart {before} your add_to_cart returned {alone.returned!r} and left {alone.cart}; "
                     f"there was room for {_OWN_ITEM!r}.")
    points = len(alone.sent)
    roomy = ["book"]  # the neighbour's item leaves room: the answer's own must still go in
    for strike_at in range(2, points + 1):  # before the first request it is just a fuller cart: the full-cart run
        _judge_cart(_run_cart(add_to_cart, space, before, strike_at), before)
        _judge_cart(_run_cart(add_to_cart, space, roomy, strike_at), roomy)
    if points == 1:
        return (f"your one request ({alone.sent[0]}) leaves no gap for another server to write in: the limit held "
                "and nothing was lost.")
    return (f"another server added an item in each gap between your {points} requests in turn "
            f"({' | '.join(alone.sent)}), filling the cart or leaving room: the limit held, nothing was lost, "
            "and your item went in whenever there was room.")


def _judge_first(run: _CartRun, before: list[str], what: str) -> Any:
    _judge_cart(run, before)
    if run.returned and _OWN_ITEM not in run.cart:
        raise NotYet(f"on {what} add_to_cart returned True, but the cart is {run.cart}: {_OWN_ITEM!r} never arrived.")
    return bool(run.returned)


# --- 02.3: login issues a new id -------------------------------------------------------------------

@exercise("02.3", "log in with a new session id (no session fixation)")
def check_login(login: Callable[[RedisSessionStore, str, str], str], space: Keyspace) -> str:
    """`login(store, session_id, user_id)` returns the id for the cookie: a new session with the user, the old one ended."""
    store = RedisSessionStore(space)
    planted = new_session_id()  # an attacker's id, planted in the victim's browser: store.create's SET, sent with
    index = store.index_key("ada")  # the SMEMBERS that notes what ada's set listed before, in one round trip
    pipe = space.client.pipeline(transaction=False)
    pipe.set(store.key(planted), encode({"cart": ["book"]}), ex=LESSON_TTL)
    pipe.smembers(index)
    listed = set(pipe.execute()[1])
    returned: list[Any] = []
    try:
        try:
            with created_keys_removed(space.client, space.prefix):  # keys outside the space: deleted at once
                returned.append(login(store, planted, "ada"))
        except NoSuchSession as exc:
            raise NotYet(f"your code raised NoSuchSession{_yours(exc)}: store.save only replaces a session that "
                         "exists (SET ... XX), and your new id has none yet: look at how §1 stores a session "
                         "that does not exist yet.") from None
        return _judge_login(store, planted, returned[0])
    finally:  # remove every session this check made, and the learner's login with it
        made = set(space.client.smembers(index)) - listed
        ids = {planted, *made, *(r for r in returned if isinstance(r, str) and _is_id(r))}
        pipe = space.client.pipeline(transaction=False)
        for session_id in sorted(ids):
            pipe.delete(store.key(session_id))
        if made:
            pipe.srem(index, *made)
        pipe.execute()


def _is_id(value: str) -> bool:
    return 22 <= len(value) <= 128 and set(value) <= _URL_SAFE


def _judge_login(store: RedisSessionStore, planted: str, new_id: Any) -> str:
    if not isinstance(new_id, str):
        raise NotYet(f"login returned {type(new_id).__name__} {new_id!r}; return the new session id (a str) "
                     "for the cookie.")
    if new_id == planted:
        raise NotYet("login returned the id the browser arrived with, so whoever planted that id is now logged in "
                     "as ada (session fixation): the cookie must get a new id.")
    if not _is_id(new_id):  # not an id the store would ever issue
        raise NotYet(f"login returned {new_id[:12]!r}, which is not a session id (22 to 128 URL-safe "
                     "characters): return the new session's id.")
    key, old_key = store.key(new_id), store.key(planted)
    pipe = store.client.pipeline(transaction=False)  # what the login left behind, read in one round trip
    pipe.execute_command("GET", key, NEVER_DECODE=True)
    pipe.execute_command("GET", old_key, NEVER_DECODE=True)
    pipe.pttl(key)
    pipe.smembers(store.index_key("ada"))
    raw, raw_old, pttl, listed = pipe.execute()
    data = None if raw is None else decode(key, raw)
    if data is None:
        raise NotYet("the id login returned names no session in Redis: store the session under it "
                     "(SET ... EX) before returning it.")
    alive = None if raw_old is None else decode(old_key, raw_old)
    if alive is not None:
        raise NotYet(f"the planted id still opens a session after login ({alive}): your code left the old "
                     "session alive, so a copy of that id is still worth something (§3 ends "
                     "sessions).")
    if data.get("user_id") != "ada":
        raise NotYet(f"the new session holds {data}: it should name who logged in, under 'user_id'.")
    if data.get("cart") != ["book"]:
        raise NotYet(f"the new session's cart is {data.get('cart')!r}; the visitor had ['book'] before logging "
                     "in: carry the old session's data over.")
    if pttl < 0:
        raise NotYet("the new session has no TTL, so it would never expire: look at what your SET says about "
                     "expiry.")
    if new_id not in {m.decode() if isinstance(m, bytes) else m for m in listed}:  # and naming ada (above): hers
        raise NotYet(f"the new session is not listed in ada's set {store.index_key('ada')[len(store.keyspace.prefix):]!r}"
                     ", so logout_everywhere('ada') would not end it (a stolen laptop would stay logged in): "
                     "look at how store.create lists a new session (§3).")
    store.logout_everywhere("ada")
    if store.get(new_id) is not None:
        raise NotYet("the new session is listed for ada, but logout_everywhere('ada') left it alive: its data "
                     "must name ada under 'user_id'.")
    return ("the planted id is dead; the new id carries ada and her cart, expires, and is listed for ada: "
            "logout_everywhere('ada') ended it.")
