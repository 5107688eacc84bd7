"""The class record: which learners belong to a class, kept on the class server where only the admin reaches it.

The hash `labkit:class:<class>` maps each learner id to the name the roster gave. Learners' users may
touch only `lab:<learner>:*`, so none of them can read or forge it. Every instructor command acts only
on learners found here, named by their exact id: nothing outside the class is ever reset or removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import redis

from labkit.backend.connection import Client
from labkit.backend.keyspace import learner_id
from labkit.classroom.roster import Learner
from labkit.errors import ClassroomError

RECORD_PREFIX = "labkit:class:"
DEFAULT_CLASS = "class"


def check_class_name(name: str) -> str:
    """`name` if it can name a class (a learner-id-like word), else a ClassroomError."""
    if not name or name != learner_id(name):
        raise ClassroomError(f"{name!r} cannot name a class: use lowercase letters, digits, '-' and '_' "
                             f"(e.g. {learner_id(name)!r})")
    return name


@dataclass(frozen=True)
class ClassRecord:
    """One class on one server: its learners by id, read and written by the admin client."""

    admin: Client
    name: str = DEFAULT_CLASS

    @property
    def key(self) -> str:
        """The hash holding this class's learners: labkit:class:<name>."""
        return RECORD_PREFIX + check_class_name(self.name)

    def learners(self) -> dict[str, Learner]:
        """This class's learners by id (HGETALL), sorted by id."""
        try:
            recorded = self.admin.hgetall(self.key)
        except redis.ResponseError as exc:
            raise ClassroomError(f"the class record {self.key} is not a hash ({exc}): it was not written by "
                                 f"labkit; rename that key or choose another class with --class") from None
        return {learner: Learner(name, learner) for learner, name in sorted(recorded.items())}

    def add(self, learners: Sequence[Learner]) -> None:
        """Record `learners` as this class's (HSET id -> roster name)."""
        if learners:
            self.admin.hset(self.key, mapping={learner.id: learner.name for learner in learners})

    def in_other_classes(self, learners: Iterable[Learner]) -> dict[str, str]:
        """Which of `learners` another class on this server already has: learner id -> that class."""
        wanted = {learner.id for learner in learners}
        found: dict[str, str] = {}
        for key in self.admin.scan_iter(match=RECORD_PREFIX + "*", count=1000):
            if key != self.key and self.admin.type(key) == "hash":
                for learner in wanted.intersection(self.admin.hkeys(key)):
                    found[learner] = key[len(RECORD_PREFIX):]
        return found

    def exact(self, given: Sequence[str], action: str) -> list[Learner]:
        """The class's learners named by exactly their ids in `given`; refuse any other name, listing the class."""
        learners = self.learners()
        unknown = [name for name in given if name not in learners]
        if not learners:
            raise ClassroomError(f"class {self.name!r} has no learners on this server (no {self.key}): nothing to "
                                 f"{action}. Create it with `labkit class create`, or name the class with --class")
        if unknown:
            hints = [f"{name!r} (did you mean {learner_id(name)!r}?)" if learner_id(name) in learners else repr(name)
                     for name in unknown]
            raise ClassroomError(f"not a learner id of class {self.name!r}: {', '.join(hints)}; nothing was "
                                 f"{_done(action)}. Give ids exactly as listed: {', '.join(learners)}")
        return [learners[name] for name in dict.fromkeys(given)]


def _done(action: str) -> str:
    return {"reset": "reset", "remove": "removed"}.get(action, "changed")
