"""Notebook 02's checks judge what an answer does: a corpus of right and wrong answers, on every backend.

Each row: an answer a learner could write, the verdict the check must give, and words its line must
contain (for a wrong answer, words naming what this answer did wrong). At the end, notebook 02's
timed demo run as a learner runs it (cell by cell, with pauses), and its prose against its figures.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import secrets
import string
import time
import uuid
from collections.abc import Callable

import pytest
import redis

import labkit
from labkit.exercises.session_ids import check_create_session, estimate_bits
from labkit.exercises.sessions import CART_LIMIT, check_add_to_cart, check_login
from labkit.sessions.redis_store import LESSON_TTL

SESSION = {"user_id": "ada", "logged_in": True}


def stub(*args):
    raise NotImplementedError  # your code here


# --- 02.1: hexadecimal ids with >= 128 random bits ------------------------------------------------------

def storing(make_id: Callable[[], str], ttl: int | None = LESSON_TTL, data: dict | None = None):
    """create_session(space, user_id) that stores the lesson's JSON under an id from `make_id`."""
    def create_session(space, user_id):
        session_id = make_id()
        value = json.dumps(data if data is not None else {"user_id": user_id, "logged_in": True})
        space.client.set(space.key("session", session_id), value, ex=ttl)
        return session_id
    return create_session


def choice_hex(space, user_id):
    """Another style: 32 hex digits picked one by one with secrets.choice, via the lesson's setex."""
    session_id = "".join(secrets.choice("0123456789abcdef") for _ in range(32))
    space.client.setex(space.key("session", session_id), LESSON_TTL, json.dumps({"user_id": user_id, "logged_in": True}))
    return session_id


def store_create(space, user_id):
    """Another style: labkit's store makes the key and the TTL; the id is converted to hex."""
    session_id = secrets.token_bytes(24).hex()
    labkit.RedisSessionStore(space).client.set(space.key("session", session_id), json.dumps(
        {"user_id": user_id, "logged_in": True}), ex=LESSON_TTL)
    return session_id


_counter = iter(range(10**9))
_hashed_counter = itertools.count()


def urandom_hex(space, user_id):
    """Another style: os.urandom itself, 16 bytes written as hex."""
    session_id = os.urandom(16).hex()
    space.client.set(space.key("session", session_id), json.dumps({"user_id": user_id, "logged_in": True}),
                     ex=LESSON_TTL)
    return session_id


def system_random_hex(space, user_id):
    """Another style: random.SystemRandom (the CSPRNG behind secrets), 128 bits formatted as 32 hex digits."""
    session_id = f"{random.SystemRandom().getrandbits(128):032x}"
    space.client.set(space.key("session", session_id), json.dumps({"user_id": user_id, "logged_in": True}),
                     ex=LESSON_TTL)
    return session_id


def unique_or_retry(space, user_id):
    """Another style: draws again while the id is taken (SET NX), so a frozen source must not make it loop."""
    while True:
        session_id = secrets.token_hex(16)
        if space.client.set(space.key("session", session_id), json.dumps({"user_id": user_id, "logged_in": True}),
                            ex=LESSON_TTL, nx=True):
            return session_id


def outside_space(space, user_id):
    """Writes under a key of its own, not space.key(...)."""
    session_id = secrets.token_hex(16)
    space.client.set(f"elsewhere:session:{session_id}", json.dumps({"user_id": user_id}), ex=5)
    return session_id


