"""Checks for notebook 01's exercises: predict the logout share, predict who a failure logs out, share one store.

Each check judges what the answer does: its predictions against fleets that are then really run
(and really stopped), and a store factory by the requests a fleet built with it serves.
"""

from __future__ import annotations

import decimal
import functools
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

from labkit.exercises.checking import NotYet, call, collect_failures, exercise
from labkit.fleet.fleet import AppServer, Fleet
from labkit.fleet.records import logged_out_users, logouts
from labkit.fleet.traffic import Traffic

STORE_METHODS = ("create", "get", "save", "delete")

# -- 01.1 ------------------------------------------------------------------------------------------
SHARE_SERVERS = (1, 2, 4, 6)  # 3 is worked out in the notebook
SHARE_TOLERANCE = 0.05  # these seeded runs measure within 0.01 of the exact share; other seeds within 0.035


@functools.cache
def measured_logout_share(servers: int) -> float:
    """The share of requests carrying a session that a round-robin fleet logged out (even traffic)."""
    fleet = Fleet(servers=servers, policy="round_robin", seed=0)
    records = fleet.run(1_000, Traffic(users=100, seed=0))
    carried = [r for r in records if r.carried_cookie]
    return sum(r.logged_out for r in carried) / len(carried)


def _as_share(value: object, servers: int) -> float:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, decimal.Decimal)):
        raise NotYet(f"for {servers} servers your function returned {value!r}, a {type(value).__name__}; "
                     "return a number: the share as a fraction from 0 to 1, such as 0.5.")
    share = float(value)
    if not math.isfinite(share):
        raise NotYet(f"for {servers} servers your function returned {share}; return a share from 0 to 1.")
    return share


@exercise("01.1", "predict the logout share for any number of servers")
def check_logout_share(logout_share: Callable[[int], float]) -> str:
    """Compare the learner's `logout_share(servers)` with round-robin fleets of 1, 2, 4 and 6 servers."""
    predicted = {n: _as_share(call(logout_share, n), n) for n in SHARE_SERVERS}
    measured = {n: measured_logout_share(n) for n in SHARE_SERVERS}
    shown = ", ".join(f"{predicted[n]:.2f}" for n in SHARE_SERVERS)
    if any(p > 1 for p in predicted.values()):
        if all(abs(predicted[n] / 100 - measured[n]) <= SHARE_TOLERANCE for n in SHARE_SERVERS):
            raise NotYet(f"your predictions for {', '.join(map(str, SHARE_SERVERS))} servers were {shown}: "
                         "percentages, it seems; return the share as a fraction from 0 to 1 (50% is 0.5).")
        raise NotYet(f"your predictions for {', '.join(map(str, SHARE_SERVERS))} servers were {shown}, but a "
                     "share lies between 0 and 1: the requests logged out divided by all requests carrying a session.")
    if any(p < 0 for p in predicted.values()):
        raise NotYet(f"your predictions were {shown}; a share of requests cannot be negative.")
    if len(set(predicted.values())) == 1:
        raise NotYet(f"you predicted {predicted[1]:.2f} whatever the number of servers, but the fleets measured "
                     + ", ".join(f"{measured[n]:.2f} for {n}" for n in SHARE_SERVERS)
                     + ": the share depends on how many servers take turns.")
    if all(abs(predicted[n] - 1 / n) <= SHARE_TOLERANCE for n in SHARE_SERVERS):
        raise NotYet("you predicted 1 in n, the chance that the next request reaches the one server holding the "
                     "session; the question is the share of requests that do not reach it, and are logged out.")
    if abs(predicted[1] - measured[1]) > SHARE_TOLERANCE:
        raise NotYet(f"for 1 server you predicted {predicted[1]:.2f}, but with one server every request reaches "
                     "the server holding its session: nobody is logged out.")
    for n in SHARE_SERVERS:
        if abs(predicted[n] - measured[n]) > SHARE_TOLERANCE:
            raise NotYet(f"for {n} servers you predicted {predicted[n]:.2f}, but the fleet measured "
                         f"{measured[n]:.2f}; how likely is a user's next request to reach the one server "
                         f"(of {n}) that holds their session?")
    return (f"you predicted {shown} for {', '.join(map(str, SHARE_SERVERS[:-1]))} and {SHARE_SERVERS[-1]} servers; "
            "round-robin fleets measured " + ", ".join(f"{measured[n]:.2f}" for n in SHARE_SERVERS) + ".")


# -- 01.2 ------------------------------------------------------------------------------------------
FAILURE_SCENARIOS = ((3, 9), (4, 0))  # (servers, seed): the second catches answers written for 3 servers


