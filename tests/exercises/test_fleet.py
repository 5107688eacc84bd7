"""Notebook 01's checks, judged on a corpus of answers learners write: each with its verdict and hint words.

Every answer is compiled as a notebook cell would be (so hints that name "line N of your cell" are
checked), and every check runs on each backend leg: their progress is recorded there, and one
right answer to 01.3 keeps its sessions in Redis.
"""

from __future__ import annotations

import pytest

from labkit import Keyspace
from labkit.exercises.fleet import check_logout_share, check_logouts_if_stopped, check_shared_store_factory
from tests.exercises.test_checking import answer

STUB = "raise NotImplementedError  # your code here"

# -- 01.1: logout_share(servers) --------------------------------------------------------------------
LOGOUT_SHARE = [
    # right, in different styles
    ("def logout_share(servers):\n    return (servers - 1) / servers", True, ["predicted 0.00, 0.50, 0.75, 0.83"]),
    ("def logout_share(servers):\n    return 1 - 1 / servers", True, ["round-robin fleets measured"]),
    ("from fractions import Fraction\n\ndef logout_share(servers):\n    return Fraction(servers - 1, servers)",
     True, ["0.75"]),
    ("def logout_share(servers):\n    if servers == 1:\n        return 0\n    other = servers - 1\n"
     "    return other / servers", True, ["1, 2, 4 and 6 servers"]),
    ("from labkit import Fleet, Traffic\n\ndef logout_share(servers):  # measured, not reasoned: still right\n"
     "    fleet = Fleet(servers=servers, policy='round_robin', seed=3)\n"
     "    records = fleet.run(1_000, Traffic(users=100, seed=3))\n"
     "    carried = [r for r in records if r.carried_cookie]\n"
     "    return sum(r.logged_out for r in carried) / len(carried)", True, ["passed"]),
    # wrong, as learners write them
    (f"def logout_share(servers):\n    {STUB}", False, ["still has its stub"]),
    ("def logout_share(servers):\n    return 2 / 3", False, ["whatever the number of servers", "0.50 for 2"]),
    ("def logout_share(servers):\n    return 1 / servers", False, ["1 in n", "do not reach it"]),
    ("def logout_share(servers):\n    return 100 * (servers - 1) / servers", False, ["percentages", "0.5"]),
    ("def logout_share(servers):\n    return servers - 1", False, ["between 0 and 1", "0.00, 1.00, 3.00, 5.00"]),
    ("def logout_share(servers):\n    return (servers - 1) / (servers + 1)", False,
     ["for 2 servers you predicted 0.33", "measured 0.50", "one server (of 2)"]),
    ("def logout_share(servers):\n    return 1 - 1 / (servers - 1)", False,
     ["your code raised ZeroDivisionError at line 2 of your cell", "return 1 - 1 / (servers - 1)"]),
    ("def logout_share(servers):\n    return f'{(servers - 1) / servers:.0%}'", False,
     ["returned '0%', a str", "return a number"]),
    ("def logout_share(servers):\n    share = (servers - 1) / servers", False, ["returned None", "return a number"]),
    ("def logout_share(servers):\n    return servers > 1", False, ["returned False, a bool"]),
    ("def logout_share(servers):\n    return 0.0 if servers == 1 else 2 / 3", False,
     ["for 2 servers you predicted 0.67", "measured 0.50"]),
]

