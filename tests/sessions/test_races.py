"""Lost updates: the scripted interleaving is exact; threads lose updates naively and none atomically."""

from __future__ import annotations

import pytest

import labkit
from labkit.sessions.races import atomic_increment, race, racy_increment, walkthrough
from labkit.sessions.redis_store import RedisSessionStore


@pytest.fixture
def store(space: labkit.Keyspace) -> RedisSessionStore:
    return RedisSessionStore(space, ttl=60)


def test_interleaved_read_read_write_write_loses_the_first_write(store: RedisSessionStore) -> None:
    result = walkthrough(store, store.create({"cart": []}), "ABAB")
    assert result.cart == ("pen",) and result.lost == ("book",)
    assert str(result).splitlines() == [
        "1. server A reads   cart = []",
        "2. server B reads   cart = []",
        "3. server A writes  cart = ['book']  (added 'book')",
        "4. server B writes  cart = ['pen']  (added 'pen')",
        "final cart: ['pen']: lost 'book'",
    ]


@pytest.mark.parametrize("schedule, cart", [("AABB", ("book", "pen")), ("BBAA", ("pen", "book")),
                                            ("ABBA", ("book",)), ("BAAB", ("pen",))])
def test_every_schedule_does_what_it_says(store: RedisSessionStore, schedule: str, cart: tuple) -> None:
    assert walkthrough(store, store.create({"cart": []}), schedule).cart == cart


@pytest.mark.parametrize("schedule", ["ABA", "ABAC", "AAAB", ""])
def test_a_bad_schedule_is_refused(store: RedisSessionStore, schedule: str) -> None:
    with pytest.raises(ValueError, match="exactly twice"):
        walkthrough(store, store.create({"cart": []}), schedule)


def test_racy_threads_lose_updates(store: RedisSessionStore) -> None:
    result = race(store, racy_increment, servers=4, updates_each=25)
    assert result.sent == 100 and result.lost > 0
    assert str(result).endswith(f"{result.kept} kept, {result.lost} lost (varies from run to run)")


def test_atomic_threads_lose_nothing(store: RedisSessionStore) -> None:
    result = race(store, atomic_increment, servers=4, updates_each=25)
    assert (result.sent, result.kept, result.lost) == (100, 100, 0)
    assert str(result) == "4 servers sent 100 increments: 100 kept, 0 lost"
    assert list(store.keyspace.keys()) == []  # the race cleans up its session


def test_an_error_in_a_thread_is_raised(store: RedisSessionStore) -> None:
    def broken(store, session_id):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        race(store, broken, servers=2, updates_each=1)
