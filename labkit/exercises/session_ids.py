"""Check of notebook 02's exercise 02.1: session ids of hexadecimal digits, judged by sampling.

The check samples the learner's ids (alphabet, length, collisions, an estimate of their random bits)
while counting the bytes each id draws from the operating system's CSPRNG, and calls it again with
that source frozen. Keys the answer creates anywhere on the server (under a key of its own naming,
say) are removed when the check ends; keys that existed before are left alone.
"""

from __future__ import annotations

import json
import math
import os
import random
import string
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import fakeredis

from labkit.backend.connection import is_fake
from labkit.backend.keyspace import Keyspace
from labkit.config import FAKE_SERVER_VERSION
from labkit.exercises.checking import NotYet, exercise
from labkit.exercises.learner_requests import CreatedKeys, created_keys_removed
from labkit.sessions.redis_store import LESSON_TTL

__all__ = ["ID_SAMPLES", "MIN_BITS", "check_create_session", "estimate_bits"]

ID_SAMPLES = 20  # ids drawn from the learner's function in 02.1
MIN_BITS = 128

@contextmanager
def _scratch(space: Keyspace, name: str) -> Iterator[Keyspace]:
    """A child keyspace for one check, cleared when it ends (open_lab clears the whole lab's keys at the start)."""
    scratch = space.child(f"check-{name}")
    try:
        yield scratch
    finally:
        scratch.clear()



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
    """The learner's code kept drawing random bytes: a BaseException, so `except Exception` cannot swallow it."""


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
    """`create_session(space, user_id)` stores the lesson's JSON for 8 h under a hex id with >= 128 random bits.

    Every key the answer creates on the server during the check is deleted when it ends, under the
    learner's prefix or not (a `session:<id>` written without it); keys that existed before are kept.
    """
    with _scratch(space, "02.1") as scratch, created_keys_removed(space.client, scratch.prefix) as created:
        sampling = _in_process(scratch)  # made before the CSPRNG is wrapped: only the learner's draws are counted
        with _OsRandom().installed() as source:
            return _judge_ids(create_session, scratch, sampling, source, created)


def _judge_ids(create_session: Callable[[Keyspace, str], str], scratch: Keyspace, sampling: Keyspace,
               source: _OsRandom, created: CreatedKeys) -> str:
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
        outside = [key.decode(errors="replace") for key in created.created]
        where = (f"the keys your call made under space were {found[:3]} (shown without the prefix)" if found else
                 f"your call created {outside[0]!r} instead, a key not under space.key(...) (the check deleted it)"
                 if outside else "whatever your call wrote is not under space.key(...)")
        raise NotYet(f"nothing is stored under space.key('session', session_id); {where}.")
    try:
        data = json.loads(raw)
    except ValueError:
        raise NotYet(f"the session key holds {raw[:30]!r}, which is not JSON; the lesson stores the session "
                     "data as a JSON string.") from None
    if data != {"user_id": "ada", "logged_in": True}:
        raise NotYet(f"the session holds {data}; the lesson stores {{'user_id': user_id, 'logged_in': True}}.")
    if ttl < 0:
        raise NotYet("the session key has no TTL, so it would never expire: look at what your SET says about "
                     "expiry.")
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
                     "the ids come from the random module, whose outputs can be predicted from earlier ones; "
                     "§1 names the module that reads the operating system's CSPRNG.")
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
                     + f". An id needs at least {MIN_BITS // 8} bytes from the CSPRNG, and nothing that changes in "
                     "a way one can predict.")
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