def sticky_scenario(servers: int, seed: int) -> Fleet:
    """A sticky fleet after skewed traffic, where a few users pinned to each server chose to log out."""
    fleet = Fleet(servers=servers, policy="sticky", seed=seed)
    fleet.run(400, Traffic(users=60, skew=1.2, seed=seed))
    for k, name in enumerate(fleet.names, start=1):
        for user in [u for u in fleet.pinned_to(name) if fleet.logged_in(u)][:k]:
            fleet.post(user, "/logout")
    return fleet


@functools.cache
def logged_out_by_stopping(servers: int, seed: int) -> dict[str, int]:
    """For each server of the scenario: how many users a stop of that server really logs out."""
    measured = {}
    for name in sticky_scenario(servers, seed).names:
        fleet = sticky_scenario(servers, seed)
        fleet.stop(name)
        after = [fleet.get(user, "/profile") for user in sorted(fleet.browsers) if fleet.logged_in(user)]
        measured[name] = len(logged_out_users(after))
    return measured


def _as_counts(answer: object, fleet: Fleet) -> dict[str, int]:
    """The learner's answer as {server name: count}; a server it leaves out counts 0 (as in a Counter).

    Whether it left a server out is told apart by `_missing`, so a hint can say so rather than "you predicted 0".
    """
    if isinstance(answer, str):
        raise NotYet(f"your function returned the name {answer!r}; return a dict with a count for every "
                     f"server, such as {{'app-1': 12, 'app-2': 9, ...}}.")
    if not isinstance(answer, Mapping):
        raise NotYet(f"your function returned a {type(answer).__name__}; return a dict mapping each server's "
                     "name to how many users its failure would log out.")
    if any(isinstance(key, AppServer) for key in answer):
        raise NotYet("your dict's keys are AppServer objects; use the servers' names (fleet.names) as keys.")
    if stray := [key for key in answer if key not in fleet.names]:
        raise NotYet(f"your dict has a key {stray[0]!r}, but this fleet's servers are {', '.join(fleet.names)}.")
    counts = {}
    for name in fleet.names:
        value = answer.get(name, 0)
        if isinstance(value, (list, set, tuple, frozenset)):
            raise NotYet(f"for {name} you gave a {type(value).__name__} of users; give their number (len of it).")
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise NotYet(f"for {name} you gave {value!r}; give a whole number of users.")
        counts[name] = int(value)
    return counts


def _missing(answer: Mapping[str, Any], measured: dict[str, int]) -> str:
    """A hint for servers the answer left out although stopping them logs users out; '' if there are none."""
    left_out = [name for name in measured if name not in answer and measured[name]]
    if not left_out:
        return ""
    name = left_out[0]
    also = f" (and {', '.join(left_out[1:])})" if left_out[1:] else ""
    return (f"your dict has no entry for {name}{also}, yet stopping {name} logged out {measured[name]} users: "
            f"give a count for every server in fleet.names ({', '.join(measured)}).")


def _diagnose(counts: dict[str, int], measured: dict[str, int], fleet: Fleet) -> str:
    """What this wrong prediction counted instead, as far as it can be told."""
    summary = fleet.summary()
    pinned = {name: len(fleet.pinned_to(name)) for name in fleet.names}
    holding = sum(fleet.logged_in(user) for user in fleet.browsers)
    if counts == summary.requests:
        return ("these are the requests each server has handled so far; a failure logs out users, however many "
                "requests they sent.")
    if counts == pinned:
        name = next(n for n in fleet.names if pinned[n] != measured[n])
        return (f"these count every user pinned to each server: for {name} you said {counts[name]}, but stopping "
                f"it logged out {measured[name]}. Who among its users had nothing to lose?")
    if all(value == holding for value in counts.values()):
        return (f"you gave every server all {holding} users holding a session; a failure logs out only those "
                "the balancer sends to that server.")
    if not any(counts.values()):
        name = max(measured, key=measured.__getitem__)
        return (f"you predicted nobody: 0 for every server. Yet stopping {name} logged out {measured[name]} users; "
                "while its servers run, a sticky fleet logs nobody out, but a failure does.")
    name = next(n for n in fleet.names if counts[n] != measured[n])
    return f"for {name} you predicted {counts[name]}, but stopping it logged out {measured[name]}."


