"""RedisSessionStore on both backends: the lesson's format, TTLs, logout, bad input."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
import warnings

import pytest

import labkit
from labkit.sessions.redis_store import LESSON_TTL, CorruptSession, InvalidSessionId, RedisSessionStore
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
    with pytest.raises(KeyError, match="expired or was deleted"):
        store.save(session_id, {"n": 3})
    assert store.get(session_id) is None  # not resurrected without a TTL


def test_delete_invalidates_instantly(store: RedisSessionStore) -> None:
    session_id = store.create({"user_id": "ada"})
    assert store.delete(session_id) is True
    assert store.get(session_id) is None and store.sessions_of("ada") == []


def test_short_ttl_expires_and_refresh_slides_it(space) -> None:
    store = RedisSessionStore(space, ttl=0.3)
    idle, active = store.create({"user_id": "ada"}), store.create({"user_id": "ada"})
    time.sleep(0.2)
    assert store.refresh(active) == {"user_id": "ada"}
    time.sleep(0.2)
    assert store.get(idle) is None, "an idle session outlived its TTL"
    assert store.get(active) == {"user_id": "ada"}, "refresh did not restart the TTL"
    assert store.sessions_of("ada") == [active]


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


def test_bad_ttl_and_data_are_refused(space) -> None:
    with pytest.raises(ValueError, match="positive"):
        RedisSessionStore(space, ttl=0)
    with pytest.raises(TypeError, match="dict, not list"):
        RedisSessionStore(space).create([1])


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