CREATE_CASES = [
    (urandom_hex, True, "from at least 16 bytes of the CSPRNG"),
    (system_random_hex, True, "about 128 random bits"),
    (unique_or_retry, True, "none repeated"),
    (storing(lambda: hashlib.sha256(secrets.token_bytes(16)).hexdigest()), True, "64 hex digits"),
    # right answers, in different styles
    (storing(lambda: secrets.token_hex(16)), True, "32 hex digits"),
    (storing(lambda: secrets.token_hex(32)), True, "64 hex digits"),
    (storing(lambda: uuid.UUID(bytes=secrets.token_bytes(16)).hex), True, "128 random bits"),
    (choice_hex, True, "none repeated"),
    (store_create, True, "48 hex digits"),
    (storing(lambda: format(secrets.randbits(128), "x")), True, "about 128 random bits"),  # leading zeros dropped
    # wrong answers learners write
    (storing(lambda: uuid.uuid4().hex), False, "about 122 random bits"),
    (storing(lambda: secrets.token_hex(12)), False, "only 12 bytes"),
    (storing(lambda: secrets.token_hex(16).upper()), False, "lowercase hexadecimal"),
    (storing(lambda: hashlib.sha256(str(next(_hashed_counter)).encode()).hexdigest()[:32]), False, "a counter"),
    (storing(lambda: hashlib.sha256(f"ada{time.time_ns()}".encode()).hexdigest()), False, "the clock"),
    (storing(lambda: hashlib.md5(uuid.uuid1().bytes).hexdigest()), False, "uuid1"),  # noqa: S324
    (storing(lambda: hashlib.sha256(secrets.token_bytes(8)).hexdigest()), False, "64 random bits"),
    (storing(lambda: hashlib.sha256(f"{random.random()}".encode()).hexdigest()), False, "random module"),
    (storing(lambda: secrets.token_urlsafe(32)), False, "hexadecimal digits only"),
    (storing(lambda: hex(secrets.randbits(128))), False, "'x'"),
    (storing(lambda: str(uuid.uuid4())), False, "'-'"),
    (storing(lambda: f"{random.getrandbits(128):032x}"), False, "random module"),
    (storing(lambda: f"{next(_counter):032x}"), False, "predict"),
    (storing(lambda: f"{int(time.time()):032x}"), False, "repeated"),
    (storing(lambda: uuid.uuid1().hex), False, "predict"),
    (storing(lambda: secrets.token_hex(16), ttl=None), False, "no TTL"),
    (storing(lambda: secrets.token_hex(16), ttl=8), False, "expires in 8 s"),
    (storing(lambda: secrets.token_hex(16), data={"user_id": "ada"}), False, "'logged_in': True"),
    (lambda space, user_id: secrets.token_hex(16), False, "nothing is stored"),
    (outside_space, False, "not under space.key"),
    (lambda space, user_id: uuid.UUID(storing(lambda: secrets.token_hex(16))(space, user_id)), False, "UUID"),
    (stub, False, "stub"),
]


@pytest.mark.parametrize("answer, passed, words", CREATE_CASES)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_create_session_check(space: labkit.Keyspace, answer, passed: bool, words: str) -> None:
    result = check_create_session(answer, space)
    assert result.passed is passed and words in result.message, result.message
    assert list(space.keys()) == []


@pytest.mark.parametrize("make_id, passed", [
    (lambda: secrets.token_hex(16), True),    # exactly 128 bits: the edge a right answer sits on
    (lambda: uuid.uuid4().hex, False),        # 32 hex digits, but 122 random bits
    (lambda: secrets.token_hex(15), False),   # 120 bits
])
def test_randomised_verdicts_never_flip_in_1000_runs(make_id, passed: bool) -> None:
    import fakeredis

    space = labkit.Keyspace(fakeredis.FakeRedis(decode_responses=True), "lab:flaky:")
    verdicts = [check_create_session(storing(make_id), space).passed for _ in range(1000)]
    assert verdicts.count(passed) == 1000


@pytest.mark.parametrize("ids, bits", [
    ([secrets.token_hex(16) for _ in range(64)], 128),
    ([uuid.uuid4().hex for _ in range(64)], 122),
    ([str(uuid.uuid4()) for _ in range(64)], 122),
    ([secrets.token_urlsafe(16) for _ in range(64)], 128),
    (["".join(secrets.choice(string.digits) for _ in range(40)) for _ in range(64)], 132.9),
    (["same"] * 64, 0),
])
def test_estimate_bits(ids: list[str], bits: float) -> None:
    assert estimate_bits(ids) == pytest.approx(bits, abs=0.1)


# --- 02.2: a cart of at most CART_LIMIT items, under interference ------------------------------------

def _room(data: dict) -> bool:
    return len(data["cart"]) < CART_LIMIT


def update_add(store, session_id, item):
    """store.update with the condition inside the change."""
    added = []

    def change(data):
        added.clear()
        if _room(data):
            data["cart"].append(item)
            added.append(True)
    store.update(session_id, change)
    return bool(added)