@exercise("01.2", "predict how many users each server's failure logs out")
def check_logouts_if_stopped(logouts_if_stopped: Callable[[Fleet], Mapping[str, int]]) -> str:
    """The learner's prediction for every server of two sticky fleets, against really stopping each one."""
    for servers, seed in FAILURE_SCENARIOS:
        fleet = sticky_scenario(servers, seed)
        answer = call(logouts_if_stopped, fleet)
        counts = _as_counts(answer, fleet)
        measured = logged_out_by_stopping(servers, seed)
        if counts != measured:
            why = _missing(answer, measured) or _diagnose(counts, measured, sticky_scenario(servers, seed))
            raise NotYet(f"on a sticky fleet of {servers} servers, {why}")
    servers, seed = FAILURE_SCENARIOS[0]
    measured = logged_out_by_stopping(servers, seed)
    requests = sticky_scenario(servers, seed).summary().requests
    busiest, worst = max(requests, key=requests.__getitem__), max(measured, key=measured.__getitem__)
    shown = ", ".join(f"{name} {count}" for name, count in measured.items())
    moral = (f"; {busiest} handles the most requests, yet losing {worst} logs out the most users"
             if busiest != worst else "")
    return (f"stopping each server of a 3-server and a 4-server sticky fleet logged out exactly the users you "
            f"predicted ({shown}){moral}.")


# -- 01.3 ------------------------------------------------------------------------------------------
def _check_store(store: object) -> None:
    if isinstance(store, type):
        raise NotYet(f"your factory returned the class {store.__name__} itself, not a store: a store is what "
                     f"calling the class, {store.__name__}(), makes. And when three servers each call your "
                     "factory, how many stores should that make?")
    if store is None:
        raise NotYet("your factory returned None: did it forget to `return` the store?")
    missing = [m for m in STORE_METHODS if not callable(getattr(store, m, None))]
    if missing:
        raise NotYet(f"your factory returned {type(store).__name__} {store!r:.40}, which has no "
                     f"{', '.join(missing)}; return a session store, such as a MemorySessionStore.")


def _probe(store: Any) -> None:
    """Store a session and read it back, as an app server will: what get returns must be what create stored."""
    data = {"user": "check-01.3", "cart": ["mug"]}
    session_id = call(store.create, dict(data, cart=list(data["cart"])))
    if not isinstance(session_id, str) or not session_id:
        raise NotYet(f"your store's create returned {session_id!r}; it must return the new session's id (a str).")
    again = call(store.get, session_id)
    if again != data:
        raise NotYet(f"your store's create stored {data}, but its get returned {again!r:.60} for that id; "
                     "get must return the session's data (a dict), or None only for an unknown id.")
    call(store.delete, session_id)


@exercise("01.3", "give every server one shared store")
def check_shared_store_factory(store_factory: Callable[[str], Any]) -> str:
    """A round-robin fleet built with the learner's factory logs nobody out, across a restart of every server."""
    store = call(store_factory, "app-1")
    _check_store(store)
    _probe(store)
    with collect_failures() as failures:
        fleet = Fleet(servers=3, policy="round_robin", store_factory=store_factory, seed=5)
        records = fleet.run(600, Traffic(users=50, seed=5))
    if failures:
        raise NotYet(f"{failures.summary(len(records))}. The app servers call your store's create, get, save "
                     "and delete as users log in, browse, fill their carts and log out.")
    logins = [r for r in records if r.path == "/login"]
    if not any(r.status == 200 for r in logins):
        raise NotYet(f"none of {len(logins)} logins succeeded (status {logins[0].status}): "
                     f"{logins[0].body}.")
    recognised = sum(r.recognised for r in records)
    if lost := logouts(records):
        stores = [call(store_factory, name) for name in ("app-1", "app-1", "app-2")]
        if stores[0] is not stores[1]:
            raise NotYet(f"round-robin over your stores logged users out {lost} times in 600 requests: your "
                         "factory made a new store on every call (two calls for app-1 gave two different "
                         "stores), so each server keeps its sessions in a memory of its own. A session app-1 "
                         "created must be found by app-2: which store would its call have to return?")
        if stores[0] is not stores[2]:
            raise NotYet(f"round-robin over your stores logged users out {lost} times in 600 requests: your "
                         "factory gave each server a store of its own (app-1 always gets one, app-2 another), so "
                         "a session lives only in the memory of the server that created it. A session app-1 "
                         "created must be found by app-2: which store would its call have to return?")
        raise NotYet(f"round-robin over your store logged users out {lost} times in 600 requests: a session "
                     "created on one server was unknown on the next.")
    if not recognised:
        raise NotYet("no request was ever recognised as logged in: does your store's get return what create stored?")
    holding = sorted(u for u in fleet.browsers if fleet.logged_in(u))
    for name in fleet.names:  # a rolling restart, as a deploy does
        fleet.restart(name)
        with collect_failures() as failures:
            after = [fleet.get(user, "/profile") for user in holding]
        if failures or (lost := logouts(after)):
            what = failures.summary(len(after)) if failures else f"{lost} of {len(holding)} users were logged out"
            raise NotYet(f"after {name} restarted, {what}: when a server starts again, the factory must return "
                         "the store that already holds the sessions, not a new one.")
    return (f"600 round-robin requests ({recognised} recognised as logged in) and a restart of every server "
            f"logged out nobody: all 3 servers read one store ({len(holding)} users still logged in).")
