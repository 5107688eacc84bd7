"""What an answer sends to Redis: the commands inside a packed request, and the keys its writes create.

The checks of notebook 02 watch the checking thread's requests (through `requests_hooked`, which
sees every redis-py and fakeredis client in the process, whichever object sends) to judge an answer
by what it sent, and to remove the keys it created wherever it put them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from labkit.backend.connection import Client
from labkit.sessions.races import requests_hooked

__all__ = ["CreatedKeys", "command_names", "commands", "created_keys_removed"]

# Commands that can create a key, with its name right after the command's name.
_CREATES_FIRST = frozenset({
    "SET", "SETEX", "PSETEX", "SETNX", "GETSET", "SETRANGE", "APPEND", "INCR", "INCRBY", "INCRBYFLOAT", "DECR",
    "DECRBY", "HSET", "HSETNX", "HMSET", "HINCRBY", "SADD", "LPUSH", "RPUSH", "ZADD", "ZINCRBY", "XADD", "PFADD",
})
_CREATES_PAIRS = frozenset({"MSET", "MSETNX"})  # MSET key value key value ...


def commands(packed: Any) -> list[list[bytes]]:
    """The commands in a packed RESP request (one command, or a pipeline's batch), each as its arguments."""
    if isinstance(packed, (bytes, bytearray, memoryview, str)):
        packed = [packed]
    data = b"".join(p.encode() if isinstance(p, str) else bytes(p) for p in packed)
    found, at = [], 0
    try:
        while at < len(data) and data[at:at + 1] == b"*":
            end = data.index(b"\r\n", at)
            count, at = int(data[at + 1:end]), end + 2
            args = []
            for _ in range(count):
                end = data.index(b"\r\n", at)
                size = int(data[at + 1:end])
                args.append(data[end + 2:end + 2 + size])
                at = end + 2 + size + 2
            found.append(args)
    except ValueError:
        pass
    return found


def command_names(packed: Any) -> list[str]:
    """The command names in a packed RESP request, upper case: ['MULTI', 'SET', 'EXEC']."""
    return [args[0].decode(errors="replace").upper() for args in commands(packed) if args]


def _created_by(args: list[bytes]) -> list[bytes]:
    """The keys a command can create (its name first)."""
    name = args[0].decode(errors="replace").upper() if args else ""
    if name in _CREATES_FIRST and len(args) > 1:
        return [args[1]]
    if name in _CREATES_PAIRS:
        return args[1::2]
    return []


class CreatedKeys:
    """Notes each key the checking thread's writes create, asking the server (EXISTS) the first time a key is seen.

    Keys under `keep_prefix` are the check's own to clear and cost no question.
    """

    def __init__(self, client: Client, keep_prefix: str) -> None:
        self.client = client
        self.keep_prefix = keep_prefix.encode()
        self.created: list[bytes] = []
        self._seen: set[bytes] = set()
        self._thread = threading.get_ident()

    def before_send(self, packed: Any) -> None:
        """Hook: before a request leaves, note which of the keys it writes do not exist yet."""
        if threading.get_ident() != self._thread:
            return
        new = list(dict.fromkeys(key for args in commands(packed) for key in _created_by(args)
                                 if not key.startswith(self.keep_prefix) and key not in self._seen))
        if not new:
            return
        self._seen.update(new)
        pipe = self.client.pipeline(transaction=False)
        for key in new:
            pipe.exists(key)
        self.created.extend(key for key, found in zip(new, pipe.execute()) if not found)

    def remove(self) -> int:
        """DEL the keys noted as created; how many were deleted."""
        if not self.created:
            return 0
        pipe = self.client.pipeline(transaction=False)
        for key in self.created:  # one DEL per key: on a cluster they live in different slots
            pipe.delete(key)
        return sum(pipe.execute())


@contextmanager
def created_keys_removed(client: Client, keep_prefix: str) -> Iterator[CreatedKeys]:
    """While inside, note the keys the checking thread's requests create on `client`'s server; DEL them on the way out."""
    created = CreatedKeys(client, keep_prefix)
    try:
        with requests_hooked(created.before_send):
            yield created
    finally:
        created.remove()
