"""Notebook 04's checks pass right answers written in different styles and name the slip in the usual wrong ones.

04.1 is arithmetic; 04.2 runs on a primary and a replica the check starts itself (skipped without a
server binary). Both record progress on the lab's Redis, so each runs with fakeredis and a real server as that.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest
import redis

from labkit.exercises.production import check_save_session_durably, check_users_per_node
from tests.production.conftest import server_binary  # noqa: F401 - the fixture: skips without a server binary
from tests.support import LEGS


@pytest.fixture(params=["fakeredis", "redis-server"])
def lab_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The lab's Redis the checks record progress on: the embedded fakeredis, then a real server."""
    url = "" if request.param == "fakeredis" else request.getfixturevalue("real_redis_url")
    if not url:
        LEGS.setdefault("fakeredis", "ran")
    monkeypatch.setenv("REDIS_URL", url)
    return url


# --- 04.1 ------------------------------------------------------------------------------------------
def floor_div(node_gib, bytes_per_session, sessions_per_user, reserved_percent):
    for_data = node_gib * 2**30 * (100 - reserved_percent) / 100
    return int(for_data // (bytes_per_session * sessions_per_user))


def math_floor(node_gib, bytes_per_session, sessions_per_user, reserved_percent):
    return math.floor(node_gib * 1024**3 * (1 - reserved_percent / 100) / bytes_per_session / sessions_per_user)


def float_floor_division(node_gib, bytes_per_session, sessions_per_user, reserved_percent):
    return (node_gib * 2**30 * (100 - reserved_percent)) // (100 * bytes_per_session * sessions_per_user)


def exact_fractions(node_gib, bytes_per_session, sessions_per_user, reserved_percent):
    usable = Fraction(str(node_gib)) * 2**30 * Fraction(100 - reserved_percent, 100)
    return int(usable / (bytes_per_session * sessions_per_user))


def no_reserve(node_gib, bytes_per_session, sessions_per_user, reserved_percent):
    return int(node_gib * 2**30 // (bytes_per_session * sessions_per_user))


def percent_as_share(node_gib, bytes_per_session, sessions_per_user, reserved_percent):
    return int(node_gib * 2**30 * (1 - reserved_percent) // (bytes_per_session * sessions_per_user))


def divided_by_1_25(node_gib, bytes_per_session, sessions_per_user, reserved_percent):
    return int(node_gib * 2**30 / (1 + reserved_percent / 100) // (bytes_per_session * sessions_per_user))


def gigabytes(node_gib, bytes_per_session, sessions_per_user, reserved_percent):
    return int(node_gib * 1e9 * (100 - reserved_percent) / 100 // (bytes_per_session * sessions_per_user))


def forgot_devices(node_gib, bytes_per_session, sessions_per_user, reserved_percent):
    return int(node_gib * 2**30 * (100 - reserved_percent) / 100 // bytes_per_session)


def rounded(node_gib, bytes_per_session, sessions_per_user, reserved_percent):
    return round(node_gib * 2**30 * (100 - reserved_percent) / 100 / (bytes_per_session * sessions_per_user))


def unrounded(node_gib, bytes_per_session, sessions_per_user, reserved_percent):
    return node_gib * 2**30 * (100 - reserved_percent) / 100 / (bytes_per_session * sessions_per_user)


def devices_twice(node_gib, bytes_per_session, sessions_per_user, reserved_percent):
    return int(node_gib * 2**30 * (100 - reserved_percent) / 100 / bytes_per_session / sessions_per_user ** 2)


def returns_text(node_gib, bytes_per_session, sessions_per_user, reserved_percent):
    return f"{floor_div(node_gib, bytes_per_session, sessions_per_user, reserved_percent):,} users"


def undefined_name(node_gib, bytes_per_session, sessions_per_user, reserved_percent):
    return int(node_gib * GIB * (100 - reserved_percent) / 100 // (bytes_per_session * sessions_per_user))  # noqa: F821


def sizing_stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize("answer, passed, phrase", [
    (floor_div, True, "4,320,752 users"),
    (math_floor, True, "all four cases match"),
    (float_floor_division, True, "all four cases match"),
    (exact_fractions, True, "all four cases match"),
    (no_reserve, False, "no memory back for the server"),
    (percent_as_share, False, "divide it by 100"),
    (divided_by_1_25, False, "a factor of 0.75"),
    (gigabytes, False, "you counted decimal GB"),
    (forgot_devices, False, "you left out sessions_per_user"),
    (devices_twice, False, "sessions_per_user twice"),
    (rounded, False, "one too many: round down"),
    (unrounded, False, "whole users, rounded down"),
    (returns_text, False, "return a number of users"),
    (undefined_name, False, "your code raised NameError at line"),
    (sizing_stub, False, "stub"),
])
def test_users_per_node_check(lab_url: str, capsys, answer, passed: bool, phrase: str) -> None:
    result = check_users_per_node(answer)
    assert result.passed is passed and phrase in result.message, result.message


# --- 04.2 ------------------------------------------------------------------------------------------
TTL = 8 * 3600


def set_then_wait(client, key, data):  # SET and WAIT may leave over two connections of the pool
    client.set(key, json.dumps(data), ex=TTL)
    return client.wait(1, 100) >= 1


def wait_on_a_fresh_client(client, key, data):
    """Wrong in an app, yet right in effect on Redis 7: the new connection's first command comes after the SET."""
    other = redis.Redis(connection_pool=redis.ConnectionPool(**client.connection_pool.connection_kwargs))
    client.set(key, json.dumps(data), ex=8 * 3600)
    return other.wait(1, 100) >= 1


OTHER_CLIENTS: dict[int, redis.Redis] = {}


def wait_on_a_second_client(client, key, data):
    kwargs = client.connection_pool.connection_kwargs
    other = OTHER_CLIENTS.setdefault(kwargs["port"], redis.Redis(host=kwargs["host"], port=kwargs["port"]))
    client.set(key, json.dumps(data), ex=TTL)
    return other.wait(1, 100) >= 1


def in_a_transaction(client, key, data):  # WAIT inside MULTI never blocks
    pipe = client.pipeline()
    pipe.set(key, json.dumps(data), ex=TTL)
    pipe.wait(1, 100)
    return pipe.execute()[1] >= 1


def single_connection(client, key, data):
    with redis.Redis(connection_pool=client.connection_pool, single_connection_client=True) as one:
        one.set(key, json.dumps(data), ex=TTL)
        return one.wait(1, 100) >= 1


def waits_a_second(client, key, data):
    pipe = client.pipeline(transaction=False)
    pipe.set(key, json.dumps(data), ex=TTL)
    pipe.wait(1, 1000)
    return pipe.execute()[1] >= 1


def waits_five_seconds(client, key, data):
    pipe = client.pipeline(transaction=False)
    pipe.set(key, json.dumps(data), ex=TTL)
    pipe.wait(1, 5000)
    return pipe.execute()[1] >= 1


def seconds_as_fraction(client, key, data):
    pipe = client.pipeline(transaction=False)
    pipe.set(key, json.dumps(data), ex=TTL)
    pipe.wait(1, 0.1)
    return pipe.execute()[1] >= 1


def pipelined(client, key, data):
    pipe = client.pipeline(transaction=False)
    pipe.set(key, json.dumps(data), ex=TTL)
    pipe.wait(1, 200)
    _, replicas = pipe.execute()
    return replicas > 0


def raw_commands(client, key, data):
    pipe = client.pipeline(transaction=False)
    pipe.execute_command("SET", key, json.dumps(data), "EX", TTL)
    pipe.execute_command("WAIT", 1, 150)
    return pipe.execute()[1] == 1


def returns_the_count(client, key, data):
    with client.pipeline(transaction=False) as pipe:
        _, replicas = pipe.set(key, json.dumps(data), px=TTL * 1000).wait(1, 100).execute()
    return replicas


def set_only(client, key, data):
    client.set(key, json.dumps(data), ex=TTL)
    return True


def ignores_wait(client, key, data):
    pipe = client.pipeline(transaction=False)
    pipe.set(key, json.dumps(data), ex=TTL)
    pipe.wait(1, 100)
    pipe.execute()
    return True


def waits_forever(client, key, data):
    pipe = client.pipeline(transaction=False)
    pipe.set(key, json.dumps(data), ex=TTL)
    pipe.wait(1, 0)
    return pipe.execute()[1] >= 1


def wait_before_set(client, key, data):
    pipe = client.pipeline(transaction=False)
    pipe.wait(1, 100)
    pipe.set(key, json.dumps(data), ex=TTL)
    return pipe.execute()[0] >= 1


def no_ttl(client, key, data):
    pipe = client.pipeline(transaction=False)
    pipe.set(key, json.dumps(data))
    pipe.wait(1, 100)
    return pipe.execute()[1] >= 1


def not_json(client, key, data):
    pipe = client.pipeline(transaction=False)
    pipe.set(key, str(data), ex=TTL)
    pipe.wait(1, 100)
    return pipe.execute()[1] >= 1


def waits_for_no_replica(client, key, data):
    pipe = client.pipeline(transaction=False)
    pipe.set(key, json.dumps(data), ex=TTL)
    pipe.wait(0, 100)
    return pipe.execute()[1] >= 0


def too_short_a_timeout(client, key, data):
    pipe = client.pipeline(transaction=False)
    pipe.set(key, json.dumps(data), ex=TTL)
    pipe.wait(1, 1)
    return pipe.execute()[1] >= 1


def returns_the_set_reply(client, key, data):  # one connection, but the SET's OK returned, not WAIT's count
    pipe = client.pipeline(transaction=False)
    pipe.set(key, json.dumps(data), ex=TTL)
    pipe.wait(1, 100)
    return pipe.execute()[0]


def ttl_in_minutes(client, key, data):
    pipe = client.pipeline(transaction=False)
    pipe.set(key, json.dumps(data), ex=8 * 60)
    pipe.wait(1, 100)
    return pipe.execute()[1] >= 1


def ttl_in_milliseconds(client, key, data):
    pipe = client.pipeline(transaction=False)
    pipe.set(key, json.dumps(data), px=8 * 3600)
    pipe.wait(1, 100)
    return pipe.execute()[1] >= 1


def never_confirms(client, key, data):
    client.set(key, json.dumps(data), ex=TTL)
    return False


def dict_as_value(client, key, data):
    pipe = client.pipeline(transaction=False)
    pipe.set(key, data, ex=TTL)
    pipe.wait(1, 100)
    return pipe.execute()[1] >= 1


def durable_stub(client, key, data):
    raise NotImplementedError


@pytest.mark.parametrize("answer, passed, phrase", [
    (pipelined, True, "returned False within 100 ms instead of confirming"),
    (raw_commands, True, "passed"),
    (returns_the_count, True, "passed"),
    (single_connection, True, "passed"),
    (set_then_wait, False, "send the SET and the WAIT over one connection"),
    (wait_on_a_second_client, False, "send the SET and the WAIT over one connection"),
    (wait_on_a_fresh_client, True, "passed"),
    (in_a_transaction, False, "pipeline(transaction=False)"),
    (waits_a_second, False, "the task asks for 100 ms"),
    (waits_five_seconds, False, "took 5"),
    (seconds_as_fraction, False, "whole number of milliseconds"),
    (set_only, False, "No WAIT reached the server"),
    (ignores_wait, False, "cut off your function returned True"),
    (ignores_wait, False, "Your WAIT answered 0"),
    (returns_the_set_reply, False, "not from the SET's reply"),
    (waits_forever, False, "a timeout of 0 waits forever"),
    (wait_before_set, False, "Your WAIT went out before the SET"),
    (no_ttl, False, "has no TTL (TTL answers -1)"),
    (ttl_in_minutes, False, "TTL is 480 s (8 minutes), not the lesson's 8 hours"),
    (ttl_in_milliseconds, False, "s, not the lesson's 8 hours: ex counts seconds"),
    (not_json, False, "json.dumps(data)"),
    (waits_for_no_replica, False, "Your WAIT asked for 0 replicas"),
    (too_short_a_timeout, False, "give WAIT a timeout of 100 ms"),
    (never_confirms, False, "confirmed only 0 of 5"),
    (dict_as_value, False, "your code raised DataError at line"),
    (durable_stub, False, "stub"),
])
@pytest.mark.usefixtures("server_binary")
def test_save_session_durably_check(lab_url: str, capsys, answer, passed: bool, phrase: str) -> None:
    result = check_save_session_durably(answer)
    assert result.passed is passed and phrase in result.message, result.message
    if answer in (returns_the_set_reply, ignores_wait, wait_before_set, waits_for_no_replica):
        assert "over one connection" not in result.message, result.message  # they used one: not the fix
    assert "(-1: none)" not in result.message