# -- 01.2: logouts_if_stopped(fleet) -----------------------------------------------------------------
LOGOUTS_IF_STOPPED = [
    ("def logouts_if_stopped(fleet):\n"
     "    return {name: sum(fleet.logged_in(user) for user in fleet.pinned_to(name)) for name in fleet.names}",
     True, ["exactly the users you predicted", "app-3 handles the most requests, yet losing app-1"]),
    ("from collections import Counter\n\ndef logouts_if_stopped(fleet):\n"
     "    return Counter(fleet.balancer.pinned(browser) for browser in fleet.browsers.values()\n"
     "                   if browser.session_cookie is not None)", True, ["passed"]),
    ("def logouts_if_stopped(fleet):\n    counts = {}\n    for server in fleet.servers:\n"
     "        counts[server.name] = len([u for u in fleet.pinned_to(server.name) if fleet.logged_in(u)])\n"
     "    return counts", True, ["passed"]),
    ("def logouts_if_stopped(fleet):\n    counts = dict.fromkeys(fleet.names, 0)\n"
     "    for user, browser in fleet.browsers.items():\n"
     "        if 'lb' in browser.cookies and fleet.logged_in(user):\n"
     "            counts[browser.cookies['lb'].value] += 1\n    return counts", True, ["passed"]),
    ("def logouts_if_stopped(fleet):  # the last server each user reached is where it is pinned\n"
     "    last = {record.user: record.server for record in fleet.records}\n"
     "    counts = {name: 0 for name in fleet.names}\n"
     "    for user, server in last.items():\n        if fleet.logged_in(user):\n            counts[server] += 1\n"
     "    return counts", True, ["passed"]),
    ("def logouts_if_stopped(fleet):  # the sessions each server holds in its memory\n"
     "    return {name: len(fleet.server(name).store) for name in fleet.names}", True, ["passed"]),
    # wrong
    (f"def logouts_if_stopped(fleet):\n    {STUB}", False, ["still has its stub"]),
    ("def logouts_if_stopped(fleet):\n    return {name: len(fleet.pinned_to(name)) for name in fleet.names}",
     False, ["every user pinned to each server", "nothing to lose"]),
    ("def logouts_if_stopped(fleet):\n    return fleet.summary().requests", False,
     ["requests each server has handled", "logs out users"]),
    ("def logouts_if_stopped(fleet):\n    return fleet.summary().logouts", False,
     ["you predicted nobody", "0 for every server", "stopping app-"]),
    ("def logouts_if_stopped(fleet):\n    holding = sum(fleet.logged_in(u) for u in fleet.browsers)\n"
     "    return {name: holding for name in fleet.names}", False, ["every server all", "holding a session"]),
    ("def logouts_if_stopped(fleet):\n"
     "    return {name: [u for u in fleet.pinned_to(name) if fleet.logged_in(u)] for name in fleet.names}",
     False, ["list of users", "give their number"]),
    ("def logouts_if_stopped(fleet):\n    counts = {n: sum(fleet.logged_in(u) for u in fleet.pinned_to(n)) "
     "for n in fleet.names}\n    return max(counts, key=counts.get)", False, ["returned the name 'app-1'", "dict"]),
    ("def logouts_if_stopped(fleet):\n"
     "    return {server: len(fleet.pinned_to(server.name)) for server in fleet.servers}", False,
     ["AppServer objects", "fleet.names"]),
    ("def logouts_if_stopped(fleet):\n    return {name: sum(fleet.logged_in(u) for u in fleet.pinned_to(name))\n"
     "            for name in ['app-1', 'app-2', 'app-3']}", False,
     ["fleet of 4 servers", "your dict has no entry for app-4, yet stopping app-4 logged out",
      "every server in fleet.names"]),
    ("def logouts_if_stopped(fleet):\n    counts = {}\n    for name in fleet.names[:-1]:  # one short\n"
     "        counts[name] = sum(fleet.logged_in(u) for u in fleet.pinned_to(name))\n    return counts", False,
     ["fleet of 3 servers", "no entry for app-3, yet stopping app-3 logged out 13 users"]),
    ("def logouts_if_stopped(fleet):\n    return {name: sum(not fleet.logged_in(u) for u in fleet.pinned_to(name))\n"
     "            for name in fleet.names}", False, ["for app-1 you predicted 1, but stopping it logged out 16"]),
    ("def logouts_if_stopped(fleet):\n    return {name: fleet.pinned_to(name).count() for name in fleet.names}", False,
     ["your code raised TypeError at line 2 of your cell"]),
]

