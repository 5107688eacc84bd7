"""Lost updates: the scripted interleaving is exact, and so are the turn-taking races, on every backend."""

from __future__ import annotations

import json

import pytest
import redis

import labkit
from labkit.sessions.races import Turnstile, atomic_increment, race, racy_increment, requests_hooked, walkthrough
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


@pytest.mark.parametrize("servers, each", [(4, 5), (3, 4), (2, 10)])
def test_racy_servers_keep_exactly_one_update_a_round(store: RedisSessionStore, servers: int, each: int) -> None:
    # Turns force the worst overlap every round: all servers GET, then all SET; only the last SET counts.
    result = race(store, racy_increment, servers=servers, updates_each=each)
    assert (result.sent, result.kept, result.lost) == (servers * each, each, (servers - 1) * each)
    assert result.requests == 2 * servers * each


def test_the_same_race_gives_the_same_line_every_run(store: RedisSessionStore) -> None:
    lines = {str(race(store, racy_increment, servers=4, updates_each=5)) for _ in range(20)}
    assert lines == {"4 servers sent 20 increments: 5 kept, 15 lost (40 requests to Redis)"}


def watch_multi(store: RedisSessionStore, session_id: str) -> None:
    key = store.key(session_id)
    with store.client.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(key)
                data = json.loads(pipe.get(key))
                data["views"] += 1
                pipe.multi()
                pipe.set(key, json.dumps(data), keepttl=True)
                pipe.execute()
                return
            except redis.WatchError:
                continue


SCRIPT = """
local data = cjson.decode(redis.call('GET', KEYS[1]))
data['views'] = data['views'] + 1
return redis.call('SET', KEYS[1], cjson.encode(data), 'KEEPTTL')
"""


@pytest.mark.parametrize("updater", [atomic_increment, watch_multi,
                                     lambda store, sid: store.client.eval(SCRIPT, 1, store.key(sid))],
                         ids=["store.update", "WATCH/MULTI", "Lua"])
def test_atomic_servers_lose_nothing_and_the_same_requests_every_run(store: RedisSessionStore, updater) -> None:
    first = race(store, updater, servers=4, updates_each=5)
    assert (first.sent, first.kept, first.lost) == (20, 20, 0)
    assert race(store, updater, servers=4, updates_each=5).requests == first.requests
    assert list(store.keyspace.keys()) == []  # the race cleans up its session


def test_an_error_in_a_thread_is_raised_and_the_others_finish(store: RedisSessionStore) -> None:
    def broken(store, session_id):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        race(store, broken, servers=2, updates_each=1)


def test_a_server_that_stops_early_hands_on_its_turn(store: RedisSessionStore) -> None:
    calls = []

    def quits_after_one(store, session_id):
        calls.append(1)
        if len(calls) > 2:
            raise LookupError("gone")
        racy_increment(store, session_id)

    with pytest.raises(LookupError):
        race(store, quits_after_one, servers=2, updates_each=3)


def test_requests_outside_the_race_are_not_held(store: RedisSessionStore) -> None:
    turnstile, seen = Turnstile(), []
    with requests_hooked(lambda command: seen.append(turnstile.before_send(command))):
        store.client.ping()
    assert seen == [False]


def test_a_bad_race_is_refused(store: RedisSessionStore) -> None:
    with pytest.raises(ValueError, match="at least one server"):
        race(store, racy_increment, servers=0)