def update_result_add(store, session_id, item):
    """store.update, then decide from the data it returns."""
    def change(data):
        if _room(data):
            data["cart"].append(item)
    return item in store.update(session_id, change)["cart"]


def watch_multi_add(store, session_id, item):
    """The WATCH/MULTI loop on store.client."""
    key = store.key(session_id)
    with store.client.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(key)
                data = json.loads(pipe.get(key))
                if not _room(data):
                    pipe.unwatch()
                    return False
                data["cart"].append(item)
                pipe.multi()
                pipe.set(key, json.dumps(data), xx=True, keepttl=True)
                pipe.execute()
                return True
            except redis.WatchError:
                continue


def lesson_client_transaction(redis_client):
    """redis-py's own transaction() helper on another client object (the lesson's `redis_client`)."""
    def add_to_cart(store, session_id, item):
        key = store.key(session_id)
        outcome = {}

        def attempt(pipe):
            data = json.loads(pipe.get(key))
            outcome["added"] = _room(data)
            if outcome["added"]:
                data["cart"].append(item)
                pipe.multi()
                pipe.set(key, json.dumps(data), xx=True, keepttl=True)
        redis_client.transaction(attempt, key)
        return outcome["added"]
    return add_to_cart


LUA_ADD = """
local data = cjson.decode(redis.call('GET', KEYS[1]))
if #data['cart'] >= tonumber(ARGV[2]) then return 0 end
table.insert(data['cart'], ARGV[1])
redis.call('SET', KEYS[1], cjson.encode(data), 'XX', 'KEEPTTL')
return 1
"""


def lua_add(store, session_id, item):
    """A Lua script: read, check and write in one command."""
    return store.client.eval(LUA_ADD, 1, store.key(session_id), item, CART_LIMIT) == 1


def naive_add(store, session_id, item):
    data = store.get(session_id)
    if not _room(data):
        return False
    data["cart"].append(item)
    store.save(session_id, data)
    return True


def check_then_update(store, session_id, item):
    """Checks the size with a plain read, then appends atomically: check-then-act."""
    if not _room(store.get(session_id)):
        return False
    store.update(session_id, lambda data: data["cart"].append(item))
    return True


def lesson_get_setex(store, session_id, item):
    """The lesson's own commands: GET, change, SETEX."""
    key = store.key(session_id)
    data = json.loads(store.client.get(key))
    if not _room(data):
        return False
    data["cart"].append(item)
    store.client.set(key, json.dumps(data), ex=LESSON_TTL)
    return True


def watch_too_late(store, session_id, item):
    """Reads first, WATCHes after: the gap between GET and WATCH is unguarded."""
    key = store.key(session_id)
    data = json.loads(store.client.get(key))
    with store.client.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(key)
                if not _room(data):
                    return False
                data["cart"].append(item)
                pipe.multi()
                pipe.set(key, json.dumps(data), keepttl=True)
                pipe.execute()
                return True
            except redis.WatchError:
                continue


def stale_retry(store, session_id, item):
    """WATCH and GET once, outside the retry loop: a retry writes the stale copy."""
    key = store.key(session_id)
    with store.client.pipeline(transaction=True) as pipe:
        pipe.watch(key)
        data = json.loads(pipe.get(key))
        if not _room(data):
            return False
        data["cart"].append(item)
        while True:
            try:
                pipe.watch(key)
                pipe.multi()
                pipe.set(key, json.dumps(data), xx=True, keepttl=True)
                pipe.execute()
                return True
            except redis.WatchError:
                continue


def read_twice(store, session_id, item):
    """Reads once to check, once more to change."""
    if not _room(store.get(session_id)):
        return False
    data = store.get(session_id)
    data["cart"].append(item)
    store.save(session_id, data)
    return True


def no_limit(store, session_id, item):
    store.update(session_id, lambda data: data["cart"].append(item))
    return True


def ttl_dropped(store, session_id, item):
    key = store.key(session_id)
    added = update_add(store, session_id, item)
    store.client.persist(key)
    return added


def returns_nothing(store, session_id, item):
    update_add(store, session_id, item)