# -- 01.3: shared_store_factory(name) --------------------------------------------------------------
SHARED_STORE = [
    ("shared_store = MemorySessionStore()\n\ndef shared_store_factory(name):\n    return shared_store", True,
     ["logged out nobody", "restart of every server"]),
    ("one_store = MemorySessionStore()\nshared_store_factory = lambda name: one_store", True, ["passed"]),
    ("def shared_store_factory(name, _store=MemorySessionStore()):\n    return _store", True, ["passed"]),
    ("class OneStore:\n    def __init__(self):\n        self.store = MemorySessionStore()\n"
     "    def __call__(self, name):\n        return self.store\n\nshared_store_factory = OneStore()", True, ["passed"]),
    ("def shared_store_factory(name):\n    if not hasattr(shared_store_factory, 'store'):\n"
     "        shared_store_factory.store = MemorySessionStore()\n    return shared_store_factory.store",
     True, ["passed"]),
    ("import secrets\nSESSIONS = {}\n\nclass DictStore:  # a new object each time, one dict behind them all\n"
     "    def create(self, data):\n        sid = secrets.token_urlsafe(32)\n        SESSIONS[sid] = dict(data)\n"
     "        return sid\n    def get(self, sid):\n        data = SESSIONS.get(sid)\n"
     "        return None if data is None else dict(data, cart=list(data['cart']))\n"
     "    def save(self, sid, data):\n        SESSIONS[sid] = dict(data)\n"
     "    def delete(self, sid):\n        return SESSIONS.pop(sid, None) is not None\n\n"
     "def shared_store_factory(name):\n    return DictStore()", True, ["passed"]),
    ("from labkit import RedisSessionStore\nredis_store = RedisSessionStore(space)  # notebook 02's way\n"
     "shared_store_factory = lambda name: redis_store", True, ["passed"]),
    # wrong
    (f"def shared_store_factory(name):\n    {STUB}", False, ["still has its stub"]),
    ("def shared_store_factory(name):\n    return MemorySessionStore()", False,
     ["made a new store on every call", "two calls for app-1 gave two different stores",
      "which store would its call have to return?"]),
    ("def shared_store_factory(name):\n    return MemorySessionStore", False,
     ["the class MemorySessionStore itself", "how many stores should that make?"]),
    ("shared = MemorySessionStore()\n\ndef shared_store_factory(name):\n    shared", False, ["returned None", "`return`"]),
    ("stores = {}\n\ndef shared_store_factory(name):\n    if name not in stores:\n"
     "        stores[name] = MemorySessionStore()\n    return stores[name]", False,
     ["gave each server a store of its own", "app-1 always gets one, app-2 another"]),
    ("import functools\n\n@functools.cache\ndef shared_store_factory(name):\n    return MemorySessionStore()", False,
     ["gave each server a store of its own"]),
    ("def shared_store_factory(name):\n    global shared\n    shared = MemorySessionStore()\n    return shared", False,
     ["made a new store on every call"]),
    ("def shared_store_factory(name):\n    global shared\n    if name == 'app-1':\n"
     "        shared = MemorySessionStore()\n    return shared", False,
     ["after app-1 restarted", "users were logged out", "not a new one"]),
    ("def shared_store_factory(name):\n    return {}", False, ["returned dict {}, which has no create, save, delete"]),
    ("class MyStore(MemorySessionStore):\n    def get(self, session_id):\n        data = super().get(session_id)\n"
     "        return data['user_id']  # the lesson's field name\n\nthe_store = MyStore()\n"
     "shared_store_factory = lambda name: the_store", False,
     ["your code raised KeyError at line 4 of your cell", "return data['user_id']", "'user_id'"]),
    ("class MyStore(MemorySessionStore):\n    def get(self, session_id):\n        data = super().get(session_id)\n"
     "        return data and data['user']\n\nthe_store = MyStore()\nshared_store_factory = lambda name: the_store",
     False, ["its get returned 'check-01.3' for that id"]),
    ("class MyStore(MemorySessionStore):\n    def save(self, session_id, data):\n"
     "        data['cart'] = data['cart'] + data['item']\n        super().save(session_id, data)\n\n"
     "the_store = MyStore()\nshared_store_factory = lambda name: the_store", False,
     ["of 600 requests failed: KeyError: 'item'", "the first at line 3 of your cell", "data['cart'] + data['item']"]),
    ("class Forgetful(MemorySessionStore):\n    def get(self, session_id):\n        return None\n\n"
     "forgetful = Forgetful()\nshared_store_factory = lambda name: forgetful", False,
     ["its get returned None for that id"]),
    ("import copy\n\nclass Fading(MemorySessionStore):  # forgets every session a moment after creating it\n"
     "    def __init__(self):\n        super().__init__()\n        self.reads = 0\n"
     "    def get(self, session_id):\n        self.reads += 1\n"
     "        return super().get(session_id) if self.reads == 1 else None\n\n"
     "shared_store_factory = lambda name, _s=Fading(): _s", False, ["logged users out", "unknown on the next"]),
]

# A hint says what the answer did and asks the question that leads on: never the fix itself, nor
# "you predicted 0" for a server the answer left out.
GIVEAWAYS = ("ONE store", "outside the function", "once, outside", "return that same store", "you predicted 0,")

CHECKS = {"01.1": check_logout_share, "01.2": check_logouts_if_stopped, "01.3": check_shared_store_factory}
NAMES = {"01.1": "logout_share", "01.2": "logouts_if_stopped", "01.3": "shared_store_factory"}
CORPUS = [pytest.param(exercise_id, *case, id=f"{exercise_id}-{'right' if case[1] else 'wrong'}-{n}")
          for exercise_id, cases in (("01.1", LOGOUT_SHARE), ("01.2", LOGOUTS_IF_STOPPED), ("01.3", SHARED_STORE))
          for n, case in enumerate(cases)]


def test_each_corpus_is_big_enough() -> None:
    for cases in (LOGOUT_SHARE, LOGOUTS_IF_STOPPED, SHARED_STORE):
        assert sum(right for _, right, _ in cases) >= 4 and sum(not right for _, right, _ in cases) >= 6


@pytest.mark.parametrize("exercise_id, source, right, words", CORPUS)
def test_the_check_judges_each_answer_by_what_it_does(exercise_id: str, source: str, right: bool, words: list[str],
                                                      space: Keyspace, capsys: pytest.CaptureFixture[str]) -> None:
    learner_answer = answer(source, NAMES[exercise_id], space=space)
    result = CHECKS[exercise_id](learner_answer)
    out, err = capsys.readouterr()
    assert bool(result) is right, result.message
    assert result.message.startswith(f"{'✓' if right else '✗'} Exercise {exercise_id}")
    missing = [word for word in words if word not in result.message]
    assert not missing, f"the hint lacks {missing}: {result.message}"
    given_away = [words for words in GIVEAWAYS if words in result.message]
    assert not given_away, f"the hint spells the fix ({given_away}) or names what the answer did not do: {result.message}"
    assert out == result.message + "\n" and err == "", "one line, and nothing on stderr (no traceback, no Flask log)"
