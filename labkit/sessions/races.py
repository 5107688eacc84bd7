"""Lost updates: two app servers read-modify-write the same session, step by step and with threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from labkit.errors import BadArgument, NoSuchSession
from labkit.sessions.redis_store import RedisSessionStore

Updater = Callable[[RedisSessionStore, str], None]


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
    """Run servers A and B through `schedule`: a server's first letter is its read, its second its write.

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
            store.save(session_id, data)
            steps.append(f"{number}. server {server} writes  cart = {data['cart']}  (added {items[server]!r})")
    cart = tuple(_read(store, session_id)["cart"])
    return Walkthrough(schedule, tuple(steps), cart, tuple(i for i in items.values() if i not in cart))


def racy_increment(store: RedisSessionStore, session_id: str, field: str = "views", pause: float = 0.0005) -> None:
    """GET, add one, SET: the naive read-modify-write. `pause` stands for the app's own work in between."""
    data = _read(store, session_id)
    time.sleep(pause)  # lets another server read the same value meanwhile, as real request handling does
    data[field] = data.get(field, 0) + 1
    store.save(session_id, data)


def atomic_increment(store: RedisSessionStore, session_id: str, field: str = "views", pause: float = 0.0005) -> None:
    """The same change through `store.update` (WATCH/MULTI): a conflicting write makes it retry."""

    def add_one(data: dict) -> None:
        time.sleep(pause)
        data[field] = data.get(field, 0) + 1

    store.update(session_id, add_one)


@dataclass(frozen=True)
class RaceResult:
    """How many of the increments sent by concurrent servers the session kept."""

    servers: int
    sent: int
    kept: int

    @property
    def lost(self) -> int:
        return self.sent - self.kept

    def __str__(self) -> str:
        # How many are lost depends on thread timing, so stored notebook outputs sanitize the counts
        # of a lossy run (tests/sanitize.cfg); a run that loses nothing prints exact figures.
        tail = " (varies from run to run)" if self.lost else ""
        return f"{self.servers} servers sent {self.sent} increments: {self.kept} kept, {self.lost} lost{tail}"


def race(store: RedisSessionStore, updater: Updater, servers: int = 4, updates_each: int = 25,
         field: str = "views") -> RaceResult:
    """Start `servers` threads that each apply `updater` `updates_each` times to one fresh session."""
    session_id = store.create({field: 0})
    start = threading.Barrier(servers)
    errors: list[BaseException] = []

    def server() -> None:
        start.wait()
        try:
            for _ in range(updates_each):
                updater(store, session_id)
        except BaseException as exc:  # noqa: BLE001 - surfaced below, not lost in a thread
            errors.append(exc)

    threads = [threading.Thread(target=server) for _ in range(servers)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        kept = _read(store, session_id)[field]
    finally:
        store.delete(session_id)
    return RaceResult(servers, servers * updates_each, kept)


def _read(store: RedisSessionStore, session_id: str) -> dict[str, Any]:
    data = store.get(session_id)
    if data is None:
        raise NoSuchSession(f"the race's session {session_id[:6]}… is gone (expired or deleted)")
    return data