def endless_retry(store, session_id, item):
    """Retries on any error, and the error is its own: it never stops."""
    while True:
        try:
            store.client.get(store.key(session_id))
            raise redis.WatchError("pretend")
        except Exception:  # noqa: BLE001
            continue


def sticky_flag(store, session_id, item):
    """store.update, but the flag set by the first run survives the retry on fresh data."""
    ok = False

    def change(data):
        nonlocal ok
        if _room(data):
            data["cart"].append(item)
            ok = True
    store.update(session_id, change)
    return ok


def watch_for_attempts(store, session_id, item):
    """The WATCH/MULTI loop as `for attempt in range(...)`, a pipeline per attempt."""
    key = store.key(session_id)
    for _attempt in range(10):
        with store.client.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(key)
                cart = json.loads(pipe.get(key))["cart"]
                if len(cart) >= CART_LIMIT:
                    return False
                pipe.multi()
                pipe.set(key, json.dumps({"cart": [*cart, item]}), xx=True, keepttl=True)
                pipe.execute()
                return True
            except redis.WatchError:
                pass
    return False


def watch_recursive(store, session_id, item):
    """The WATCH/MULTI attempt, calling itself again when EXEC is refused."""
    key = store.key(session_id)
    with store.client.pipeline(transaction=True) as pipe:
        pipe.watch(key)
        data = json.loads(pipe.get(key))
        if not _room(data):
            return False
        data["cart"].append(item)
        pipe.multi()
        pipe.set(key, json.dumps(data), xx=True, keepttl=True)
        try:
            pipe.execute()
        except redis.WatchError:
            return watch_recursive(store, session_id, item)
    return True


def watch_gives_up(store, session_id, item):
    """WATCH/MULTI without a retry: the first refused EXEC is taken for a full cart."""
    key = store.key(session_id)
    with store.client.pipeline(transaction=True) as pipe:
        try:
            pipe.watch(key)
            data = json.loads(pipe.get(key))
            if not _room(data):
                return False
            data["cart"].append(item)
            pipe.multi()
            pipe.set(key, json.dumps(data), xx=True, keepttl=True)
            pipe.execute()
            return True
        except redis.WatchError:
            return False


def watch_uncaught(store, session_id, item):
    """WATCH/MULTI with no except at all: the WatchError of a refused EXEC escapes."""
    key = store.key(session_id)
    with store.client.pipeline(transaction=True) as pipe:
        pipe.watch(key)
        data = json.loads(pipe.get(key))
        if not _room(data):
            return False
        data["cart"].append(item)
        pipe.multi()
        pipe.set(key, json.dumps(data), xx=True, keepttl=True)
        pipe.execute()
    return True


def blind_write(store, session_id, item):
    store.save(session_id, {"cart": ["book", "lamp", item]})
    return True


CART_CASES = [
    (update_add, True, "nothing was lost"),
    (update_result_add, True, "the limit held"),
    (watch_multi_add, True, "WATCH"),
    ("lesson_client_transaction", True, "MULTI"),
    (lua_add, True, "EVAL"),
    (watch_for_attempts, True, "your item went in whenever there was room"),
    (watch_recursive, True, "leaving room"),
    (naive_add, False, "lost update"),
    (check_then_update, False, "The size check belongs inside the atomic step"),
    (lesson_get_setex, False, "right before your SET"),
    (watch_too_late, False, "read the session before it WATCHed it"),
    (stale_retry, False, "read it afresh on every attempt"),
    (read_twice, False, "right before your GET"),
    (no_limit, False, "it ended with 4 items"),
    (ttl_dropped, False, "no TTL"),
    (returns_nothing, False, "returned None"),
    (endless_retry, False, "never end"),
    (blind_write, False, "items already in it were lost"),
    (sticky_flag, False, "still described an earlier run"),
    (watch_gives_up, False, "gave up after one conflict: when EXEC answers None"),
    (watch_uncaught, False, "WatchError escape"),
    (stub, False, "stub"),
]


@pytest.mark.parametrize("answer, passed, words", CART_CASES,
                         ids=lambda v: getattr(v, "__name__", v) if callable(v) or isinstance(v, str) else None)
