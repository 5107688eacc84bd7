"""Notebook 04's experiments on real servers: the facts its cells print hold, run after run."""

from __future__ import annotations

import json
import random
from types import SimpleNamespace

import nbformat
import pytest

import labkit
from labkit.production.eviction import Workload, about, compare_policies, eviction_table
from labkit.production.failover import failover_drill
from labkit.production.memory import (
    GIB,
    format_bytes,
    lesson_payload,
    measure_sessions,
    node_memory,
    realistic_payload,
    sessions_per_gib,
    smallest_node,
)
from labkit.production.replicas import ReplicaPair, rounded_share, stale_by_gap, stale_reads
from labkit.production.servers import start_server, stop_servers
from tests.support import ROOT


@pytest.fixture(autouse=True)
def _no_server_left():
    yield
    assert stop_servers() == 0, "an experiment left a server running"


def test_payloads_are_seeded_and_the_realistic_one_is_about_a_kilobyte() -> None:
    assert realistic_payload(3, random.Random(1)) == realistic_payload(3, random.Random(1))
    assert 900 <= len(json.dumps(realistic_payload(3, random.Random(1)))) <= 1_100
    assert lesson_payload(1, random.Random(0)) == {"user_id": "user-0000001", "logged_in": True}


def test_sizes_and_sizing_arithmetic() -> None:
    assert [format_bytes(n) for n in (46, 1_218, 5 * 1024**2, 3.5 * GIB)] == ["46 B", "1.2 KiB", "5.0 MiB", "3.50 GiB"]
    assert node_memory(1_000_000, 750) == pytest.approx(1e9)
    assert sessions_per_gib(768) == 2**30 * 3 // 4 // 768
    assert smallest_node(2 * GIB) == "cache.t4g.medium"
    assert smallest_node(10**12) == "more than one node (shard, cluster mode)"


def test_a_session_costs_more_than_its_json_and_the_delta_more_than_memory_usage(server_binary) -> None:
    measured = []
    for payload in (lesson_payload, realistic_payload):
        with start_server("sizing") as server:
            measured.append(measure_sessions(server.client(), payload, sessions=5_000))
    lesson, realistic = measured
    assert lesson.used_memory_delta > lesson.memory_usage > 2 * lesson.json_bytes
    assert realistic.used_memory_delta > realistic.memory_usage > realistic.json_bytes
    assert realistic.used_memory_delta > 4 * lesson.used_memory_delta


def test_the_eviction_table_holds_its_structural_facts(server_binary) -> None:
    small = Workload(boards=5, players_each=500, sessions=1_000, logins=2_000, room=500)
    by = {r.policy: r for r in compare_policies(work=small)}
    assert by["volatile-lru"].players_lost == 0 < by["volatile-lru"].sessions_lost
    assert by["volatile-ttl"].players_lost == 0 < by["volatile-ttl"].sessions_lost
    assert by["allkeys-lru"].players_lost > 0
    assert by["noeviction"].sessions_lost == by["noeviction"].players_lost == 0 < by["noeviction"].writes_refused
    assert all(r.writes_refused == 0 for r in by.values() if r.policy != "noeviction")
    assert "volatile-lru" in eviction_table(list(by.values()))


def test_every_login_is_kept_evicted_or_refused_and_every_eviction_is_counted(server_binary) -> None:
    """The counts add up: no eviction happens between the reads (the limit is lifted before counting)."""
    small = Workload(boards=4, players_each=500, sessions=1_000, logins=2_000, room=400)
    for r in compare_policies(work=small):
        assert r.sessions_written + r.writes_refused == small.sessions + small.logins, r
        boards_lost = r.players_lost // small.players_each
        assert r.evicted_keys == r.sessions_lost + boards_lost, r


def _notebook_cells(*needles: str) -> list[str]:
    """The sources of notebook 04's code cells holding each of `needles`, in that order."""
    cells = nbformat.read(ROOT / "notebooks" / "04_production.ipynb", as_version=4).cells
    return [next(c.source for c in cells if c.cell_type == "code" and needle in c.source) for needle in needles]


def test_the_full_node_cell_prints_counts_that_add_up_to_the_logins(server_binary) -> None:
    """Notebook 04, section 2: sessions kept + evicted == the 2,000 logins, run after run (the cell asserts it too)."""
    setup, logins = _notebook_cells('start_server("full")', "evicted_keys")
    for _ in range(3):
        cell = {"labkit": labkit, "json": json, "lesson": SimpleNamespace(used_memory_delta=242)}
        exec(setup, cell)  # noqa: S102 - the notebook's own cells, on a server they start
        try:
            exec(logins, cell)  # noqa: S102
            assert cell["kept"] + cell["evicted"] == 2_000 and 0 < cell["kept"] < 500
            assert cell["f"].zcard("board:week-01") == 1_000
        finally:
            cell["full"].stop()


def test_rounding_keeps_zero_exact() -> None:
    assert [about(0), about(40), about(3_102), about(4_055)] == ["0", "about 1,000", "about 3,000", "about 4,000"]
    assert [rounded_share(0), rounded_share(0.01), rounded_share(0.96), rounded_share(1)] == ["0%", "10%", "100%", "100%"]


def test_a_replica_read_at_once_misses_and_both_fixes_do_not(server_binary) -> None:
    with ReplicaPair(delay=0.02) as pair:
        assert stale_reads(pair.p, pair.r, trials=50).share > 0.5
        assert stale_reads(pair.p, pair.p, trials=50).stale == 0
        assert stale_reads(pair.p, pair.r, trials=10, wait=True).stale == 0
        by_gap = stale_by_gap(pair.p, pair.r, gaps_ms=(0, 80), trials=5)
        assert by_gap[0].stale > 0 and by_gap[1].stale == 0


def test_a_failover_loses_exactly_the_writes_after_the_cut_unless_they_waited(server_binary) -> None:
    without = failover_drill(wait=False, logins=30, cut_after=20)
    assert (without.confirmed, without.confirmed_after_cut, without.lost) == (30, 10, 10)
    with_wait = failover_drill(wait=True, logins=30, cut_after=20, timeout_ms=250)
    assert (with_wait.confirmed_after_cut, with_wait.lost) == (0, 0) and with_wait.confirmed <= 20
    assert with_wait.latency.p50 >= 2 * 0.0005  # one round trip through the link at least
