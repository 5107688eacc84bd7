"""RedisSessionStore on both backends: the lesson's format, TTLs, logout, bad input."""

from __future__ import annotations

import json
import math
import re
import threading
import time
import uuid
import warnings
from datetime import timedelta

import pytest

import labkit
from labkit.errors import BadArgument, CorruptSession, InvalidSessionId, NoSuchSession, SessionContended
from labkit.sessions.redis_store import LESSON_TTL, MAX_TTL_MS, RedisSessionStore
from labkit.sessions.store import new_session_id


def lesson_create_session(client, prefix: str, user_id: str) -> str:
    """The lesson's create_session, with the key prefix the lab writes under."""
    session_id = str(uuid.uuid4())
    session_data = {"user_id": user_id, "logged_in": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # redis-py 8 deprecates setex
        client.setex(f"{prefix}session:{session_id}", LESSON_TTL, json.dumps(session_data))
    return session_id


def lesson_get_session(client, prefix: str, session_id: str):
    data = client.get(f"{prefix}session:{session_id}")
    return json.loads(data) if data else None


@pytest.fixture
def store(space: labkit.Keyspace) -> RedisSessionStore:
    return RedisSessionStore(space, ttl=60)


def test_create_writes_the_lessons_key_and_json_with_a_ttl(store: RedisSessionStore, space) -> None:
    session_id = store.create({"user_id": "ada", "logged_in": True})
    raw = space.client.get(space.prefix + "session:" + session_id)
    assert json.loads(raw) == {"user_id": "ada", "logged_in": True}
    assert 59 <= space.client.ttl(space.prefix + "session:" + session_id) <= 60
    assert len(session_id) == 43 and store.get(session_id) == {"user_id": "ada", "logged_in": True}


def test_default_ttl_is_the_lessons_eight_hours(space) -> None:
    store = RedisSessionStore(space)
    session_id = store.create({"user_id": "ada"})
    assert store.ttl == LESSON_TTL == 8 * 3600
    assert LESSON_TTL - 2 <= space.client.ttl(store.key(session_id)) <= LESSON_TTL


def test_the_lessons_session_is_read_by_the_store(store: RedisSessionStore, space) -> None:
    session_id = lesson_create_session(space.client, space.prefix, "grace")
    assert store.get(session_id) == {"user_id": "grace", "logged_in": True}


def test_the_stores_session_is_read_by_the_lesson(store: RedisSessionStore, space) -> None:
    session_id = store.create({"user_id": "linus", "logged_in": True})
    assert lesson_get_session(space.client, space.prefix, session_id) == {"user_id": "linus", "logged_in": True}


def test_empty_prefix_gives_the_lessons_exact_keys(space) -> None:
    store = RedisSessionStore(labkit.Keyspace(space.client, ""), ttl=5)  # keys outside the lab's prefix:
    user = "labkit-test-user"                                              # removed below, and short-lived
    session_id = store.create({"user_id": user})
    try:
        assert store.key(session_id) == f"session:{session_id}"
        assert store.index_key(user) == f"user-sessions:{user}"
        assert lesson_get_session(space.client, "", session_id) == {"user_id": user}
    finally:
        store.logout_everywhere(user)
    assert not space.client.exists(f"session:{session_id}") and not space.client.exists(f"user-sessions:{user}")


def test_missing_session_is_none(store: RedisSessionStore) -> None:
    assert store.get(new_session_id()) is None
    assert store.refresh(new_session_id()) is None
    assert store.delete(new_session_id()) is False
    assert store.update(new_session_id(), lambda d: None) is None


def test_save_replaces_data_keeps_the_ttl_and_refuses_a_gone_session(store: RedisSessionStore) -> None:
    session_id = store.create({"n": 1})
    store.save(session_id, {"n": 2})
    assert store.get(session_id) == {"n": 2} and 59 <= store.ttl_left(session_id) <= 60
    store.delete(session_id)
    with pytest.raises(NoSuchSession, match="expired or was deleted"):
        store.save(session_id, {"n": 3})
    assert store.get(session_id) is None  # not resurrected without a TTL


def test_delete_invalidates_instantly(store: RedisSessionStore) -> None:
    session_id = store.create({"user_id": "ada"})
    assert store.delete(session_id) is True
    assert store.get(session_id) is None and store.sessions_of("ada") == []


def test_refresh_restarts_the_ttl(store: RedisSessionStore, space) -> None:
    idle, active = store.create({"user_id": "ada"}), store.create({"user_id": "ada"})
    for session_id in (idle, active):  # as if 59 of their 60 seconds had passed
        space.client.pexpire(store.key(session_id), 1_000)
    assert store.refresh(active) == {"user_id": "ada"}
    assert store.ttl_left(idle) <= 1 < 59 <= store.ttl_left(active) <= 60
    assert 59_000 <= space.client.pttl(store.index_key("ada")) <= 60_000, "the index must outlive the session"


def test_an_idle_session_expires_and_leaves_its_users_index(space) -> None:
    store = RedisSessionStore(space, ttl=0.05)
    idle, active = store.create({"user_id": "ada"}), store.create({"user_id": "ada"})
    for key in (store.key(active), store.index_key("ada")):  # kept alive, as refreshes would keep them
        store.client.persist(key)
    deadline = time.monotonic() + 10  # a generous wait, not a timing assertion: 50 ms is all it needs
    while store.get(idle) is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert store.get(idle) is None, "an idle session outlived its TTL"
    assert store.sessions_of("ada") == [active] and store.client.smembers(store.index_key("ada")) == {active}


def test_logout_everywhere_ends_only_that_users_sessions(store: RedisSessionStore) -> None:
    phones = [store.create({"user_id": "ada", "device": d}) for d in ("phone", "laptop", "tablet")]
    other = store.create({"user_id": "grace"})
    store.delete(phones[0])
    assert store.sessions_of("ada") == sorted(phones[1:])
    assert store.logout_everywhere("ada") == 2
    assert all(store.get(s) is None for s in phones) and store.get(other) == {"user_id": "grace"}
    assert store.logout_everywhere("ada") == 0 and not store.client.exists(store.index_key("ada"))


def test_index_lives_as_long_as_the_newest_session(space) -> None:
    store = RedisSessionStore(space, ttl=30)
    store.create({"user_id": "ada"})
    assert 29_000 < space.client.pttl(store.index_key("ada")) <= 30_000


def test_rotate_gives_a_new_id_and_ends_the_old_one(store: RedisSessionStore) -> None:
    planted = store.create({"cart": ["book"]})
    fresh = store.rotate(planted, user_id="ada")
    assert fresh != planted and store.get(planted) is None
    assert store.get(fresh) == {"cart": ["book"], "user_id": "ada"} and store.sessions_of("ada") == [fresh]
    assert store.rotate(planted) is None


def test_update_is_atomic_under_threads(store: RedisSessionStore) -> None:
    session_id = store.create({"views": 0})

    def add(data: dict) -> None:
        data["views"] += 1

    threads = [threading.Thread(target=lambda: [store.update(session_id, add) for _ in range(30)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get(session_id) == {"views": 120}
    assert 59 <= store.ttl_left(session_id) <= 60


def test_update_retries_when_another_server_writes_in_between(store: RedisSessionStore) -> None:
    session_id = store.create({"cart": []})
    calls = []

    def add_book(data: dict) -> None:
        calls.append(list(data["cart"]))
        if len(calls) == 1:  # another server writes after our read, before our write
            store.save(session_id, {"cart": ["pen"]})
        data["cart"].append("book")

    assert store.update(session_id, add_book) == {"cart": ["pen", "book"]}
    assert calls == [[], ["pen"]]


@pytest.mark.parametrize("bad, message", [
    ("abc", "malformed session id 'abc'"),
    ("../../etc/passwd-and-more-chars", "malformed session id '../../…'"),
    ("a" * 30 + "*", "malformed"),
    ("x" * 10_000, "10,000 characters long"),
    (None, "a session id is a str, not NoneType"),
    (b"a" * 43, "not bytes"),
])
def test_bad_ids_raise_a_clear_value_error_on_every_call(store: RedisSessionStore, bad, message: str) -> None:
    for call in (store.get, store.delete, store.refresh, store.ttl_left, store.key,
                 lambda s: store.save(s, {}), lambda s: store.update(s, lambda d: None)):
        with pytest.raises(InvalidSessionId, match=re.escape(message)):
            call(bad)
    assert issubclass(InvalidSessionId, ValueError)


def test_the_lessons_uuid4_ids_are_accepted(store: RedisSessionStore) -> None:
    assert store.get(str(uuid.uuid4())) is None


def test_non_json_data_is_named_and_left_untouched(store: RedisSessionStore, space) -> None:
    session_id = new_session_id()
    key = store.key(session_id)
    space.client.set(key, "user=ada;admin=1", ex=60)
    for call in (store.get, store.refresh, lambda s: store.update(s, lambda d: None)):
        with pytest.raises(CorruptSession, match=rf"'{key}' does not hold JSON"):
            call(session_id)
    assert space.client.get(key) == "user=ada;admin=1"


def test_json_that_is_not_an_object_and_wrong_types_are_named(store: RedisSessionStore, space) -> None:
    listed, hashed = new_session_id(), new_session_id()
    space.client.set(store.key(listed), "[1, 2]")
    space.client.hset(store.key(hashed), "user_id", "ada")
    with pytest.raises(CorruptSession, match="holds JSON list"):
        store.get(listed)
    for call in (store.get, store.delete, store.refresh):
        with pytest.raises(CorruptSession, match=rf"'{store.key(hashed)}' is not a string key"):
            call(hashed)
    assert space.client.hgetall(store.key(hashed)) == {"user_id": "ada"}


@pytest.mark.parametrize("ttl, words", [
    (0, "positive"),
    (-5, "positive"),
    (0.0004, "at least 0.001 (1 ms"),
    (0.000999, "at least 0.001 (1 ms"),
    (timedelta(microseconds=500), "at least 0.001"),
    (1e20, "at most 4,611,686,018,427,387 seconds"),
    (10**400, "at most 4,611,686,018,427,387 seconds (about 146 million years; Redis refuses expiries much beyond "
              "that), got an int of 1,329 bits"),
    (timedelta.max, None),  # 999,999,999 days, about 2.7 million years: Redis keeps it
    (math.inf, "finite"),
    (-math.inf, "finite"),
    (math.nan, "finite"),
    (True, "not bool"),
    ("60", "not str"),
    (None, "not NoneType"),
], ids=str)
def test_ttls_redis_would_refuse_are_refused_when_the_store_is_made(space, ttl, words) -> None:
    if words is None:
        assert RedisSessionStore(space, ttl=ttl).ttl == ttl.total_seconds()
        return
    with pytest.raises(BadArgument, match=re.escape(words)):
        RedisSessionStore(space, ttl=ttl)


@pytest.mark.parametrize("ttl", [0.001, 0.0015, 1, 2.5, timedelta(hours=8), MAX_TTL_MS / 1000])
def test_every_ttl_the_store_accepts_redis_keeps(space, ttl) -> None:
    store = RedisSessionStore(space, ttl=ttl)
    session_id = store.create({"user_id": "ada"})  # SET ... EX/PX and the index's PEXPIRE, both accepted
    seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else ttl
    left = space.client.pttl(store.key(session_id))
    assert left == -2 or 0 <= left <= math.ceil(seconds * 1000 * (1 + 1e-12))  # a 1 ms session may be gone
    with pytest.raises(BadArgument):
        RedisSessionStore(space, ttl=MAX_TTL_MS / 1000 * 1.01)


def test_repr_shows_no_ids(store: RedisSessionStore, space) -> None:
    assert repr(store) == f"RedisSessionStore(prefix={space.prefix!r}, ttl=60 s)"


def test_a_fleet_on_the_redis_store_logs_nobody_out(space) -> None:
    store = RedisSessionStore(space, ttl=60, user_field="user")
    fleet = labkit.Fleet(servers=3, policy="round_robin", store_factory=lambda name: store, seed=0)
    fleet.run(300, labkit.Traffic(users=20, seed=1))
    fleet.stop("app-2")
    fleet.run(100, labkit.Traffic(users=20, seed=2))
    assert fleet.summary().total_logouts == 0
    user = next(u for u in sorted(fleet.browsers) if fleet.logged_in(u))
    assert store.logout_everywhere(user) >= 1
    assert fleet.get(user, "/profile").logged_out


# Values another program may keep under a session key: each must be named and left exactly as it was.
MSGPACK = b"\x82\xa7user_id\xa3ada\xa9logged_in\xc3"  # Flask-Session's default format: {"user_id": "ada", ...}
NOT_SESSIONS = [
    ("hash", lambda c, k: c.hset(k, "user_id", "ada"), "is not a string key"),
    ("list", lambda c, k: c.rpush(k, "ada", "admin"), "is not a string key"),
    ("set", lambda c, k: c.sadd(k, "ada"), "is not a string key"),
    ("text, not JSON", lambda c, k: c.set(k, "user=ada;admin=1"), "does not hold JSON (it starts 'user=ada;admin=1')"),
    ("msgpack (not UTF-8)", lambda c, k: c.set(k, MSGPACK), "bytes that are not UTF-8 text"),
    ("Latin-1 text", lambda c, k: c.set(k, "café".encode("latin-1")), "not UTF-8"),
    ("JSON list", lambda c, k: c.set(k, "[1, 2]"), "holds JSON list"),
    ("JSON string", lambda c, k: c.set(k, '"ada"'), "holds JSON str"),
    ("JSON number", lambda c, k: c.set(k, "42"), "holds JSON int"),
    ("JSON null", lambda c, k: c.set(k, "null"), "holds JSON NoneType"),
]
EVERY_CALL = {
    "get": lambda store, s: store.get(s),
    "refresh": lambda store, s: store.refresh(s),
    "save": lambda store, s: store.save(s, {"user_id": "mallory"}),
    "update": lambda store, s: store.update(s, lambda data: data.update(user_id="mallory")),
    "delete": lambda store, s: store.delete(s),
    "rotate": lambda store, s: store.rotate(s, user_id="mallory"),
}


@pytest.mark.parametrize("kind, write, message", NOT_SESSIONS, ids=[case[0] for case in NOT_SESSIONS])
def test_a_value_that_is_not_a_session_is_named_and_never_changed(store: RedisSessionStore, space, kind, write,
                                                                  message) -> None:
    session_id = new_session_id()
    key = store.key(session_id)
    write(space.client, key)  # no TTL: refresh must not give it one
    before = space.client.dump(key)
    for name, call in EVERY_CALL.items():
        with pytest.raises(CorruptSession, match=re.escape(message)):
            call(store, session_id)
        assert space.client.dump(key) == before, f"{name} changed a {kind} it says it left untouched"
        assert space.client.pttl(key) == -1, f"{name} put a TTL on a {kind}"
    assert not space.client.exists(store.index_key("mallory")) and store.sessions_of("ada") == []


def test_get_and_delete_read_a_non_utf8_value_without_crashing(store: RedisSessionStore, space) -> None:
    session_id = new_session_id()
    space.client.set(store.key(session_id), MSGPACK, ex=60)
    for call in (store.get, store.delete):
        with pytest.raises(CorruptSession, match="Flask-Session"):
            call(session_id)
    assert space.client.execute_command("GET", store.key(session_id), NEVER_DECODE=[]) == MSGPACK
    assert space.client.ping()  # the connection is still in step with the server


def test_contention_is_reported_without_the_secret_id(store: RedisSessionStore, space) -> None:
    session_id = store.create({"views": 0})

    def always_overtaken(data: dict) -> None:
        space.client.set(store.key(session_id), json.dumps({"views": data["views"] + 1}), keepttl=True)

    with pytest.raises(SessionContended, match=r"session '.{6}…' changed under us 100 times") as caught:
        store.update(session_id, always_overtaken)
    assert session_id not in str(caught.value)


def test_a_client_that_decodes_every_reply_still_gets_corrupt_session(store: RedisSessionStore, space,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    session_id = new_session_id()
    space.client.set(store.key(session_id), MSGPACK)
    real = type(space.client).execute_command

    def decoding_anyway(self, *args, **options):  # as a client or version that ignores NEVER_DECODE would
        options.pop("NEVER_DECODE", None)
        return real(self, *args, **options)

    monkeypatch.setattr(type(space.client), "execute_command", decoding_anyway)
    with pytest.raises(CorruptSession, match="not UTF-8 text"):
        store.get(session_id)
    assert space.client.ping()
