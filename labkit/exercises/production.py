"""Checks for notebook 04's exercises: sizing a node for sessions, and a login that survives a failover.

Check 04.1 calls the learner's function on several node sizes and payloads and compares with the
exact figure, naming the usual slip (reserved memory left out, a percent used as a share, GB for
GiB, the devices per user forgotten). Check 04.2 starts its own primary and replica (a delay link
between them) and judges what the learner's login does: the session is on the replica as soon as
the function returns a true value, and with the link cut it answers False within 750 ms, never True. Its
client sends each command over the next of three connections, as a threaded app server's pool may, so
a WAIT sent on another connection than the SET is caught by what it returns; its connections note each
command and reply, so a hint names what the answer did (WAIT before the SET, WAIT 0, the SET's reply returned).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from labkit.exercises.checking import NotYet, call, exercise
from labkit.production.memory import GIB, LESSON_TTL, session_key
from labkit.production.replicas import LAG, ReplicaPair
from labkit.production.servers import NO_SERVER, ServerFailed, find_server

# (node GiB, bytes per session, sessions per user, reserved percent)
SIZING_CASES = [(13.07, 1_218, 2, 25), (0.5, 244, 1, 25), (26.32, 244, 3, 30), (3.09, 1_500, 1, 0)]


def users_per_node_answer(node_gib: float, bytes_per_session: float, sessions_per_user: float,
                          reserved_percent: float) -> int:
    """The right answer of exercise 04.1."""
    return math.floor(node_gib * GIB * (100 - reserved_percent) / 100 / (bytes_per_session * sessions_per_user))


def _sizing_slip(got: float, case: tuple[float, float, float, float]) -> str:
    node, size, devices, reserved = case
    slips = {
        "you kept no memory back for the server: ElastiCache reserves reserved_percent of the node":
            node * GIB / (size * devices),
        "reserved_percent is a percent (25 means a quarter): divide it by 100 before taking it from 1":
            node * GIB * (1 - reserved) / (size * devices),
        "dividing by 1.25 is not keeping 25% back: the server keeps a quarter, so 75% is left, a factor of 0.75":
            node * GIB / (1 + reserved / 100) / (size * devices),
        "node sizes are in GiB (2**30 bytes), and you counted decimal GB (10**9 bytes)":
            node * 1e9 * (100 - reserved) / 100 / (size * devices),
        "you left out sessions_per_user: each user holds that many sessions, not one":
            node * GIB * (100 - reserved) / 100 / size,
        "you divided by sessions_per_user twice":
            node * GIB * (100 - reserved) / 100 / (size * devices * devices),
    }
    for hint, value in slips.items():
        if abs(got - value) <= max(1.0, abs(value) * 1e-6):
            return hint
    return ""


@exercise("04.1", "How many users a node holds")
def check_users_per_node(users_per_node: Callable[..., Any]) -> str:
    """`users_per_node(node_gib, bytes_per_session, sessions_per_user, reserved_percent)`: whole users a node holds."""
    for case in SIZING_CASES:
        got = users_per_node(*case)
        expected = users_per_node_answer(*case)
        where = "users_per_node({}, {}, {}, {})".format(*case)
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            raise NotYet(f"{where} returned {got!r}: return a number of users.")
        if got == expected:
            continue
        if abs(got - expected) < 1:
            raise NotYet(f"{where} returned {got!r}: return whole users, rounded down (a part of a user's "
                         "sessions does not fit): int(...) or math.floor(...).")
        if got == expected + 1:
            raise NotYet(f"{where} returned {got:,}, one too many: round down (int or //), not up or to the nearest.")
        slip = _sizing_slip(float(got), case)
        raise NotYet(f"{where} returned {got:,.0f}, expected {expected:,}" + (f": {slip}." if slip else
                     ": check each step against the task: the node's bytes (GiB), the share left after the "
                     "reserve, the bytes one user's sessions take, and rounding down."))
    return (f"a cache.r7g.large (13.07 GiB, 25% reserved) holds {users_per_node_answer(*SIZING_CASES[0]):,} users "
            "with two 1,218-byte sessions each; all four cases match.")


class _Watchdog:
    """Runs the learner's function in a thread, so a WAIT that never returns is reported, not a hung notebook."""

    def __init__(self, function: Callable[..., Any], args: tuple[Any, ...], seconds: float) -> None:
        self.result: Any = None
        self.error: BaseException | None = None  # a NotYet naming the learner's exception and line
        thread = threading.Thread(target=self._run, args=(function, args), daemon=True)
        thread.start()
        thread.join(seconds)
        self.finished = not thread.is_alive()

    def _run(self, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            self.result = call(function, *args)
        except NotYet as error:
            self.error = error


@dataclass
class _Sent:
    """One command the learner's function sent through the check's client: on which connection, and the reply."""

    connection: int
    args: list[str]
    reply: Any = None
    in_multi: bool = False

    @property
    def name(self) -> str:
        return self.args[0].upper() if self.args else ""


def _commands(packed: Any) -> list[list[str]]:
    """The commands in a packed RESP request (arrays of bulk strings), as lists of str; [] if it is not one."""
    if isinstance(packed, str):
        packed = packed.encode()
    data = bytes(packed) if isinstance(packed, (bytes, bytearray, memoryview)) else b"".join(bytes(p) for p in packed)
    commands, i = [], 0
    try:
        while data[i:i + 1] == b"*":
            end = data.index(b"\r\n", i)
            count, i = int(data[i + 1:end]), end + 2
            args = []
            for _ in range(count):
                end = data.index(b"\r\n", i)
                length, i = int(data[i + 1:end]), end + 2
                args.append(data[i:i + length].decode(errors="replace"))
                i += length + 2
            commands.append(args)
    except ValueError:
        pass
    return commands


class _RecordingConnection(redis.Connection):
    """A connection that notes each command it sends and the reply it reads back, in `log`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log: list[_Sent] | None = None
        self.number = 0
        self._pending: deque[_Sent] = deque()
        self._in_multi = False

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if self._sock is None:
            self.connect()  # its handshake first, so that the replies read next are those of these commands
        if self.log is not None:
            for args in _commands(command):
                sent = _Sent(self.number, args, in_multi=self._in_multi)
                name = sent.name
                self._in_multi = name == "MULTI" or (self._in_multi and name not in ("EXEC", "DISCARD"))
                self.log.append(sent)
                self._pending.append(sent)
        super().send_packed_command(command, check_health)

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        sent = self._pending.popleft() if self._pending else None
        try:
            reply = super().read_response(*args, **kwargs)
        except Exception as error:
            if sent is not None:
                sent.reply = error
            raise
        if sent is not None:
            sent.reply = reply
        return reply

    def disconnect(self, *args: Any) -> None:
        self._pending.clear()
        self._in_multi = False
        super().disconnect(*args)


class _AppServerPool(redis.ConnectionPool):
    """A pool handing each command the next of a few open connections, as a busy threaded app server's pool would.

    Its connections note what they send and read in `log`: what the learner's function did, to name it in a hint.
    """

    def __init__(self, size: int = 3, **kwargs: Any) -> None:
        super().__init__(connection_class=_RecordingConnection, **kwargs)
        self._ring: list[Any] = []
        self._size = size
        self._turn = 0
        self._ring_lock = threading.Lock()
        self.log: list[_Sent] = []

    def get_connection(self, command_name: Any = None, *keys: Any, **options: Any) -> Any:
        with self._ring_lock:
            if len(self._ring) < self._size:
                connection: Any = self.make_connection()
                connection.connect()
                connection.send_command("PING")  # each connection has run a command before the learner's writes
                connection.read_response()
                connection.number = len(self._ring) + 1
                connection.log = self.log
                self._ring.append(connection)
            connection = self._ring[self._turn % self._size]
            self._turn += 1
        return connection

    def release(self, connection: Any) -> None:
        """Connections stay in the ring."""

    def disconnect(self, inuse_connections: bool = True) -> None:
        for connection in self._ring:
            connection.disconnect()


def _app_client(port: int) -> tuple[redis.Redis, _AppServerPool]:
    """A client to the check's primary whose commands go out over different connections, one after another."""
    pool = _AppServerPool(host="127.0.0.1", port=port, socket_timeout=8, decode_responses=True)
    for _ in range(pool._size):
        pool.release(pool.get_connection("PING"))
    return redis.Redis(connection_pool=pool), pool


def _session_on(client: Any, key: str) -> Any:
    raw = client.get(key)
    try:
        return json.loads(raw) if raw is not None else None
    except ValueError:
        return raw


@exercise("04.2", "A login that survives a failover")
def check_save_session_durably(save_session_durably: Callable[..., Any]) -> str:
    """`save_session_durably(client, key, data)`: JSON with the lesson's TTL; True once a replica has it, else False."""
    if find_server() is None:
        raise NotYet("this check starts a primary and a replica, and no Redis server binary was found. " + NO_SERVER)
    try:
        pair = ReplicaPair(LAG).start()  # 20 ms each way: a read right after the write is sure to miss
    except ServerFailed as error:
        raise NotYet(f"the check could not start its servers: {error}") from None
    try:
        return _judge_durable(save_session_durably, pair)
    finally:
        pair.stop()


_SAME_CONNECTION = ("WAIT counts only the writes of the connection it is sent on, and a client's pool may send "
                    "each command over a different connection: send the SET and the WAIT over one connection")


def _raise_learner_error(error: BaseException) -> None:
    """Re-raise the learner's exception as a hint, naming WAIT's integer milliseconds when that was the slip."""
    if "timeout is not an integer" in str(error.__cause__ or ""):
        raise NotYet("WAIT's timeout is a whole number of milliseconds (WAIT 1 100 waits at most 100 ms), "
                     "not seconds or a fraction: Redis refused it with \"timeout is not an integer\".")
    raise error


def _calls(primary: Any) -> dict[str, int]:
    """How many WAIT and EXEC commands the primary has run (INFO commandstats)."""
    stats = primary.info("commandstats")
    return {name: stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("wait", "exec")}


def _why_unconfirmed(primary: Any, before: dict[str, int], sent: list[_Sent], key: str, result: Any) -> str:
    """Name what the learner's call did instead of confirming its write, from the commands it sent and their replies."""
    after = _calls(primary)
    waits = [s for s in sent if s.name == "WAIT"]
    if not waits and after["wait"] == before["wait"]:
        return "No WAIT reached the server: before answering, let a replica confirm this write."
    if any(w.in_multi for w in waits) or (not waits and after["exec"] > before["exec"]):
        return ("Your WAIT ran inside MULTI/EXEC (client.pipeline() is a transaction by default), where it answers "
                "at once without waiting: use client.pipeline(transaction=False).")
    sets = [i for i, s in enumerate(sent) if s.name == "SET" and s.args[1:2] == [key]]
    if not sets:
        return f"The WAIT you sent did not cover this SET: {_SAME_CONNECTION}."
    written = sets[-1]
    same = [i for i, s in enumerate(sent) if s.name == "WAIT" and s.connection == sent[written].connection]
    after_set = [sent[i] for i in same if i > written]
    if not after_set:
        if same:
            return ("Your WAIT went out before the SET, on the same connection: it confirms only the writes sent "
                    "before it, so it could not confirm this one.")
        return f"The WAIT you sent did not cover this SET: {_SAME_CONNECTION}."
    wait = after_set[0]
    asked = wait.args[1] if len(wait.args) > 1 else "?"
    if asked.isdigit() and int(asked) < 1:
        return (f"Your WAIT asked for {asked} replicas (WAIT {' '.join(wait.args[1:])}), so it answered at once "
                "without waiting for any: ask for the one replica this session must reach.")
    if isinstance(wait.reply, int) and wait.reply < 1:
        return (f"Your WAIT answered {wait.reply} (no replica had the write), yet your function returned "
                f"{result!r}: decide from WAIT's reply, how many replicas have the write, not from the SET's "
                "reply, which is True as soon as the primary has stored it.")
    return f"The WAIT you sent did not cover this SET: {_SAME_CONNECTION}."


def _ttl_slip(ttl: int) -> str:
    """What is wrong with the session's TTL, in words."""
    if ttl == -1:
        return "the session has no TTL (TTL answers -1), so it would never expire: give it the lesson's 8 hours."
    if ttl < 120:
        shown = f"{ttl} s"
    elif ttl < 2 * 3600:
        shown = f"{ttl} s ({ttl / 60:.0f} minutes)"
    else:
        shown = f"{ttl} s ({ttl / 3600:.1f} hours)"
    return f"the session's TTL is {shown}, not the lesson's 8 hours: ex counts seconds, and 8 hours is 8 * 3600 of them."


def _judge_durable(save: Callable[..., Any], pair: ReplicaPair) -> str:
    assert pair.link is not None
    client, pool = _app_client(pair.primary.port)  # as in a threaded app server: commands go out over several connections
    data = {"user_id": "ada", "logged_in": True}
    confirmed = 0
    first = _calls(pair.p)
    for _ in range(5):
        key = session_key()
        before = _calls(pair.p)
        pool.log.clear()
        run = _Watchdog(save, (client, key, data), 3)
        if not run.finished:
            raise NotYet("your function had not returned after 3 s with the replica connected.")
        if run.error is not None:
            _raise_learner_error(run.error)
        on_replica = _session_on(pair.r, key)  # read at once, as the next request would
        on_primary = _session_on(pair.p, key)
        if on_primary is None:
            raise NotYet("the session is not on the primary: store it with a SET of json.dumps(data) and a TTL.")
        if on_primary != data:
            raise NotYet(f"the primary holds {pair.p.get(key)!r}: store json.dumps(data), so json.loads reads it back.")
        ttl = pair.p.ttl(key)
        if not LESSON_TTL - 60 <= ttl <= LESSON_TTL:
            raise NotYet(_ttl_slip(ttl))
        if run.result and on_replica is None:
            raise NotYet("your function returned a true value, but the replica did not have the session yet: a read "
                         "from the reader endpoint would find the user logged out. "
                         + _why_unconfirmed(pair.p, before, list(pool.log), key, run.result))
        confirmed += bool(run.result)
    if confirmed < 3 and _calls(pair.p)["exec"] > first["exec"]:
        raise NotYet(f"with the replica connected your function confirmed only {confirmed} of 5 logins: "
                     + _why_unconfirmed(pair.p, first, list(pool.log), key, run.result))
    if confirmed < 3:  # a machine that stalls past the timeout may make a right answer say False once or twice
        raise NotYet(f"with the replica connected your function confirmed only {confirmed} of 5 logins (the last "
                     f"returned {run.result!r}): return True once WAIT says a replica has the write (this "
                     "replica is 40 ms away, round trip: give WAIT a timeout of 100 ms).")
    pair.link.pause()
    key = session_key()
    before = _calls(pair.p)
    pool.log.clear()
    started = time.monotonic()
    run = _Watchdog(save, (client, key, data), 6)
    took = time.monotonic() - started
    if not run.finished or isinstance(run.error.__cause__ if run.error else None, redis.TimeoutError):
        raise NotYet("with the replica cut off your function had not returned after 6 s: WAIT's timeout is in "
                     "milliseconds, and a timeout of 0 waits forever; the task asks for 100 ms.")
    if run.error is not None:
        _raise_learner_error(run.error)
    if run.result:
        raise NotYet(f"with the replica cut off your function returned {run.result!r}: no replica has this "
                     "session, so a failover now would lose it. "
                     + _why_unconfirmed(pair.p, before, list(pool.log), key, run.result))
    if took > 0.75:
        raise NotYet(f"with the replica cut off your function took {took:.1f} s to return False: WAIT's timeout is "
                     "in milliseconds and the task asks for 100 ms, so a login is refused quickly, not after "
                     "a second or more.")
    return ("with the replica connected the session was there as soon as you returned True; cut off, you "
            "returned False within 100 ms instead of confirming a login a failover would lose.")
