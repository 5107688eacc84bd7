"""The lab's own corner of a Redis server: every key under one prefix, and only those removed."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import redis

ENV_PREFIX = "LABKIT_PREFIX"
DEFAULT_PREFIX = "lab:"
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")


def lab_prefix() -> str:
    """The key prefix the lab writes under: $LABKIT_PREFIX, or 'lab:'."""
    return os.environ.get(ENV_PREFIX, DEFAULT_PREFIX)


@dataclass(frozen=True)
class Keyspace:
    """Keys under one prefix on one client. The lab never runs FLUSHDB or FLUSHALL."""

    client: redis.Redis
    prefix: str

    def key(self, *parts: str) -> str:
        """The full key for `parts`, joined with ':' under the prefix."""
        return self.prefix + ":".join(parts)

    def child(self, name: str) -> Keyspace:
        """A nested keyspace, `prefix + name + ':'`."""
        return Keyspace(self.client, self.key(name) + ":")

    def keys(self) -> Iterator[str]:
        """Every key under the prefix, found with SCAN (never KEYS)."""
        if not self.prefix:
            raise ValueError("an empty prefix would match every key on the server")
        yield from self.client.scan_iter(match=_GLOB_SPECIAL.sub(r"\\\1", self.prefix) + "*", count=1000)

    def clear(self) -> int:
        """Delete every key under the prefix, and nothing else; return how many went."""
        removed = 0
        batch: list[str] = []
        for key in self.keys():
            batch.append(key)
            if len(batch) == 500:
                removed += self._delete(batch)
                batch = []
        return removed + (self._delete(batch) if batch else 0)

    def _delete(self, keys: list[str]) -> int:
        # One DEL per key in a pipeline: keys may live in different cluster slots.
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.delete(key)
        return sum(pipe.execute())