def test_add_to_cart_check(space: labkit.Keyspace, answer, passed: bool, words: str) -> None:
    if answer == "lesson_client_transaction":
        answer = lesson_client_transaction(labkit.connect())  # a client the check never sees
    result = check_add_to_cart(answer, space)
    assert result.passed is passed and words in result.message, result.message
    assert list(space.keys()) == []


# --- 02.3: login with a new id ------------------------------------------------------------------------

def rotating_login(store, session_id, user_id):
    return store.rotate(session_id, user_id=user_id)


def create_then_delete(store, session_id, user_id):
    new_id = store.create({**store.get(session_id), "user_id": user_id})
    store.delete(session_id)
    return new_id


def raw_getdel_set(store, session_id, user_id):
    """Raw commands: GETDEL the old key, SET the new one with EX, SADD it to the user's set."""
    data = json.loads(store.client.getdel(store.key(session_id)))
    new_id = labkit.new_session_id()
    store.client.set(store.key(new_id), json.dumps({**data, "user_id": user_id}), ex=LESSON_TTL)
    store.client.sadd(store.index_key(user_id), new_id)
    return new_id


def hex_id_login(store, session_id, user_id):
    """A hex id from secrets, stored with a pipeline (SET EX, SADD + EXPIRE of the index, DEL)."""
    data = store.get(session_id)
    new_id = secrets.token_hex(16)
    pipe = store.client.pipeline(transaction=False)
    pipe.set(store.key(new_id), json.dumps({**data, "user_id": user_id}), ex=3600)
    pipe.sadd(store.index_key(user_id), new_id)
    pipe.expire(store.index_key(user_id), 3600)
    pipe.delete(store.key(session_id))
    pipe.execute()
    return new_id


def unlisted_login(store, session_id, user_id):
    """GETDEL + SET EX, but the new id never goes into the user's set."""
    data = json.loads(store.client.getdel(store.key(session_id)))
    new_id = labkit.new_session_id()
    store.client.set(store.key(new_id), json.dumps({**data, "user_id": user_id}), ex=LESSON_TTL)
    return new_id


def wrong_set_login(store, session_id, user_id):
    """Lists the new id, but under a set of its own naming, not the store's."""
    new_id = unlisted_login(store, session_id, user_id)
    store.client.sadd(store.keyspace.key("sessions", user_id), new_id)
    store.client.expire(store.keyspace.key("sessions", user_id), 60)
    return new_id


def new_id_and_save(store, session_id, user_id):
    """new_session_id() + save: save only replaces an existing session, so it refuses."""
    new_id = labkit.new_session_id()
    store.save(new_id, {**store.get(session_id), "user_id": user_id})
    store.delete(session_id)
    return new_id


def fixated_login(store, session_id, user_id):
    store.save(session_id, {**store.get(session_id), "user_id": user_id})
    return session_id


def leaky_login(store, session_id, user_id):
    return store.create({**store.get(session_id), "user_id": user_id})


def amnesiac_login(store, session_id, user_id):
    store.delete(session_id)
    return store.create({"user_id": user_id})


def forever_login(store, session_id, user_id):
    data = json.loads(store.client.getdel(store.key(session_id)))
    new_id = labkit.new_session_id()
    store.client.set(store.key(new_id), json.dumps({**data, "user_id": user_id}))
    return new_id


def no_user_login(store, session_id, user_id):
    return store.rotate(session_id)


def unsaved_login(store, session_id, user_id):
    store.delete(session_id)
    return labkit.new_session_id()


def returns_data(store, session_id, user_id):
    new_id = store.rotate(session_id, user_id=user_id)
    return store.get(new_id)


LOGIN_CASES = [
    (rotating_login, True, "planted id is dead"),
    (create_then_delete, True, "new id carries ada"),
    (raw_getdel_set, True, "expires"),
    (hex_id_login, True, "her cart"),
    (new_id_and_save, False, "store.save only replaces a session that exists"),
    (fixated_login, False, "session fixation"),
    (leaky_login, False, "planted id still opens a session"),
    (amnesiac_login, False, "carry the old session's data over"),
    (forever_login, False, "no TTL"),
    (no_user_login, False, "under 'user_id'"),
    (unsaved_login, False, "names no session"),
    (returns_data, False, "return the new session id"),
    (unlisted_login, False, "logout_everywhere('ada') would not end it"),
    (wrong_set_login, False, "look at how store.create lists a new session"),
    (stub, False, "stub"),
]


