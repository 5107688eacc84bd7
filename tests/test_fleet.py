"""The simulated web fleet: policies, cookies, stop and restart, determinism for a seed."""

from __future__ import annotations

import pytest

from labkit import POLICIES, Fleet, MemorySessionStore, Traffic
from labkit.records import logouts


def test_one_server_keeps_a_user_logged_in() -> None:
    fleet = Fleet(servers=1)
    assert fleet.login("alice").status == 200
    record = fleet.get("alice", "/profile")
    assert (record.server, record.status, record.recognised) == ("app-1", 200, True)
    assert "profile of alice" in record.body


def test_round_robin_logs_a_user_out_on_the_next_server() -> None:
    fleet = Fleet(servers=3, policy="round_robin")
    assert fleet.login("alice").server == "app-1"
    record = fleet.get("alice", "/profile")
    assert (record.server, record.status, record.logged_out) == ("app-2", 401, True)
    assert not fleet.logged_in("alice")  # the server told the browser to drop the stale cookie


@pytest.mark.parametrize("policy", POLICIES)
def test_same_seed_same_records(policy: str) -> None:
    def play(seed: int) -> list[tuple]:
        fleet = Fleet(servers=3, policy=policy, seed=seed)
        records = fleet.run(600, Traffic(users=40, skew=1.0, seed=seed))
        return [(r.user, r.server, r.method, r.path, r.status, r.session) for r in records]

    assert play(3) == play(3)
    assert play(3) != play(4)


def test_the_store_factory_gets_each_server_name() -> None:
    shared = MemorySessionStore()
    seen: list[str] = []
    fleet = Fleet(servers=3, store_factory=lambda name: seen.append(name) or shared)
    assert seen == ["app-1", "app-2", "app-3"]
    fleet.run(300, Traffic(users=20, seed=1))
    assert logouts(fleet.records) == 0
