"""Who is in the class: names as the roster gives them, and the safe ids their namespaces are made from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labkit.backend.keyspace import FALLBACK_LEARNER, LEARNER_MAX_LENGTH, LEARNER_USER_PREFIX, id_is_shortened, learner_id, learner_prefix
from labkit.errors import ClassroomError

MAX_CLASS = 1000


@dataclass(frozen=True)
class Learner:
    """A learner as named in the roster, and the safe id their namespace and user are made from."""

    name: str
    id: str

    @property
    def user(self) -> str:
        """Their Redis ACL user name: lab-<id>."""
        return LEARNER_USER_PREFIX + self.id

    @property
    def prefix(self) -> str:
        """Their key and channel namespace: lab:<id>:."""
        return learner_prefix(self.id)


def read_roster(path: Path) -> list[Learner]:
    """Learners from a UTF-8 text file, one name per line ('#' comments and blank lines ignored)."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise ClassroomError(f"cannot read the roster {path}: {exc.strerror}; give a text file, one name per line") from None
    except UnicodeDecodeError:
        raise ClassroomError(f"the roster {path} is not UTF-8 text: save it as UTF-8 (e.g. 'CSV UTF-8' or "
                             "'Unicode text' in a spreadsheet or editor) and try again") from None
    named = [(number, line.strip()) for number, line in enumerate(lines, 1)
             if line.strip() and not line.strip().startswith("#")]
    if not named:
        raise ClassroomError(f"the roster {path} names nobody: write one learner per line")
    if len(named) > MAX_CLASS:
        raise ClassroomError(f"the roster {path} names {len(named)} learners; a class has at most {MAX_CLASS}")
    learners: list[Learner] = []
    seen: dict[str, tuple[int, str]] = {}
    for number, name in named:
        learner = Learner(name, learner_id(name))
        if learner.id == FALLBACK_LEARNER and name.lower() != FALLBACK_LEARNER:
            raise ClassroomError(f"{path}:{number}: {name!r} has no letters usable in a key name (Latin, "
                                 "Greek or Cyrillic letters, digits): add a Latin spelling to the line")
        if learner.id in seen:
            raise ClassroomError(f"{path}:{seen[learner.id][0]} {seen[learner.id][1]!r} and {path}:{number} "
                                 f"{name!r} would share the learner id {learner.id!r}: make the names differ "
                                 "(e.g. add an initial)")
        seen[learner.id] = (number, name)
        learners.append(learner)
    return learners


def shortened(learners: list[Learner]) -> list[str]:
    """A note for each learner whose id leaves out part of their name (names over 32 characters)."""
    return [f"note: {learner.name!r} has the learner id {learner.id!r} (ids keep at most "
            f"{LEARNER_MAX_LENGTH} characters, ending at a whole word where one fits)"
            for learner in learners if id_is_shortened(learner.name)]


def numbered(count: int) -> list[Learner]:
    """`count` anonymous learners: learner01, learner02, ..."""
    if not 1 <= count <= MAX_CLASS:
        raise ClassroomError(f"a class of {count}? give a count from 1 to {MAX_CLASS}")
    width = max(2, len(str(count)))
    return [Learner(f"learner{i:0{width}d}", f"learner{i:0{width}d}") for i in range(1, count + 1)]
