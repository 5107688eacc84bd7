"""MemorySessionStore keeps what the Redis store keeps: it refuses the same data, so code moves between them."""

from __future__ import annotations

import re

import pytest

from labkit import MemorySessionStore
from labkit.errors import BadArgument, NoSuchSession
from tests.sessions.test_payload import NOT_ROUND_TRIPPABLE


@pytest.mark.parametrize("data, words", NOT_ROUND_TRIPPABLE, ids=[repr(d)[:30] for d, _ in NOT_ROUND_TRIPPABLE])
def test_data_json_cannot_round_trip_is_refused_as_by_the_redis_store(data, words: str) -> None:
    store = MemorySessionStore()
    session_id = store.create({"user_id": "ada"})
    with pytest.raises(BadArgument, match=re.escape(words)):
        store.create(data)
    with pytest.raises(BadArgument, match=re.escape(words)):
        store.save(session_id, data)
    assert store.get(session_id) == {"user_id": "ada"} and len(store) == 1


def test_refused_data_is_named_before_a_missing_session() -> None:
    with pytest.raises(BadArgument, match="is nan"):  # the same order as the Redis store: data first
        MemorySessionStore().save("gone", {"score": float("nan")})
    with pytest.raises(NoSuchSession, match="create it first"):
        MemorySessionStore().save("gone", {"score": 1})


def test_a_copy_goes_in_and_a_copy_comes_out() -> None:
    store = MemorySessionStore()
    data = {"user_id": "ada", "cart": ["book"]}
    session_id = store.create(data)
    data["cart"].append("pen")
    fetched = store.get(session_id)
    assert fetched == {"user_id": "ada", "cart": ["book"]}
    fetched["cart"].append("lamp")
    assert store.get(session_id) == {"user_id": "ada", "cart": ["book"]}
    assert store.delete(session_id) and not store.delete(session_id) and store.get(session_id) is None
