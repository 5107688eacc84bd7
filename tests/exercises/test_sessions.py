"""Notebook 02's exercise checks pass the right answers and fail the usual wrong ones, on both backends."""

from __future__ import annotations

import json
import secrets
import uuid
import warnings

import pytest
import redis

import labkit
from labkit.exercises.sessions import check_add_to_cart, check_create_session, check_login
from labkit.sessions.redis_store import LESSON_TTL


def good_create(space, user_id):
    session_id = secrets.token_urlsafe(32)
    space.client.set(space.key("session", session_id), json.dumps({"user_id": user_id, "logged_in": True}),
                     ex=LESSON_TTL)
    return session_id


def uuid_create(space, user_id):
    session_id = str(uuid.uuid4())
    space.client.set(space.key("session", session_id), json.dumps({"user_id": user_id, "logged_in": True}),
                     ex=LESSON_TTL)
    return session_id


def hex_create(n_bytes):
    def create(space, user_id):
        session_id = secrets.token_hex(n_bytes)
        space.client.set(space.key("session", session_id), json.dumps({"user_id": user_id, "logged_in": True}),
                         ex=LESSON_TTL)
        return session_id
    return create


def setex_create(space, user_id):
    session_id = secrets.token_urlsafe(32)
    space.client.setex(space.key("session", session_id), LESSON_TTL, json.dumps({"user_id": user_id, "logged_in": True}))
    return session_id


def no_ttl_create(space, user_id):
    session_id = secrets.token_urlsafe(32)
    space.client.set(space.key("session", session_id), json.dumps({"user_id": user_id, "logged_in": True}))
    return session_id


def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("answer, passed, phrase", [
    (good_create, True, "43 URL-safe characters (up to 256 random bits)"),
    (uuid_create, False, "about 122 random bits"),
    (hex_create(12), False, "about 96 random bits; ask secrets for at least 128"),
    (hex_create(16), True, "32 hex digits (up to 128 random bits)"),
    (setex_create, False, "setex"),
    (no_ttl_create, False, "no TTL"),
    (stub, False, "stub"),
])
def test_create_session_check(space: labkit.Keyspace, capsys, answer, passed: bool, phrase: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        result = check_create_session(answer, space)
    assert result.passed is passed and phrase in result.message
    assert list(space.keys()) == []


def naive_add(store, session_id, item):
    data = store.get(session_id)
    data["cart"].append(item)
    store.save(session_id, data)


def atomic_add(store, session_id, item):
    store.update(session_id, lambda data: data["cart"].append(item))


def watch_multi_add(store, session_id, item):
    """The notebook's WATCH/MULTI loop, on the raw client."""
    key = store.key(session_id)
    with store.client.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(key)
                data = json.loads(pipe.get(key))
                data["cart"].append(item)
                pipe.multi()
                pipe.set(key, json.dumps(data), keepttl=True)
                pipe.execute()
                return
            except redis.WatchError:
                continue


def raw_naive_add(store, session_id, item):
    key = store.key(session_id)
    data = json.loads(store.client.get(key))
    data["cart"].append(item)
    store.client.set(key, json.dumps(data), keepttl=True)


def queued_read_add(store, session_id, item):
    """Reads in one pipeline, writes in another: still a read-modify-write with a gap."""
    key = store.key(session_id)
    pipe = store.client.pipeline(transaction=False)
    [raw] = pipe.get(key).execute()
    data = json.loads(raw)
    data["cart"].append(item)
    store.client.set(key, json.dumps(data), keepttl=True)


def script_add(store, session_id, item):
    """A Lua script reads and writes in one atomic step."""
    store.client.eval(APPEND_SCRIPT, 1, store.key(session_id), item)


APPEND_SCRIPT = """
local data = cjson.decode(redis.call('GET', KEYS[1]))
table.insert(data['cart'], ARGV[1])
return redis.call('SET', KEYS[1], cjson.encode(data), 'KEEPTTL')
"""


def blind_add(store, session_id, item):
    store.save(session_id, {"user_id": "ada", "cart": ["book", item]})


def ttl_dropping_add(store, session_id, item):
    store.update(session_id, lambda data: data["cart"].append(item))
    store.client.persist(store.key(session_id))


def forgetful_add(store, session_id, item):
    store.update(session_id, lambda data: None)


@pytest.mark.parametrize("answer, passed, phrase", [
    (atomic_add, True, "survived"),
    (watch_multi_add, True, "survived"),
    (script_add, True, "survived"),
    (naive_add, False, "lost update"),
    (raw_naive_add, False, "lost update"),
    (queued_read_add, False, "lost update"),
    (blind_add, False, "never read the session"),
    (ttl_dropping_add, False, "lost its expiry"),
    (forgetful_add, False, "'pen' never arrived"),
    (stub, False, "stub"),
])
def test_add_to_cart_check(space: labkit.Keyspace, answer, passed: bool, phrase: str) -> None:
    if answer is script_add and labkit.is_fake(space.client):
        pytest.skip("the lab's fakeredis runs no Lua (it would need lupa)")
    result = check_add_to_cart(answer, space)
    assert result.passed is passed and phrase in result.message, result.message


def rotating_login(store, session_id, user_id):
    return store.rotate(session_id, user_id=user_id)


def fixated_login(store, session_id, user_id):
    data = store.get(session_id)
    store.save(session_id, {**data, "user_id": user_id})
    return session_id


def leaky_login(store, session_id, user_id):
    return store.create({**store.get(session_id), "user_id": user_id})


def amnesiac_login(store, session_id, user_id):
    store.delete(session_id)
    return store.create({"user_id": user_id})


@pytest.mark.parametrize("answer, passed, phrase", [
    (rotating_login, True, "fresh id"),
    (fixated_login, False, "session fixation"),
    (leaky_login, False, "still works"),
    (amnesiac_login, False, "carry the old session's data over"),
])
def test_login_check(space: labkit.Keyspace, answer, passed: bool, phrase: str) -> None:
    result = check_login(answer, space)
    assert result.passed is passed and phrase in result.message, result.message
