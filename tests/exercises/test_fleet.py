"""Notebook 01's exercise checks pass a right answer and say "not yet" to a stub or a wrong one."""

from __future__ import annotations

import pytest

from labkit import MemorySessionStore
from labkit.exercises.fleet import check_count_logged_out, check_shared_store_factory, check_users_at_risk


def stub(*args: object) -> None:
    raise NotImplementedError


def test_count_logged_out(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_count_logged_out(lambda records: len({r.user for r in records if r.logged_out}))
    assert not check_count_logged_out(stub)
    assert not check_count_logged_out(lambda records: sum(r.logged_out for r in records))
    assert not check_count_logged_out(lambda records: 29)  # right on round-robin, wrong on sticky
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("✓ Exercise 01.1 passed: 29 different users")
    assert "still has its stub" in lines[1]
    assert "the number of requests that logged someone out" in lines[2]
    assert "on a sticky fleet, where nobody is logged out, your function returned 29" in lines[3]


def test_users_at_risk(capsys: pytest.CaptureFixture[str]) -> None:
    right = lambda fleet, server: sorted(u for u in fleet.pinned_to(server) if fleet.logged_in(u))  # noqa: E731
    assert check_users_at_risk(right)
    assert not check_users_at_risk(stub)
    assert not check_users_at_risk(lambda fleet, server: fleet.pinned_to(server))
    assert not check_users_at_risk(lambda fleet, server: right(fleet, server)[1:])
    assert not check_users_at_risk(lambda fleet, server: right(fleet, "app-1"))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("✓ Exercise 01.2 passed")
    assert "hold no session right now" in lines[2]
    assert "you missed 1 of the" in lines[3]
    assert "is not pinned to app-2" in lines[4]


def test_shared_store_factory(capsys: pytest.CaptureFixture[str]) -> None:
    shared = MemorySessionStore()
    assert check_shared_store_factory(lambda name: shared)
    assert not check_shared_store_factory(stub)
    assert not check_shared_store_factory(lambda name: MemorySessionStore())
    assert not check_shared_store_factory(lambda name: object())
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("✓ Exercise 01.3 passed: 600 round-robin requests")
    assert "two different stores" in lines[2]
    assert "which has no create, get, save, delete" in lines[3]