@pytest.mark.parametrize("answer, passed, words", LOGIN_CASES, ids=lambda v: getattr(v, "__name__", None))
def test_login_check(space: labkit.Keyspace, answer, passed: bool, words: str) -> None:
    result = check_login(answer, space)
    assert result.passed is passed and words in result.message, result.message
    space.client.delete(space.key("sessions", "ada"))  # wrong_set_login's own set: not the check's to know
    assert list(space.keys()) == []


def test_os_random_source_restored_when_the_answer_raises(space: labkit.Keyspace) -> None:
    """02.1 wraps os.urandom (and random's reference to it); an answer that raises midway must not leave it wrapped."""
    real, real_random = os.urandom, random._urandom  # type: ignore[attr-defined]
    calls = itertools.count()

    def flaky(space, user_id):
        if next(calls) == 3:
            raise RuntimeError("boom")
        return storing(lambda: secrets.token_hex(16))(space, user_id)

    result = check_create_session(flaky, space)
    assert not result.passed and "boom" in result.message, result.message
    assert os.urandom is real and random._urandom is real_random  # type: ignore[attr-defined]
    assert list(space.keys()) == []


def test_other_threads_draw_real_bytes_while_the_source_is_frozen(space: labkit.Keyspace) -> None:
    """Only the checking thread sees fixed bytes: another thread drawing meanwhile gets random ones."""
    import threading

    seen: list[bytes] = []

    def sampling(space, user_id):
        worker = threading.Thread(target=lambda: seen.append(os.urandom(16)))
        worker.start()
        worker.join()
        return storing(lambda: secrets.token_hex(16))(space, user_id)

    assert check_create_session(sampling, space).passed
    assert len(set(seen)) == len(seen) and bytes(16) not in seen


def test_create_session_check_samples_ids_off_the_server(space: labkit.Keyspace) -> None:
    """02.1 judges the first id's write on the server and samples the others in process: a few commands, not one per id.

    On a server 10 ms away each command the check sends costs a round trip; sampling 20 ids there cost 20.
    """
    import fakeredis

    if isinstance(space.client, fakeredis.FakeRedis) or not isinstance(space.client, redis.Redis):
        pytest.skip("counted with INFO stats on a single real server")

    def processed() -> int:
        return int(space.client.info("stats")["total_commands_processed"])

    before = processed()
    result = check_create_session(storing(lambda: secrets.token_hex(16)), space)
    sent = processed() - before - 1  # the second INFO counts itself
    assert result.passed, result.message
    assert sent <= 15, f"{sent} commands reached the server"  # about 11 (SET; GET, TTL; SCAN, DEL...); sampling there: 40+
    assert list(space.keys()) == []


def _stray_writer(client, tag: str, kept: str, also_right: bool):
    """An answer that writes `<tag>:session:<id>` (no lab prefix) through another client, as the notebook's `r`,
    and overwrites `kept`, a key that existed before; with `also_right` it also stores the session where asked."""
    def create_session(space, user_id):
        session_id = secrets.token_hex(16)
        value = json.dumps({"user_id": user_id, "logged_in": True})
        if also_right:
            space.client.set(space.key("session", session_id), value, ex=LESSON_TTL)
        client.set(f"{tag}:session:{session_id}", value, ex=LESSON_TTL)
        client.set(kept, "overwritten", ex=60)
        return session_id
    return create_session


@pytest.mark.parametrize("also_right, passed, words", [
    (False, False, "your call created 'stray"),  # the reader's wrong answer: stopped at the first id
    (True, True, "none repeated"),               # every one of the ~25 calls leaves a stray key
])
def test_create_session_check_deletes_every_key_the_answer_created(real_redis_url: str, also_right: bool,
                                                                   passed: bool, words: str) -> None:
    """Keys an answer creates outside its space are deleted by the check; a key that existed before stays."""
    client = labkit.connect(real_redis_url)
    space = labkit.Keyspace(client, f"{labkit.lab_prefix()}test-stray:")
    tag = f"stray{os.getpid()}{int(also_right)}"
    kept = f"{tag}:kept"
    client.set(kept, "someone else's", ex=60)
    learners_r = labkit.connect(real_redis_url)  # a client the check never sees
    result = check_create_session(_stray_writer(learners_r, tag, kept, also_right), space)
    assert result.passed is passed and words in result.message, result.message
    assert sorted(client.scan_iter(f"{tag}:*")) == [kept]
    assert list(space.keys()) == []
    client.delete(kept)


