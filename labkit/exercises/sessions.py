"""Checks for notebook 02's exercises: hex session ids, a cart with a limit under concurrency, login with a new id.

Each check judges what the answer does, never how it is written: 02.1 samples the learner's ids
(alphabet, length, collisions, an estimate of their random bits) while counting the bytes each id
draws from the operating system's CSPRNG, and calls it again with that source frozen; 02.2 runs the learner's code while
another app server writes the same session at every point between the learner's commands, whatever
client or API the code uses; 02.3 looks at the sessions left behind after the login.
"""

from __future__ import annotations

import json
import math
import os
import random
import string
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import fakeredis

from labkit.backend.connection import is_fake
from labkit.backend.keyspace import Keyspace
from labkit.config import FAKE_SERVER_VERSION
from labkit.errors import NoSuchSession
from labkit.exercises.checking import NotYet, exercise
from labkit.sessions.payload import decode, encode
from labkit.sessions.races import requests_hooked
from labkit.sessions.redis_store import LESSON_TTL, RedisSessionStore
from labkit.sessions.store import new_session_id

__all__ = ["CART_LIMIT", "ID_SAMPLES", "check_add_to_cart", "check_create_session", "check_login", "estimate_bits"]

ID_SAMPLES = 20  # ids drawn from the learner's function in 02.1
MIN_BITS = 128
CART_LIMIT = 3  # 02.2: a cart holds at most this many items
MAX_SENDS = 200  # 02.2: more commands than this for one call means a retry loop that never ends


@contextmanager
def _scratch(space: Keyspace, name: str) -> Iterator[Keyspace]:
    """A child keyspace for one check, cleared when it ends (open_lab clears the whole lab's keys at the start)."""
    scratch = space.child(f"check-{name}")
    try:
        yield scratch
    finally:
        scratch.clear()


