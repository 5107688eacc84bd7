"""Boards made from boards: ZUNIONSTORE (merge, with weights and SUM/MAX/MIN) and ZINTERSTORE (players on every board).

Both are multi-key commands, so on a cluster every key (the sources and the destination) must
hash to one slot: give them one hash tag, e.g. `{arcade}:season-1` and `{arcade}:season-2`.
labkit checks the slots before sending and names the keys that differ; a single server has no
slots and takes any keys.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta

from redis.cluster import key_slot
from redis.exceptions import ClusterCrossSlotError

from labkit.backend.connection import is_cluster
from labkit.backend.keyspace import Keyspace
from labkit.errors import BadArgument
from labkit.leaderboards.board import Leaderboard
from labkit.leaderboards.ranking import Aggregate, AggregateName, Order, OrderName
from labkit.leaderboards.validate import check_score, check_ttl


def merge_boards(space: Keyspace, name: str, boards: Sequence[Leaderboard], *,
                 weights: Sequence[float] | None = None, aggregate: Aggregate | AggregateName = Aggregate.SUM,
                 order: Order | OrderName | None = None, ttl: timedelta | float | None = None) -> Leaderboard:
    """A new board `name` holding every player of `boards` (ZUNIONSTORE ... WEIGHTS ... AGGREGATE ...; notebook 03 §6).

    A player's score is the weighted scores of the boards they are on, combined by `aggregate`.
    `order` defaults to the first board's. With `ttl`, EXPIRE in the same MULTI/EXEC.
    """
    return _store("ZUNIONSTORE", space, name, boards, weights, aggregate, order, ttl)


def intersect_boards(space: Keyspace, name: str, boards: Sequence[Leaderboard], *,
                     weights: Sequence[float] | None = None, aggregate: Aggregate | AggregateName = Aggregate.SUM,
                     order: Order | OrderName | None = None, ttl: timedelta | float | None = None) -> Leaderboard:
    """A new board `name` holding only the players on every one of `boards` (ZINTERSTORE, §6), scores combined.

    A combination that is not finite (weights too large) deletes the new board and raises a BadArgument.
    """
    return _store("ZINTERSTORE", space, name, boards, weights, aggregate, order, ttl)


def send_to_one_node(client: object, *command: object) -> str:
    """Send one multi-key command as is (e.g. ZUNIONSTORE) and say what the server answered, refusal included.

    On a cluster the command goes to the node owning its first key, so the server itself judges the
    keys; it answers `CROSSSLOT Keys in request don't hash to the same slot` when their slots differ.
    A single server has no slots and runs it.
    """
    if not is_cluster(client):
        return f"accepted: the reply is {client.execute_command(*command)!r}"  # type: ignore[attr-defined]
    node = client.get_node_from_key(command[1])  # type: ignore[attr-defined]
    try:
        reply = client.execute_command(*command, target_nodes=node)  # type: ignore[attr-defined]
    except ClusterCrossSlotError as refused:
        return f"refused by the cluster: CROSSSLOT {refused}"
    return f"accepted: the reply is {reply!r}"


def check_same_slot(client: object, keys: Sequence[str]) -> None:
    """On a cluster, raise a BadArgument unless every key hashes to one slot (the CROSSSLOT rule)."""
    if not is_cluster(client):
        return
    slots = {key: key_slot(key.encode()) for key in keys}
    if len(set(slots.values())) > 1:
        shown = ", ".join(f"{key!r} (slot {slot})" for key, slot in slots.items())
        raise BadArgument(
            f"on a cluster these keys must share one hash slot, but they do not: {shown}. Give every "
            "board one hash tag, e.g. Leaderboard(space, '{arcade}:daily') and '{arcade}:weekly'"
        )


def _store(command: str, space: Keyspace, name: str, boards: Sequence[Leaderboard],
           weights: Sequence[float] | None, aggregate: Aggregate | AggregateName,
           order: Order | OrderName | None, ttl: timedelta | float | None) -> Leaderboard:
    if not boards or not all(isinstance(b, Leaderboard) for b in boards):
        raise BadArgument(f"{command} needs at least one Leaderboard to combine, got {boards!r:.80}")
    how = Aggregate.of(aggregate)
    factors = None if weights is None else [check_score(w, "weight") for w in weights]
    if factors is not None and len(factors) != len(boards):
        raise BadArgument(f"give one weight per board: {len(boards)} boards, {len(factors)} weights")
    seconds = None if ttl is None else check_ttl(ttl)
    target = Leaderboard(space, name, order=boards[0].order if order is None else Order.of(order))
    keys = [b.key for b in boards]
    check_same_slot(space.client, [target.key, *keys])
    arguments: list[object] = [command, target.key, len(keys), *keys]
    if factors is not None:
        arguments += ["WEIGHTS", *(repr(f) for f in factors)]
    arguments += ["AGGREGATE", how.command_word]
    pipe = space.client.pipeline(transaction=True)
    pipe.execute_command(*arguments)
    pipe.zrange(target.key, 0, 0, withscores=True)
    pipe.zrange(target.key, -1, -1, withscores=True)
    if seconds is not None:
        pipe.expire(target.key, seconds)
    _, lowest, highest = pipe.execute()[:3]
    extremes = [float(s) for _, s in lowest + highest]
    if not all(map(math.isfinite, extremes)):
        target.clear()
        raise BadArgument(f"{command} with weights {factors} gave a score of {max(extremes, key=abs)}: a board "
                          "holds only finite scores, so the new board was deleted; use smaller weights")
    return target
