"""Session data JSON cannot give back unchanged is refused before anything is written."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest

import labkit
from labkit.errors import BadArgument
from labkit.sessions.redis_store import RedisSessionStore


@pytest.fixture
def store(space: labkit.Keyspace) -> RedisSessionStore:
    return RedisSessionStore(space, ttl=60)


def test_bad_data_is_refused(space) -> None:
    with pytest.raises(BadArgument, match="dict, not list"):
        RedisSessionStore(space).create([1])


# Data JSON would not give back unchanged: refused before anything is written.
NOT_ROUND_TRIPPABLE = [
    ({1: "a", "1": "b"}, "key 1 (int): JSON keys are strings, so it would come back as '1', where it would overwrite"),
    ({1: "a"}, "come back as '1'"),
    ({True: "a"}, "come back as 'true'"),
    ({"score": math.nan}, "data['score'] is nan: JSON has no NaN or infinity"),
    ({"score": math.inf}, "is inf"),
    ({"cart": [{"price": -math.inf}]}, "data['cart'][0]['price'] is -inf"),
    ({"pair": (1, 2)}, "data['pair'] is a tuple: JSON would give it back as a list"),
    ({"tags": {"a"}}, "is a set, which JSON cannot store"),  # one member: the test id (its repr) must not vary by hash seed
    ({"raw": b"x"}, "is a bytes"),
    ({"when": timedelta(1)}, "is a timedelta"),
    ({(1, 2): "a"}, "has the key (1, 2) (tuple), which JSON cannot store"),
]


@pytest.mark.parametrize("data, words", NOT_ROUND_TRIPPABLE, ids=[repr(d)[:30] for d, _ in NOT_ROUND_TRIPPABLE])
def test_data_json_cannot_round_trip_is_refused_not_altered(store: RedisSessionStore, space, data, words) -> None:
    session_id = store.create({"user_id": "ada"})
    keys_before = sorted(space.keys())
    refusals = {
        "create": lambda: store.create(data),
        "save": lambda: store.save(session_id, data),
        "update": lambda: store.update(session_id, lambda old: data),
        "rotate": lambda: store.rotate(session_id, extra=data),
    }
    for name, call in refusals.items():
        with pytest.raises(BadArgument, match=re.escape(words) if name != "rotate" else None):
            call()
    assert store.get(session_id) == {"user_id": "ada"} and sorted(space.keys()) == keys_before


def test_a_cycle_is_refused(store: RedisSessionStore) -> None:
    data: dict = {"user_id": "ada"}
    data["me"] = data
    with pytest.raises(BadArgument, match="contains itself"):
        store.create(data)


def test_data_that_round_trips_comes_back_equal(store: RedisSessionStore) -> None:
    data = {"user_id": "ada", "cart": [1, 2.5, -0.0, True, None, "é", {"nested": []}], "big": 2**80}
    assert store.get(store.create(data)) == data