def _yours(exc: BaseException) -> str:
    """Where in the learner's code `exc` was raised: ' (your line N)', or '' if not found."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "labkit" not in f.filename
              and "/redis/" not in f.filename and "fakeredis" not in f.filename]
    return f" (line {frames[-1].lineno} of your cell)" if frames else ""


# --- 02.1: session ids judged by sampling ------------------------------------------------------------

# Standard alphabets, smallest first: the characters seen at the varying positions of the ids are
# snapped to the first that holds them all, so a character that happened not to turn up in the
# sample does not lower the estimate.
_ALPHABETS = (string.digits, "0123456789abcdef", "0123456789ABCDEF", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
              string.digits + string.ascii_lowercase, string.digits + string.ascii_letters,
              string.digits + string.ascii_letters + "-_", string.digits + string.ascii_letters + "+/=")
_PAD = "\0"  # stands for the leading characters a shorter id leaves out
_FEW = 4  # a position taking at most this many values over ID_SAMPLES ids is not drawn from the full alphabet


def estimate_bits(ids: list[str]) -> float:
    """Random bits per id, estimated from a sample: each varying position counts log2 of the alphabet it draws on.

    Positions that never change (a uuid's dashes and version digit) count 0; a position that takes
    only a few values (a uuid's variant digit) counts log2 of how many it took.
    """
    if len(ids) < 2:
        return 0.0
    width = max(map(len, ids))
    aligned = [i.rjust(width, _PAD) for i in ids]  # a number written without its leading zeros is shorter
    columns = [{i[p] for i in aligned} for p in range(width)]
    varying = [c for c in columns if len(c) > 1]
    seen = set().union(*varying) - {_PAD} if varying else set()
    size = next((len(a) for a in _ALPHABETS if seen <= set(a)), len(seen))
    return sum(math.log2(len(c)) if len(c) <= _FEW else math.log2(size) for c in varying)


def _same_id_after_reseeding(create: Callable[[], str]) -> bool:
    """True when the ids follow Python's `random` module: reseeded alike, it gives the same id twice."""
    state = random.getstate()
    try:
        random.seed(20260402)
        first = create()
        random.seed(20260402)
        return create() == first
    finally:
        random.setstate(state)


class _Runaway(BaseException):
    """The learner's code kept going (requests or random bytes): a BaseException, so `except Exception` cannot swallow it."""


MAX_DRAWN = 1 << 16  # 02.1: more random bytes than this for one id, with the source frozen, means a loop that never ends


class _OsRandom:
    """Wraps the operating system's CSPRNG as Python reads it (`os.urandom`, and `random`'s own reference to it,
    which `secrets`, `random.SystemRandom` and `uuid.uuid4` draw from) to count the bytes each call draws, or to
    hand out fixed bytes. Only the checking thread is affected; other threads get the real bytes. The patch is
    undone however the learner's code ends."""

    _lock = threading.Lock()

    def __init__(self) -> None:
        self.drawn = 0
        self.frozen = False
        self._thread = threading.get_ident()
        self._real = os.urandom

    def _urandom(self, size: int) -> bytes:
        if threading.get_ident() != self._thread:
            return self._real(size)
        self.drawn += size
        if not self.frozen:
            return self._real(size)
        if self.drawn > MAX_DRAWN:
            raise _Runaway
        return bytes(size)

    @contextmanager
    def installed(self) -> Iterator[_OsRandom]:
        with self._lock:
            real_random = random._urandom  # type: ignore[attr-defined]
            os.urandom, random._urandom = self._urandom, self._urandom  # type: ignore[attr-defined]
            try:
                yield self
            finally:
                os.urandom, random._urandom = self._real, real_random  # type: ignore[attr-defined]

    def draw(self, create: Callable[[], str], *, frozen: bool) -> tuple[str, int]:
        """One id from `create`, and how many bytes it drew from the CSPRNG (fixed bytes if `frozen`)."""
        self.drawn, self.frozen = 0, frozen
        try:
            return create(), self.drawn
        finally:
            self.frozen = False


@contextmanager
def _clock_frozen() -> Iterator[None]:
    """time.time() and time.time_ns() return one fixed instant (for the checking thread only)."""
    real, real_ns, thread = time.time, time.time_ns, threading.get_ident()
    now_ns = real_ns()
    time.time = lambda: now_ns / 1e9 if threading.get_ident() == thread else real()
    time.time_ns = lambda: now_ns if threading.get_ident() == thread else real_ns()
    try:
        yield
    finally:
        time.time, time.time_ns = real, real_ns


def _other_source(create: Callable[[], str], source: _OsRandom, scratch: Keyspace) -> str | None:
    """What besides the CSPRNG makes the ids differ, or None: two calls with the CSPRNG frozen to fixed bytes."""
    left: list[str] = []  # the session key the last frozen call stored

    def frozen_id() -> str:
        if left:  # an answer that retries while its id exists would otherwise loop on the same id
            scratch.client.delete(left.pop())
        made = source.draw(create, frozen=True)[0]
        if isinstance(made, str):
            left.append(scratch.key("session", made))
        return made

    if frozen_id() == frozen_id():
        return None
    with _clock_frozen():
        if frozen_id() == frozen_id():
            return "the clock (time.time, time.time_ns)"
    if _same_id_after_reseeding(frozen_id):
        return "the random module"
    return "each call on their own: a counter, or a clock such as the one inside uuid1"


def _in_process(scratch: Keyspace) -> Keyspace:
    """The same keys on an embedded fakeredis of the check's own, for the ids sampled after the first call.

    Those calls are judged by their ids only, so their writes need not cross the network: on a server
    20 ms away they would add 20 round trips. The first call's write is judged on the real server.
    """
    if is_fake(scratch.client):
        return scratch
    return Keyspace(fakeredis.FakeRedis(server=fakeredis.FakeServer(version=FAKE_SERVER_VERSION),
                                        decode_responses=True), scratch.prefix)


@exercise("02.1", "create_session with hexadecimal ids of 128 random bits")
def check_create_session(create_session: Callable[[Keyspace, str], str], space: Keyspace) -> str:
    """`create_session(space, user_id)` stores the lesson's JSON for 8 h under a hex id with >= 128 random bits."""
    with _scratch(space, "02.1") as scratch:
        sampling = _in_process(scratch)  # made before the CSPRNG is wrapped: only the learner's draws are counted
        with _OsRandom().installed() as source:
            return _judge_ids(create_session, scratch, sampling, source)


def _judge_ids(create_session: Callable[[Keyspace, str], str], scratch: Keyspace, sampling: Keyspace,
               source: _OsRandom) -> str:
    """Judge the ids: the first call stores on the real server, the others only on `sampling`."""
    def create() -> str:
        return create_session(sampling, "ada")

    first, drawn = source.draw(lambda: create_session(scratch, "ada"), frozen=False)
    if not isinstance(first, str):
        raise NotYet(f"create_session returned {type(first).__name__} {first!r}; return the session id, a str.")
    key = scratch.key("session", first)
    pipe = scratch.client.pipeline(transaction=False)
    pipe.get(key)
    pipe.ttl(key)
    raw, ttl = pipe.execute()  # one round trip
    if raw is None:
        found = sorted(k[len(scratch.prefix):] for k in scratch.keys())
        where = (f"the keys your call made under space were {found[:3]} (shown without the prefix)" if found else
                 "whatever your call wrote is not under space.key(...): write through space.client, to "
                 "space.key('session', session_id)")
        raise NotYet(f"nothing is stored under space.key('session', session_id); {where}.")
    try:
        data = json.loads(raw)
    except ValueError:
        raise NotYet(f"the session key holds {raw[:30]!r}, not JSON: store json.dumps(session_data).") from None
    if data != {"user_id": "ada", "logged_in": True}:
        raise NotYet(f"the session holds {data}; the lesson stores {{'user_id': user_id, 'logged_in': True}}.")
    if ttl < 0:
        raise NotYet("the session key has no TTL, so it would never expire: give SET an expiry (ex=SESSION_TTL).")
    if not LESSON_TTL - 5 <= ttl <= LESSON_TTL:
        raise NotYet(f"the session expires in {ttl:,} s; SESSION_TTL is {LESSON_TTL:,} s (8 hours).")
    draws = [source.draw(create, frozen=False) for _ in range(ID_SAMPLES - 1)]
    ids = [first] + [i for i, _ in draws]
    fewest = min([drawn] + [n for _, n in draws])
    if len(set(ids)) < len(ids):
        raise NotYet(f"{len(ids) - len(set(ids))} of {len(ids)} ids repeated an earlier one: each session "
                     "needs a fresh random id.")
    not_hex = sorted(set("".join(ids)) - set("0123456789abcdef"))
    if not_hex:
        raise NotYet(f"your ids contain {', '.join(map(repr, not_hex[:4]))}: the exercise asks for lowercase "
                     "hexadecimal digits only (0-9, a-f).")
    if _same_id_after_reseeding(create):
        raise NotYet("after random.seed(...) with the same seed your function returned the same id twice: "
                     "the ids come from the random module, whose outputs can be predicted. Use secrets.")
    try:
        other = _other_source(create, source, sampling)
    except _Runaway:
        raise NotYet(f"with the operating system's random source handing out fixed bytes, your function drew "
                     f"more than {MAX_DRAWN:,} bytes for one id: does it loop until an id looks random "
                     "enough?") from None
    if other and fewest < MIN_BITS // 8:
        raise NotYet(f"with the operating system's random source (os.urandom, which secrets reads) frozen, "
                     f"your ids still differed: they change with {other}, which an attacker can predict"
                     + (f", and each drew only {fewest} random bytes" if fewest else "")
                     + f". Draw at least {MIN_BITS // 8} bytes from secrets (secrets.token_hex(16)).")
    if fewest < MIN_BITS // 8:
        raise NotYet(f"each id drew only {fewest} bytes from the operating system's random source, so it "
                     f"carries {fewest * 8} random bits whatever its length (hashing does not add any): "
                     f"{MIN_BITS} need {MIN_BITS // 8} bytes.")
    bits = estimate_bits(ids)
    lengths = sorted({len(i) for i in ids})
    shown = f"{lengths[0]}" if len(lengths) == 1 else f"{lengths[0]} to {lengths[-1]}"
    if bits < MIN_BITS - 0.5:
        raise NotYet(f"over {len(ids)} ids of {shown} hex digits, about {bits:.0f} random bits each: "
                     f"{MIN_BITS} are needed, at 4 bits per random hex digit.")
    return (f"{len(ids)} ids sampled: {shown} hex digits, none repeated, about {bits:.0f} random bits each, "
            f"from at least {fewest} bytes of the CSPRNG; each stored as the lesson's JSON for 8 hours.")


# --- 02.2: an atomic conditional update, under interference at every point --------------------------

_NEIGHBOUR_ITEM = "umbrella"
_OWN_ITEM = "pen"
_URL_SAFE = set(string.ascii_letters + string.digits + "-_")


def _names(packed: Any) -> list[str]:
    """The command names in a packed RESP request (one command, or a pipeline's batch)."""
    if isinstance(packed, (bytes, bytearray, memoryview, str)):
        packed = [packed]
    data = b"".join(p.encode() if isinstance(p, str) else bytes(p) for p in packed)
    names, at = [], 0
    try:
        while at < len(data) and data[at:at + 1] == b"*":
            end = data.index(b"\r\n", at)
            count, at = int(data[at + 1:end]), end + 2
            for n in range(count):
                end = data.index(b"\r\n", at)
                size = int(data[at + 1:end])
                if n == 0:
                    names.append(data[end + 2:end + 2 + size].decode(errors="replace").upper())
                at = end + 2 + size + 2
    except ValueError:
        pass
    return names


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
        label = "+".join(_names(command)) or "?"
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
        pipe = space.client.pipeline(transaction=False)
        pipe.get(key)
        pipe.ttl(key)
        pipe.delete(key)
        raw, ttl, _ = pipe.execute()  # read and clean up in one round trip
    except BaseException:
        space.client.delete(key)
        raise
    if raw is None:
        raise NotYet("after add_to_cart the session was gone: write it back with SET ... XX KEEPTTL "
                     "(or store.update), never delete it.")
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
        return ("Your code read the session before it WATCHed it, so a write in that gap goes unseen: WATCH first, "
                "then GET.")
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
    retried = sum("WATCH" in label.split("+") for label in run.sent) > 1
    if bool(run.returned) != (_OWN_ITEM in cart) and retried:
        raise NotYet(f"add_to_cart returned {run.returned!r}, but the cart is {cart}: another server wrote {where}, "
                     "so the first EXEC was refused and your change function ran again on the fresh data, and the "
                     "result your code returned was still the one from an earlier run. The change function runs "
                     "again on every retry: compute the result from the data it is given each time (reset any flag "
                     "inside it).")
    if bool(run.returned) != (_OWN_ITEM in cart):
        said = "added" if run.returned else "did not add"
        raise NotYet(f"add_to_cart returned {run.returned!r} (it {said} the item), but the cart is {cart}"
                     + (f" (another server wrote {where})" if run.struck_before else "") + ".")
    if run.ttl < 0:
        raise NotYet("after your write the session had no TTL left, so it would never expire: keep the expiry "
                     "(SET ... KEEPTTL; store.update does).")


@exercise("02.2", "add to a cart of at most 3 items without losing a concurrent update")
def check_add_to_cart(add_to_cart: Callable[[RedisSessionStore, str, str], Any], space: Keyspace) -> str:
    """`add_to_cart(store, session_id, item)` adds `item` if the cart has room, atomically; True if it did.

    First a call on a full cart, and one on its own; then, for every gap between two requests the
    lone call sent, a call during which another server adds an item in that gap.
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
    for strike_at in range(2, points + 1):  # before the first request it is just a fuller cart: the full-cart run
        _judge_cart(_run_cart(add_to_cart, space, before, strike_at), before)
    if points == 1:
        return (f"your one request ({alone.sent[0]}) leaves no gap for another server to write in: the limit held "
                "and nothing was lost.")
    return (f"another server added an item in each gap between your {points} requests in turn "
            f"({' | '.join(alone.sent)}): the limit held and nothing was lost.")


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
            returned.append(login(store, planted, "ada"))
        except NoSuchSession as exc:
            raise NotYet(f"your code raised NoSuchSession{_yours(exc)}: store.save only replaces a session that "
                         "exists (SET ... XX). A brand-new id needs its own SET ... EX (store.create, or "
                         "client.set(store.key(new_id), json.dumps(data), ex=SESSION_TTL)).") from None
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
        raise NotYet(f"the planted id still opens a session after login ({alive}): end it (DEL or GETDEL) so "
                     "a copy of it is worthless.")
    if data.get("user_id") != "ada":
        raise NotYet(f"the new session holds {data}: it should name who logged in, under 'user_id'.")
    if data.get("cart") != ["book"]:
        raise NotYet(f"the new session's cart is {data.get('cart')!r}; the visitor had ['book'] before logging "
                     "in: carry the old session's data over.")
    if pttl < 0:
        raise NotYet("the new session has no TTL, so it would never expire: store it with SET ... EX.")
    if new_id not in {m.decode() if isinstance(m, bytes) else m for m in listed}:  # and naming ada (above): hers
        raise NotYet(f"the new session is not listed in ada's set {store.index_key('ada')[len(store.keyspace.prefix):]!r}"
                     ", so logout_everywhere('ada') would not end it (a stolen laptop would stay logged in): "
                     "SADD the new id to store.index_key(user_id), as store.create does.")
    store.logout_everywhere("ada")
    if store.get(new_id) is not None:
        raise NotYet("the new session is listed for ada, but logout_everywhere('ada') left it alive: its data "
                     "must name ada under 'user_id'.")
    return ("the planted id is dead; the new id carries ada and her cart, expires, and is listed for ada: "
            "logout_everywhere('ada') ended it.")
