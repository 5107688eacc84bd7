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
from labkit.config import ENV_JUPYTERHUB_USER, ENV_LEARNER, ENV_PREFIX, redis_url
from labkit.errors import BadArgument

FALLBACK_LEARNER = "learner"
LEARNER_MAX_LENGTH = 32
LEARNER_USER_PREFIX = "lab-"  # the Redis ACL user of a learner on a class server: lab-<learner>
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")
_NOT_SAFE = re.compile(r"[^a-z0-9_-]+")
# Letters that Unicode does not decompose into a base letter plus accents, spelled as their languages
# write them in ASCII (NFKD turns 'é' into 'e' + accent; it leaves 'ø' alone, so it would be lost).
_LETTERS = {
    "ø": "o", "ł": "l", "ß": "ss", "æ": "ae", "œ": "oe", "þ": "th", "ð": "d", "đ": "d", "ħ": "h",
    "ı": "i", "ŀ": "l", "ŧ": "t", "ŋ": "ng", "ĸ": "k", "ſ": "s", "ə": "e", "ɛ": "e", "ɔ": "o",
    # Cyrillic (a common romanisation) and Greek, so those names keep their letters too.
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
    "ь": "", "э": "e", "ю": "yu", "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g",
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i", "κ": "k",
    "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p", "ρ": "r", "σ": "s", "ς": "s", "τ": "t",
    "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o",
}


def _ascii(name: str) -> str:
    """`name` lowercased in ASCII letters: accents dropped, other letters transliterated ('Søren' -> 'soren')."""
    lowered = unicodedata.normalize("NFKD", name.strip().lower())
    spelled = "".join(_LETTERS.get(char, char) for char in lowered)
    return unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode()


def learner_id(name: str) -> str:
    """`name` as a safe namespace segment: a-z, 0-9, '_' and '-' ('Søren Kierkegaard' -> 'soren-kierkegaard').

    Letters are transliterated, not dropped (ø -> o, ł -> l, ß -> ss, æ -> ae, þ -> th, Cyrillic,
    Greek). Beyond 32 characters the id ends at the last whole word that fits; a single word longer
    than that is cut, which `id_is_shortened` reports so the instructor can be told.
    """
    safe = _NOT_SAFE.sub("-", _ascii(name)).strip("-_")
    if len(safe) > LEARNER_MAX_LENGTH:
        cut = safe[:LEARNER_MAX_LENGTH + 1]
        words = cut.rsplit("-", 1)[0] if "-" in cut else ""
        safe = words if words else safe[:LEARNER_MAX_LENGTH]
    return safe.strip("-_") or FALLBACK_LEARNER


def id_is_shortened(name: str) -> bool:
    """True when `learner_id(name)` left out some of the name's words or letters (a name over 32 characters)."""
    return len(_NOT_SAFE.sub("-", _ascii(name)).strip("-_")) > LEARNER_MAX_LENGTH


def current_learner() -> str:
    """Who runs the lab, as a safe namespace segment.

    In this order: $LABKIT_LEARNER; else, when $REDIS_URL logs in as a class user `lab-<learner>`,
    that learner; else $JUPYTERHUB_USER (each user of a JupyterHub, even when every container runs
    as `jovyan`); else the login name.
    """
    name = os.environ.get(ENV_LEARNER, "").strip()
    user = urlsplit(redis_url()).username or ""
    if not name and user.startswith(LEARNER_USER_PREFIX):
        name = user[len(LEARNER_USER_PREFIX):]
    if not name:
        name = os.environ.get(ENV_JUPYTERHUB_USER, "").strip()
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
