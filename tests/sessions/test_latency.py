"""The read-latency verdict notebook 02 prints: the right sentence for each backend and each measured median."""

from __future__ import annotations

import fakeredis
import pytest
import redis

from labkit.sessions.latency import read_verdict


@pytest.mark.parametrize("p50, words", [
    (0.000_040, "neither confirms nor refutes"),
    (0.003, "neither confirms nor refutes"),  # fakeredis: whatever it measured, it says nothing about the network
])
def test_fakeredis_never_claims_anything(p50: float, words: str) -> None:
    assert words in read_verdict(p50, fakeredis.FakeRedis(decode_responses=True))


@pytest.mark.parametrize("p50, words", [
    (0.000_180, "a read took 180 µs: under a millisecond, as the lesson says"),
    (0.000_999, "under a millisecond"),
    (0.001, "a read took 1.00 ms: the lesson's sub-millisecond figure needs the app servers next to the cache"),
    (0.0026, "Over this link to Redis 7.0.15 at 10.0.0.5:6379, a read took 2.60 ms"),
])
def test_a_real_server_is_judged_by_the_median(p50: float, words: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = redis.Redis(host="10.0.0.5", port=6379)
    monkeypatch.setattr("labkit.sessions.latency.backend_banner", lambda c: "Backend: Redis 7.0.15 at 10.0.0.5:6379")
    assert words in read_verdict(p50, client)
