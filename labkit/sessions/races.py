"""Lost updates: two or more app servers read-modify-write one session, in a forced order, so every count is exact.

Servers run as threads, but their Redis requests take turns: a server sends one request, reads its
reply, and when it comes back to send another, the next server gets the turn. So "every server
reads, then every server writes" happens on every run and machine, however fast the network is,
and a race prints the same numbers each time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis.connection

from labkit.errors import BadArgument, NoSuchSession
from labkit.sessions.payload import decode, encode
from labkit.sessions.redis_store import RedisSessionStore

Updater = Callable[[RedisSessionStore, str], None]
SendHook = Callable[[Any], None]

_hooks: list[SendHook] = []  # the active hooks, innermost last
_local = threading.local()
_Connection = redis.connection.AbstractConnection
_original_send = _Connection.send_packed_command
_original_connect = _Connection.connect_check_health  # opens the socket, then the handshake (HELLO, CLIENT ...)


@contextmanager
def _nested() -> Iterator[int]:
    depth = getattr(_local, "depth", 0)
    _local.depth = depth + 1
    try:
        yield depth
    finally:
        _local.depth = depth


def _send_packed_command(conn: Any, command: Any, check_health: bool = True) -> Any:
    """Every redis-py (and fakeredis) request leaves through here; hooks see each top-level request once."""
    with _nested() as depth:
        if depth == 0:
            for hook in list(_hooks):
                hook(command)
        return _original_send(conn, command, check_health)


def _connect_check_health(conn: Any, *args: Any, **kwargs: Any) -> Any:
    """A connection's handshake is part of the request that needed it, not a request of its own."""
    with _nested():
        return _original_connect(conn, *args, **kwargs)


@contextmanager
def requests_hooked(hook: SendHook) -> Iterator[None]:
    """Call `hook(packed_request)` before each request any client in this process sends, while inside.

    A request sent from inside a hook, or while connecting, is not hooked again.
    """
    _hooks.append(hook)
    setattr(_Connection, "send_packed_command", _send_packed_command)  # noqa: B010 - patched for the duration only
    setattr(_Connection, "connect_check_health", _connect_check_health)  # noqa: B010
    try:
        yield
    finally:
        _hooks.remove(hook)
        if not _hooks:
            setattr(_Connection, "send_packed_command", _original_send)  # noqa: B010
            setattr(_Connection, "connect_check_health", _original_connect)  # noqa: B010


class Turnstile:
    """Makes the registered threads' Redis requests take turns, one request each, in a fixed order."""

    def __init__(self) -> None:
        self._order: list[int] = []
        self._turn = 0  # index into _order
        self._sent: set[int] = set()  # threads that have used their current turn
        self._cond = threading.Condition()

    def join(self) -> None:
        """Register the calling thread (before any of them sends)."""
        with self._cond:
            self._order.append(threading.get_ident())

    def leave(self) -> None:
        """The calling thread is done: its turn, if it has it, passes on."""
        me = threading.get_ident()
        with self._cond:
            at = self._order.index(me)
            self._order.remove(me)
            self._sent.discard(me)
            if at < self._turn:
                self._turn -= 1
            if self._order:
                self._turn %= len(self._order)
            self._cond.notify_all()

    def before_send(self, _command: Any) -> bool:
        """Wait for the calling thread's turn to send; False (at once) for a thread not registered."""
        me = threading.get_ident()
        with self._cond:
            if me not in self._order:
                return False
            if me in self._sent:  # back for another request: the turn passes on, then we wait for ours
                self._sent.discard(me)
                self._turn = (self._order.index(me) + 1) % len(self._order)
                self._cond.notify_all()
            while self._order[self._turn] != me:
                self._cond.wait()
            self._sent.add(me)
            return True


@dataclass(frozen=True)
class Walkthrough:
    """A scripted interleaving of two servers each adding one item to a session's cart."""

    schedule: str
    steps: tuple[str, ...]
    cart: tuple[str, ...]
    lost: tuple[str, ...]

    def __str__(self) -> str:
        lost = f"lost {', '.join(map(repr, self.lost))}" if self.lost else "nothing lost"
        return "\n".join([*self.steps, f"final cart: {list(self.cart)}: {lost}"])