def test_login_check_deletes_the_keys_a_login_created_outside_its_space(real_redis_url: str) -> None:
    """A login writing `session:<id>` without the lab prefix, through another client, leaves nothing behind."""
    client = labkit.connect(real_redis_url)
    space = labkit.Keyspace(client, f"{labkit.lab_prefix()}test-stray-login:")
    learners_r = labkit.connect(real_redis_url)
    tag = f"stray{os.getpid()}login"

    def login(store, session_id, user_id):
        new_id = labkit.new_session_id()
        learners_r.set(f"{tag}:session:{new_id}", json.dumps({"user_id": user_id}), ex=LESSON_TTL)
        return new_id

    result = check_login(login, space)
    assert not result.passed and "names no session" in result.message, result.message
    assert list(client.scan_iter(f"{tag}:*")) == []
    assert list(space.keys()) == []


# --- notebook 02's demos, as a learner runs them: cell by cell, with pauses ----------------------------

def _notebook_02() -> list:
    import nbformat

    from tests.support import NOTEBOOKS

    path = next(p for p in NOTEBOOKS if p.name.startswith("02_"))
    return nbformat.read(path, as_version=4).cells


def test_sliding_expiry_demo_shows_idle_gone_and_active_alive_whatever_the_pause_between_cells() -> None:
    """§3's cells from the two sessions' SETs to their EXISTS, run with a 1 s pause between cells, still give (0, 1).

    A learner pressing Shift+Enter cell by cell takes a second or more between cells; a demo whose TTLs
    span two cells printed (0, 0) for them.
    """
    import ast

    import fakeredis

    code = [c.source for c in _notebook_02() if c.cell_type == "code"]
    first = next(i for i, source in enumerate(code) if "pexpire" in source.lower() and "idle" in source)
    first = next(i for i in range(first, -1, -1) if "r.set(idle" in code[i])
    last = next(i for i in range(first, len(code)) if "r.exists(idle)" in code[i])
    namespace = {"r": fakeredis.FakeRedis(decode_responses=True), "PREFIX": "lab:test:",
                 "new_session_id": labkit.new_session_id, "time": time, "json": json}
    for number, source in enumerate(code[first:last + 1]):
        if number:
            time.sleep(1.0)  # a learner reading the output, then pressing Shift+Enter
        *body, tail = ast.parse(source).body
        exec(compile(ast.Module(body, []), "cell", "exec"), namespace)  # noqa: S102
        value = eval(compile(ast.Expression(tail.value), "cell", "eval"), namespace)  # noqa: S307
    assert value == (0, 1)


@pytest.mark.parametrize("phrase, why", [
    ("sets the price", "on loopback the read's p50 is up to twice PING's: no claim that a measurement contradicts"),
    ("the version the warning names", "reads as a redis-py version; 2.6.12 is the Redis server's"),
    ("a busy machine does not change the outcome", "no promise about timing the cells cannot keep"),
])
def test_notebook_02_prose_makes_no_claim_its_runs_contradict(phrase: str, why: str) -> None:
    prose = " ".join(" ".join(c.source.split()) for c in _notebook_02() if c.cell_type == "markdown")
    assert phrase not in prose, why


def test_notebook_02_says_what_p99_of_few_calls_is() -> None:
    """p99 over fewer than 100 calls is the slowest call: the prose must say so where it times 20 PINGs."""
    cells = _notebook_02()
    speed = next(i for i, c in enumerate(cells) if c.source.startswith("## 7."))
    calls = int(next(c for c in cells[speed:] if c.cell_type == "code" and "r.ping()" in c.source)
                .source.split("range(")[1].split(")")[0])
    assert calls >= 100 or "slowest" in cells[speed].source
