"""Checks for notebook 01's exercises: counting logged-out users, and who a server failure logs out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from labkit.exercises.checking import NotYet, exercise
from labkit.fleet.balancer import Policy
from labkit.fleet.fleet import Fleet
from labkit.fleet.records import Record, logged_out_users, logouts
from labkit.fleet.traffic import Traffic


def _played(policy: Policy, seed: int, requests: int, users: int, skew: float = 0.0) -> Fleet:
    fleet = Fleet(servers=3, policy=policy, seed=seed)
    fleet.run(requests, Traffic(users=users, skew=skew, seed=seed))
    return fleet


@exercise("01.1", "count the users a round-robin fleet logged out")
def check_count_logged_out(count_logged_out: Callable[[Sequence[Record]], int]) -> str:
    """Try the learner's function on a fresh round-robin run and a sticky one (which logs nobody out)."""
    records = _played("round_robin", seed=7, requests=200, users=80, skew=1.0).records
    expected = len(logged_out_users(records))
    answer = count_logged_out(records)
    if not isinstance(answer, int) or isinstance(answer, bool):
        raise NotYet(f"your function returned {answer!r}; return a whole number (an int) of users.")
    if answer == logouts(records) and answer != expected:
        raise NotYet(f"you returned {answer}, the number of requests that logged someone out; the "
                     f"question is how many different users that was: collect `record.user` in a set.")
    if answer != expected:
        raise NotYet(f"your function returned {answer} on a round-robin run of 200 requests where "
                     f"{expected} different users were logged out; a request logged its user out "
                     "when `record.logged_out` is True.")
    sticky = _played("sticky", seed=7, requests=200, users=80, skew=1.0).records
    if (again := count_logged_out(sticky)) != 0:
        raise NotYet(f"on a sticky fleet, where nobody is logged out, your function returned {again}; "
                     "count only requests whose `record.logged_out` is True.")
    return (f"{expected} different users were logged out in 200 round-robin requests "
            f"({logouts(records)} logouts in all), and none with sticky sessions.")


@exercise("01.2", "predict who a server failure logs out")
def check_users_at_risk(users_at_risk: Callable[[Fleet, str], list[str]]) -> str:
    """Compare the learner's prediction with what actually happens when the server stops."""
    fleet = _played("sticky", seed=11, requests=800, users=80, skew=1.0)
    for user in fleet.pinned_to("app-2")[:3:2]:  # two users pinned there chose to log out
        fleet.post(user, "/logout")
    answer = users_at_risk(fleet, "app-2")
    if not isinstance(answer, list) or answer != sorted(answer):
        raise NotYet(f"your function returned a {type(answer).__name__}; return a sorted list of user names.")
    pinned = set(fleet.pinned_to("app-2"))
    at_risk = sorted(u for u in pinned if fleet.logged_in(u))
    if stray := [u for u in answer if u not in pinned]:
        raise NotYet(f"{stray[0]} is not pinned to app-2 (its affinity cookie names "
                     f"{fleet.balancer.pinned(fleet.browser(stray[0]))}); look at `fleet.pinned_to(server)`.")
    if idle := [u for u in answer if not fleet.logged_in(u)]:
        raise NotYet(f"{len(idle)} of the users you listed (e.g. {idle[0]}) hold no session right now, so "
                     "they have nothing to lose; keep only users where `fleet.logged_in(user)` is True.")
    if missed := [u for u in at_risk if u not in answer]:
        raise NotYet(f"you missed {len(missed)} of the {len(at_risk)} logged-in users pinned to app-2, "
                     f"e.g. {missed[0]}.")
    fleet.stop("app-2")
    fleet.records.clear()
    for user in sorted(fleet.browsers):
        if fleet.logged_in(user):
            fleet.get(user, "/profile")
    actually = logged_out_users(fleet.records)
    if actually != answer:  # the prediction must match what the failure really did
        raise NotYet(f"you predicted {len(answer)} users; stopping app-2 logged out {len(actually)}.")
    return (f"you predicted {len(answer)} users at risk, and stopping app-2 logged out exactly those "
            f"{len(actually)}: every logged-in user pinned there, and nobody else.")


@exercise("01.3", "give every server one shared store")
def check_shared_store_factory(store_factory: Callable[[str], Any]) -> str:
    """A round-robin fleet built with the learner's factory must log nobody out, even across a restart."""
    first, second = store_factory("app-1"), store_factory("app-2")
    missing = [m for m in ("create", "get", "save", "delete") if not callable(getattr(first, m, None))]
    if missing:
        raise NotYet(f"your factory returned {first!r}, which has no {', '.join(missing)}; return a session "
                     "store such as a MemorySessionStore.")
    if first is not second:
        raise NotYet("your factory gave app-1 and app-2 two different stores, so each server still has its "
                     "own memory; create ONE store outside the function and return that same store every time.")
    fleet = Fleet(servers=3, policy="round_robin", store_factory=store_factory, seed=5)
    fleet.run(600, Traffic(users=50, seed=5))
    if lost := logouts(fleet.records):
        raise NotYet(f"round-robin over your stores still logged users out {lost} times in 600 requests.")
    holding = sorted(u for u in fleet.browsers if fleet.logged_in(u))
    fleet.restart("app-2")
    after = [fleet.get(u, "/profile") for u in holding]
    if lost := logouts(after):
        raise NotYet(f"after app-2 restarted, {lost} of {len(holding)} users were logged out; the factory "
                     "must return the existing store, not build a new one.")
    return (f"600 round-robin requests and a restart of app-2 logged out nobody: all 3 servers read "
            f"one store ({len(holding)} users still logged in).")