def walkthrough(store: RedisSessionStore, session_id: str, schedule: str = "ABAB",
                items: dict[str, str] | None = None) -> Walkthrough:
    """Run servers A and B through `schedule`: a server's first letter is its GET, its second its SET.

    "ABAB" is read A, read B, write A, write B: B writes back the cart it read before A's item
    arrived, so A's item is lost. "AABB" runs them one after the other and loses nothing.
    """
    items = items or {"A": "book", "B": "pen"}
    if sorted(schedule) != sorted(2 * "".join(sorted(items))):
        raise BadArgument(f"schedule {schedule!r} must name each of {sorted(items)} exactly twice (read, then write)")
    seen: dict[str, dict[str, Any]] = {}
    steps = []
    for number, server in enumerate(schedule, 1):
        if server not in seen:
            seen[server] = _read(store, session_id)
            steps.append(f"{number}. server {server} reads   cart = {seen[server]['cart']}")
        else:
            data = seen[server]
            data["cart"] = [*data["cart"], items[server]]
            _write(store, session_id, data)
            steps.append(f"{number}. server {server} writes  cart = {data['cart']}  (added {items[server]!r})")
    cart = tuple(_read(store, session_id)["cart"])
    return Walkthrough(schedule, tuple(steps), cart, tuple(i for i in items.values() if i not in cart))


def racy_increment(store: RedisSessionStore, session_id: str, field: str = "views") -> None:
    """GET, add one, SET XX KEEPTTL: the naive read-modify-write, two requests with a gap between them."""
    key = store.key(session_id)
    data = json.loads(store.client.get(key))
    data[field] = data.get(field, 0) + 1
    store.client.set(key, json.dumps(data), xx=True, keepttl=True)


def atomic_increment(store: RedisSessionStore, session_id: str, field: str = "views") -> None:
    """The same change through `store.update` (WATCH/MULTI): a conflicting write makes it retry."""
    store.update(session_id, lambda data: data.update({field: data.get(field, 0) + 1}))


@dataclass(frozen=True)
class RaceResult:
    """How many of the increments sent by concurrent servers the session kept."""

    servers: int
    sent: int
    kept: int
    requests: int

    @property
    def lost(self) -> int:
        return self.sent - self.kept

    def __str__(self) -> str:
        return (f"{self.servers} servers sent {self.sent} increments: {self.kept} kept, {self.lost} lost "
                f"({self.requests} requests to Redis)")


def race(store: RedisSessionStore, updater: Updater, servers: int = 4, updates_each: int = 5,
         field: str = "views") -> RaceResult:
    """`servers` threads each apply `updater` `updates_each` times to one fresh session, their requests taking turns.

    Turns make the worst overlap happen every time: all servers read, then all write. The counts
    are the same on every run, machine and network.
    """
    if servers < 1 or updates_each < 1:
        raise BadArgument(f"a race needs at least one server and one update each, got {servers} and {updates_each}")
    session_id = store.create({field: 0})
    turnstile = Turnstile()
    registered = threading.Barrier(servers)
    errors: list[BaseException] = []
    count = [0]
    lock = threading.Lock()

    def counted(command: Any) -> None:
        if turnstile.before_send(command):
            with lock:
                count[0] += 1

    def server() -> None:
        turnstile.join()
        registered.wait()
        try:
            for _ in range(updates_each):
                updater(store, session_id)
        except BaseException as exc:  # noqa: BLE001 - surfaced below, not lost in a thread
            errors.append(exc)
        finally:
            turnstile.leave()

    threads = [threading.Thread(target=server) for _ in range(servers)]
    try:
        with requests_hooked(counted):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:  # the count and the end of the session in one request; the session is in no user's index
        raw = store.client.execute_command("GETDEL", store.key(session_id), NEVER_DECODE=True)
    if errors:
        raise errors[0]
    if raw is None:
        raise _gone(session_id)
    kept = decode(store.key(session_id), raw)[field]
    return RaceResult(servers, servers * updates_each, kept, count[0])


def _read(store: RedisSessionStore, session_id: str) -> dict[str, Any]:
    data = store.get(session_id)
    if data is None:
        raise _gone(session_id)
    return data


def _write(store: RedisSessionStore, session_id: str, data: dict[str, Any]) -> None:
    """The naive write a server sends: SET XX KEEPTTL of the whole session, one request."""
    if not store.client.set(store.key(session_id), encode(data), xx=True, keepttl=True):
        raise _gone(session_id)


def _gone(session_id: str) -> NoSuchSession:
    return NoSuchSession(f"the race's session {session_id[:6]}… is gone (expired or deleted)")
