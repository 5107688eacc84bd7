"""Each user's index of sessions: whatever write names a user, logout_everywhere ends that user's sessions only."""

from __future__ import annotations

import random
import threading

import pytest

import labkit
from labkit.errors import BadArgument
from labkit.sessions.redis_store import RedisSessionStore
from labkit.sessions.store import new_session_id
from tests.sessions.test_redis_store import NOT_SESSIONS, lesson_create_session


@pytest.fixture
def store(space: labkit.Keyspace) -> RedisSessionStore:
    return RedisSessionStore(space, ttl=60)


@pytest.mark.parametrize("kind, write, message", NOT_SESSIONS[:5], ids=[case[0] for case in NOT_SESSIONS[:5]])
def test_logout_everywhere_skips_a_listed_key_that_holds_no_session(store: RedisSessionStore, space, kind, write,
                                                                    message) -> None:
    real = store.create({"user_id": "ada"})
    odd = new_session_id()
    write(space.client, store.key(odd))
    space.client.sadd(store.index_key("ada"), odd)  # listed, as if a session had been overwritten
    before = space.client.dump(store.key(odd))
    assert store.sessions_of("ada") == [real]
    assert store.logout_everywhere("ada") == 1 and store.get(real) is None
    assert space.client.dump(store.key(odd)) == before


# Every way a write can set or change the user a session names; each step gives (session id, its owner now).
def _created(store, space):
    return store.create({"user_id": "bob"}), "bob"


def _saved_anonymous_to_bob(store, space):
    session_id = store.create({"cart": []})
    store.save(session_id, {"cart": [], "user_id": "bob"})  # notebook 02's login_keeping_the_id
    return session_id, "bob"


def _updated_anonymous_to_bob(store, space):
    session_id = store.create({"cart": []})
    store.update(session_id, lambda data: data.update(user_id="bob"))
    return session_id, "bob"


def _saved_bob_to_carol(store, space):
    session_id = store.create({"user_id": "bob"})
    store.save(session_id, {"user_id": "carol"})
    return session_id, "carol"


def _updated_bob_to_carol(store, space):
    session_id = store.create({"user_id": "bob"})
    store.update(session_id, lambda data: {**data, "user_id": "carol"})  # a new dict, returned
    return session_id, "carol"


def _saved_bob_to_nobody(store, space):
    session_id = store.create({"user_id": "bob"})
    store.save(session_id, {"cart": []})  # logged out by a save: no user any more
    return session_id, None


def _bob_to_carol_and_back(store, space):
    session_id = store.create({"user_id": "bob"})
    store.update(session_id, lambda data: data.update(user_id="carol"))
    store.save(session_id, {"user_id": "bob"})
    return session_id, "bob"


def _lessons_session_refreshed(store, space):
    session_id = lesson_create_session(space.client, space.prefix, "bob")  # written without the store
    store.refresh(session_id)
    return session_id, "bob"


def _rotated_to_bob(store, space):
    return store.rotate(store.create({"cart": ["book"]}), user_id="bob"), "bob"


USER_WRITES = [_created, _saved_anonymous_to_bob, _updated_anonymous_to_bob, _saved_bob_to_carol,
               _updated_bob_to_carol, _saved_bob_to_nobody, _bob_to_carol_and_back, _lessons_session_refreshed,
               _rotated_to_bob]


@pytest.mark.parametrize("write", USER_WRITES, ids=[w.__name__.strip("_") for w in USER_WRITES])
def test_logout_everywhere_ends_a_session_whatever_write_named_its_user(store: RedisSessionStore, space,
                                                                        write) -> None:
    session_id, owner = write(store, space)
    bystander = store.create({"user_id": "dave"})
    for user in ("bob", "carol", "dave"):
        expected = [session_id] if user == owner else [bystander] if user == "dave" else []
        assert store.sessions_of(user) == expected, user
    for user in ("bob", "carol"):
        if user != owner:
            assert store.logout_everywhere(user) == 0 and store.get(session_id) is not None, f"{user} ended it"
    if owner is not None:
        assert store.logout_everywhere(owner) == 1
        assert store.get(session_id) is None and store.sessions_of(owner) == []
    assert store.get(bystander) == {"user_id": "dave"}


def test_a_user_change_racing_a_logout_of_the_old_user_loses_to_it(store: RedisSessionStore) -> None:
    session_id = store.create({"user_id": "bob"})
    ended = []

    def to_carol(data: dict) -> None:
        if not ended:  # bob logs out everywhere between our read and our write
            ended.append(store.logout_everywhere("bob"))
        data["user_id"] = "carol"

    assert store.update(session_id, to_carol) is None  # the session was gone when the write retried
    assert ended == [1] and store.get(session_id) is None and store.sessions_of("carol") == []


def test_a_user_change_racing_a_logout_of_the_new_user_is_still_listed(store: RedisSessionStore) -> None:
    session_id = store.create({"user_id": "bob"})
    ended = []

    def to_carol(data: dict) -> None:
        ended.append(store.logout_everywhere("carol"))  # carol has nothing yet: nothing to end
        data["user_id"] = "carol"

    assert store.update(session_id, to_carol) == {"user_id": "carol"}
    assert ended == [0] and store.sessions_of("carol") == [session_id]
    assert store.logout_everywhere("carol") == 1 and store.get(session_id) is None


def test_logout_everywhere_never_ends_a_session_another_user_holds(store: RedisSessionStore, space) -> None:
    carols = store.create({"user_id": "carol"})
    space.client.sadd(store.index_key("bob"), carols)  # a stale or forged entry in bob's index
    assert store.sessions_of("bob") == [] and store.logout_everywhere("bob") == 0
    assert store.get(carols) == {"user_id": "carol"}


def test_delete_keeps_the_index_true(store: RedisSessionStore, space) -> None:
    kept, ended = store.create({"user_id": "ada"}), store.create({"user_id": "ada"})
    assert store.delete(ended) is True and store.delete(ended) is False
    assert space.client.smembers(store.index_key("ada")) == {kept}
    store.delete(kept)
    assert not space.client.exists(store.index_key("ada"))


def test_user_ids_are_matched_as_the_index_names_them(store: RedisSessionStore) -> None:
    numbered, named_none = store.create({"user_id": 7}), store.create({"user_id": "None"})
    assert store.sessions_of(7) == store.sessions_of("7") == [numbered]
    assert store.logout_everywhere("7") == 1
    for call in (store.sessions_of, store.logout_everywhere):
        with pytest.raises(BadArgument, match="not None"):
            call(None)
    assert store.get(named_none) == {"user_id": "None"}


def test_concurrent_user_changes_leave_every_session_in_its_users_index(store: RedisSessionStore) -> None:
    sessions = [store.create({"user_id": "bob", "n": 0}) for _ in range(3)]
    failures: list[BaseException] = []

    def move_around(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(20):
                user = rng.choice(["bob", "carol", None])
                store.update(rng.choice(sessions), lambda data: data.update(user_id=user, n=data["n"] + 1))
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's own thread
            failures.append(exc)

    threads = [threading.Thread(target=move_around, args=(seed,)) for seed in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    owners = {s: store.get(s)["user_id"] for s in sessions}
    assert sum(store.get(s)["n"] for s in sessions) == 60, "an update was lost"
    for user in ("bob", "carol"):
        assert store.sessions_of(user) == sorted(s for s, owner in owners.items() if owner == user)
    assert store.logout_everywhere("bob") == sum(owner == "bob" for owner in owners.values())
    assert all((store.get(s) is None) == (owner == "bob") for s, owner in owners.items())
