"""`labkit class create`: decide each learner's password, then set users, record the class, save, hand out.

Idempotent: a learner whose user exists keeps their password (read back from the existing handout
and checked against the server), so running `create` again, or with a longer roster, changes no
one's login. `rotate` gives everyone named new passwords. Nothing changes on the server until
every learner has been checked.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import redis

from labkit.backend.connection import Client, server_version
from labkit.classroom import users
from labkit.classroom.handout import handout_rows, learner_url, password_of, read_handout, write_handout
from labkit.classroom.record import ClassRecord
from labkit.classroom.roster import Learner
from labkit.errors import ClassroomError

PASSWORD_BYTES = 24  # 192 bits, 32 URL-safe characters (no character a shell or a URL must quote)


@dataclass
class Enrolment:
    """What `create` did: learners kept, added and rotated; whether the aclfile was saved; notes to show."""

    kept: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    rotated: list[str] = field(default_factory=list)
    saved: bool = False
    cards: Path | None = None
    notes: list[str] = field(default_factory=list)


def create_class(admin: Client, record: ClassRecord, learners: Sequence[Learner], handout: Path, base_url: str,
                 *, rotate: bool = False, force: bool = False, scripts: bool = False) -> Enrolment:
    """Give each learner a user (keeping existing passwords unless `rotate`), record them, save, write the handout."""
    learner_url(base_url, learners[0], "")  # a bad learner address stops here, before anything changes
    old_urls = read_handout(handout)
    strangers = sorted(set(old_urls) - {learner.id for learner in learners})
    if strangers and not force:
        raise ClassroomError(f"{handout} holds the passwords of {', '.join(strangers)}, who are not in this roster; "
                             "rewriting it would lose them: give another --handout, or --force to drop them")
    taken = record.in_other_classes(learners)
    if taken:
        raise ClassroomError("already learners of another class on this server: " + ", ".join(
            f"{learner} (class {other!r})" for learner, other in sorted(taken.items())) +
            "; one Redis user serves one class: rename them in the roster, or use that class")
    done = Enrolment(notes=users.memory_warnings(admin))
    passwords: dict[Learner, str] = {}
    missing = []
    try:
        for learner in learners:  # check every user before changing any
            info = users.user_info(admin, learner.user)
            if info is None:  # a new learner, or one removed earlier: their card's password still serves
                passwords[learner] = (password_of(old_urls.get(learner.id, "")) if not rotate else "") or _new_password()
                done.added.append(learner.id)
            elif not users.is_lab_user(info, learner):
                raise ClassroomError(f"a Redis user {learner.user!r} already exists with other keys "
                                     f"({' '.join(info.get('keys') or ['none'])}); it is not a lab user, so nothing "
                                     "was changed: rename the learner in the roster, or delete that user")
            elif rotate:
                passwords[learner] = _new_password()
                done.rotated.append(learner.id)
            elif users.password_works(info, password_of(old_urls.get(learner.id, ""))):
                passwords[learner] = password_of(old_urls[learner.id])
                done.kept.append(learner.id)
            else:
                missing.append(learner.id)
        if missing:
            raise ClassroomError(f"{len(missing)} learners already have users, but their passwords are not in "
                                 f"{handout}: {', '.join(missing)}. Give the handout that holds them (--handout), "
                                 "or --rotate to give them new passwords (their old lines stop working)")
        # The handout first: if anything after fails, it holds the passwords, and running create again sets them.
        version = ".".join(map(str, server_version(admin)))
        done.cards = write_handout(handout, handout_rows(passwords, base_url), version)
        users.set_users(admin, passwords, scripts=scripts)
    except redis.exceptions.NoPermissionError as exc:
        raise ClassroomError(f"this user may not manage Redis users ({exc}): use an admin URL whose user "
                             "may run ACL GETUSER and ACL SETUSER") from None
    record.add(learners)
    done.saved = users.save_users(admin)
    if not done.saved:
        done.notes.append("warning: the server has no aclfile, so these users live in memory only and a restart "
                          "loses them: start it with --aclfile (docs/instructor-guide.md, 'A class server')")
    return done


def _new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)
