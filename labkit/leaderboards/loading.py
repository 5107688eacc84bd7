"""Bulk loads at the server's own speed: every item checked first, then ZADDs whose encoding overlaps the server's work.

A load of a million players is two jobs in a row per batch: the client encodes `ZADD key score
member ...` (Python), then the server inserts the members (C). Done one after the other, each
waits for the other. Here the main thread encodes batch k+1 into the Redis protocol (RESP) while
a writer thread sends batch k on one connection and the server works on it: the wall time
approaches the larger of the two jobs instead of their sum. Replies are read once everything is
sent. The embedded fakeredis has no socket, so it gets a plain pipeline.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterator

import redis

from labkit.backend.connection import Client, is_cluster, is_fake
from labkit.errors import BadArgument
from labkit.leaderboards.validate import MAX_PLAYER_BYTES, check_player, check_score

_ARG = b"$%d\r\n%b\r\n".__mod__
QUEUED_BATCHES = 4  # encoded batches waiting for the writer: bounds the memory a load holds


def load_scores(client: Client, key: str, items: list[tuple[str, float]], batch: int,
                progress: Callable[[int], None] | None) -> int:
    """ZADD every (player, score) in `items` to `key`, `batch` members per command; return how many.

    Everything is validated before the first byte is sent: bad input changes nothing.
    """
    if not _plainly_valid(items):
        items = [_checked(item) for item in items]
    if not items:
        return 0
    node = _single_node_client(client, key)
    if node is None:
        _load_pipelined(client, key, items, batch, progress)
    else:
        _load_overlapped(node, key, items, batch, progress)
    return len(items)


def _checked(item: object) -> tuple[str, float]:
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        raise BadArgument(f"each item must be a (player, score) pair, got {item!r:.60}")
    player, score = item
    return check_player(player), check_score(score, f"score of {player!r}")


def _single_node_client(client: Client, key: str) -> redis.Redis | None:
    """A plain client for the server holding `key` (a cluster's node), or None for fakeredis."""
    if is_fake(client):
        return None
    if is_cluster(client):
        return client.get_node_from_key(key).redis_connection
    return client


def _load_pipelined(client: Client, key: str, items: list[tuple[str, float]], batch: int,
                    progress: Callable[[int], None] | None) -> None:
    pipe = client.pipeline(transaction=False)
    for start in range(0, len(items), batch):
        pipe.zadd(key, dict(items[start:start + batch]))
        if progress is not None:
            pipe.execute()
            progress(min(start + batch, len(items)))
    pipe.execute()


def _load_overlapped(node: redis.Redis, key: str, items: list[tuple[str, float]], batch: int,
                     progress: Callable[[int], None] | None) -> None:
    connection = node.connection_pool.get_connection()
    outbox: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED_BATCHES)
    failure: list[BaseException] = []

    def writer() -> None:
        while (payload := outbox.get()) is not None:
            if not failure:
                try:
                    connection.send_packed_command([payload], check_health=False)
                except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which raises it
                    failure.append(exc)

    thread = threading.Thread(target=writer, name="labkit-load-writer", daemon=True)
    clean = False
    try:
        connection.send_command("PING")  # connect (and check health) before the writer owns the socket
        connection.read_response()
        thread.start()
        for payload in _payloads(key.encode(), items, batch):
            outbox.put(payload)
            if failure:
                break
        outbox.put(None)
        thread.join()
        if failure:
            raise failure[0]
        for done in range(batch, len(items) + batch, batch):
            connection.read_response()  # raises the server's error (e.g. OOM) as a ResponseError
            if progress is not None:
                progress(min(done, len(items)))
        clean = True
    finally:
        if thread.is_alive():
            outbox.put(None)
            thread.join()
        if not clean:
            connection.disconnect()  # unread replies must not reach the next user of this connection
        node.connection_pool.release(connection)


def _payloads(key: bytes, items: list[tuple[str, float]], batch: int) -> Iterator[bytes]:
    """One RESP-encoded `ZADD key score member ...` per batch, built in C-level passes."""
    for start in range(0, len(items), batch):
        chunk = items[start:start + batch]
        scores = list(map(str.encode, map(repr, (score for _, score in chunk))))
        members = list(map(str.encode, (player for player, _ in chunk)))
        flat = [b""] * (2 * len(chunk))
        flat[0::2] = map(_ARG, zip(map(len, scores), scores))
        flat[1::2] = map(_ARG, zip(map(len, members), members))
        yield b"*%d\r\n$4\r\nZADD\r\n$%d\r\n%b\r\n" % (2 + 2 * len(chunk), len(key), key) + b"".join(flat)


def _plainly_valid(items: list[tuple[str, float]]) -> bool:
    """Fast whole-batch test (C-level passes, no per-item Python): True only if every item is valid.

    False means "look closer": the per-item checks then name the first problem, or convert.
    """
    if not items:
        return True
    if set(map(type, items)) != {tuple} or not all(map((2).__eq__, map(len, items))):
        return False
    players, scores = [p for p, _ in items], [s for _, s in items]
    if not (set(map(type, players)) <= {str} and set(map(type, scores)) <= {int, float}):
        return False
    if not (all(map(str.isascii, players)) and all(map(str.strip, players))
            and max(map(len, players)) <= MAX_PLAYER_BYTES):
        return False
    try:
        return math.isfinite(math.fsum(scores))  # a NaN or an infinity makes the sum non-finite
    except (OverflowError, ValueError):  # huge finite values, huge ints, or inf + -inf
        return False
