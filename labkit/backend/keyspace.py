"""The lab's own corner of a Redis server: every key under one prefix, and only those removed.

On a shared server each learner has a namespace of their own, `lab:<learner>:`.
"""

from __future__ import annotations

import getpass
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from labkit.backend.connection import Client
from labkit.config import ENV_LEARNER, ENV_PREFIX, ENV_URL
from labkit.errors import BadArgument

FALLBACK_LEARNER = "learner"
LEARNER_MAX_LENGTH = 32
LEARNER_USER_PREFIX = "lab-"  # the Redis ACL user of a learner on a class server: lab-<learner>
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")
_NOT_SAFE = re.compile(r"[^a-z0-9_-]+")


def learner_id(name: str) -> str:
    """`name` as a safe namespace segment: lowercase a-z, 0-9, '_' and '-' ('Ana María' -> 'ana-maria')."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    safe = _NOT_SAFE.sub("-", ascii_name.strip().lower()).strip("-_")[:LEARNER_MAX_LENGTH].strip("-_")
    return safe or FALLBACK_LEARNER


def current_learner() -> str:
    """Who runs the lab, as a safe namespace segment.

    $LABKIT_LEARNER; else, when $REDIS_URL logs in as a class user `lab-<learner>`, that learner;
    else the login name.
    """
    name = os.environ.get(ENV_LEARNER, "").strip()
    user = urlsplit(os.environ.get(ENV_URL, "")).username or ""
    if not name and user.startswith(LEARNER_USER_PREFIX):
        name = user[len(LEARNER_USER_PREFIX):]
    if not name:
        try:
            name = getpass.getuser()
        except (OSError, KeyError):  # no login name (e.g. a container user without a passwd entry)
            name = FALLBACK_LEARNER
    return learner_id(name)


def learner_prefix(learner: str) -> str:
    """The namespace of one learner on a shared Redis: 'lab:<learner>:'."""
    if learner != learner_id(learner):
        raise BadArgument(f"{learner!r} is not a safe learner id; learner_id() would make it {learner_id(learner)!r}")
    return f"lab:{learner}:"


def lab_prefix() -> str:
    """The key prefix the lab writes under: $LABKIT_PREFIX, or 'lab:<learner>:' (see `current_learner`)."""
    return os.environ.get(ENV_PREFIX) or learner_prefix(current_learner())


@dataclass(frozen=True)
class Keyspace:
    """Keys under one prefix on one client. The lab never runs FLUSHDB or FLUSHALL."""

    client: Client
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
            raise BadArgument("an empty prefix would match every key on the server")
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
