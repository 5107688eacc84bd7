"""One Redis for a whole class: an ACL user per learner, handouts, resets and class progress.

Each learner gets the Redis user `lab-<learner>`, allowed only keys and pub/sub channels under
their namespace `lab:<learner>:` and no command that reaches beyond it (FLUSHDB, FLUSHALL, KEYS,
CONFIG, MONITOR, CLIENT LIST/KILL, FUNCTION, SCRIPT FLUSH/KILL/DEBUG ...). SCAN stays allowed,
since the lab clears its own keys with it: a learner can see other learners' key NAMES, never
read or change their values. The instructor runs these through `labkit class` (labkit/classroom/cli.py).
"""

from __future__ import annotations

import csv
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.cluster import RedisCluster

import labkit.exercises  # noqa: F401 - registers every check
from labkit.backend.connection import Client, connect, is_cluster, redact
from labkit.backend.keyspace import FALLBACK_LEARNER, LEARNER_USER_PREFIX, Keyspace, learner_id, learner_prefix
from labkit.config import ENV_LEARNER, ENV_URL
from labkit.errors import ClassroomError
from labkit.exercises import checking as checks

USER_PREFIX = LEARNER_USER_PREFIX  # a learner's Redis user is lab-<learner>
PASSWORD_BYTES = 24  # 192 bits, 32 URL-safe characters
# Everything but what reaches beyond the learner's own keys; INFO back for the notebooks' banner.
COMMAND_RULES = ("+@all", "-@dangerous", "-@admin", "-function", "-script|flush", "-script|kill",
                 "-script|debug", "+info")
HANDOUT_COLUMNS = ("name", ENV_LEARNER, ENV_URL, "shell")
MARKS = {True: "✓", False: "✗", None: "·"}


@dataclass(frozen=True)
class Learner:
    """A learner as named in the roster, and the safe id their namespace and user are made from."""

    name: str
    id: str

    @property
    def user(self) -> str:
        """Their Redis ACL user name."""
        return USER_PREFIX + self.id

    @property
    def prefix(self) -> str:
        """Their key and channel namespace."""
        return learner_prefix(self.id)


def acl_rules(learner: Learner, password: str) -> list[str]:
    """The ACL SETUSER rules of `learner`: their password, their keys and channels, safe commands."""
    pattern = learner.prefix + "*"
    return ["reset", "on", f">{password}", f"~{pattern}", "resetchannels", f"&{pattern}", *COMMAND_RULES]


def read_roster(path: Path) -> list[Learner]:
    """Learners from a text file, one name per line ('#' comments and blank lines ignored)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ClassroomError(f"cannot read the roster {path}: {exc.strerror}") from None
    named = [(number, line.strip()) for number, line in enumerate(lines, 1)
             if line.strip() and not line.strip().startswith("#")]
    if not named:
        raise ClassroomError(f"the roster {path} names nobody: write one learner per line")
    learners: list[Learner] = []
    seen: dict[str, tuple[int, str]] = {}
    for number, name in named:
        learner = Learner(name, learner_id(name))
        if learner.id == FALLBACK_LEARNER and name.lower() != FALLBACK_LEARNER:
            raise ClassroomError(f"{path}:{number}: {name!r} has no letters or digits usable in a key "
                                 f"name (a-z, 0-9, '-', '_'); write it in Latin letters")
        if learner.id in seen:
            raise ClassroomError(f"{path}:{seen[learner.id][0]} {seen[learner.id][1]!r} and {path}:{number} "
                                 f"{name!r} would share the namespace {learner.prefix!r}: make them differ")
        seen[learner.id] = (number, name)
        learners.append(learner)
    return learners


def numbered(count: int) -> list[Learner]:
    """`count` anonymous learners: learner01, learner02, ..."""
    if not 1 <= count <= 1000:
        raise ClassroomError(f"a class of {count}? give a count from 1 to 1000")
    width = max(2, len(str(count)))
    return [Learner(f"learner{i:0{width}d}", f"learner{i:0{width}d}") for i in range(1, count + 1)]


def learner_url(base_url: str, learner: Learner, password: str) -> str:
    """`base_url` (scheme, host, port, database, options) logged in as `learner`."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ClassroomError(f"{redact(base_url)!r} is not a server address learners can use: give "
                             "redis://host:port/0 (or rediss:// for TLS)")
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname or ""
    netloc = f"{learner.user}:{password}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def admin_client(url: str | None = None) -> Client:
    """The instructor's client on the class Redis: `url` or $REDIS_URL, a user allowed ACL SETUSER."""
    url = os.environ.get(ENV_URL, "") if url is None else url
    if not url:
        raise ClassroomError(f"a class needs a real Redis: set {ENV_URL} (or --admin-url) to it with an "
                             "admin user, e.g. redis://admin:PASSWORD@host:6379/0")
    return connect(url)


def create_users(admin: Client, learners: Sequence[Learner]) -> dict[str, str]:
    """Create (or re-create with a new password) each learner's user; return passwords by learner id."""
    try:
        for learner in learners:  # check every user before changing any
            existing = _acl_user(admin, learner.user)
            if existing is not None and existing.get("keys") != [f"~{learner.prefix}*"]:
                raise ClassroomError(f"a Redis user {learner.user!r} already exists with other keys "
                                     f"({' '.join(existing.get('keys') or ['none'])}); it is not a lab user, "
                                     "so nothing was changed: rename the learner or delete that user")
        passwords = {learner.id: secrets.token_urlsafe(PASSWORD_BYTES) for learner in learners}
        for learner in learners:
            _acl_everywhere(admin, "SETUSER", learner.user, *acl_rules(learner, passwords[learner.id]))
    except redis.exceptions.NoPermissionError as exc:
        raise ClassroomError(f"this user may not manage Redis users ({exc}): use an admin URL whose user "
                             "may run ACL GETUSER and ACL SETUSER") from None
    return passwords


def write_handout(path: Path, rows: Iterable[dict[str, str]]) -> None:
    """Write the handout CSV, readable only by its owner (it holds passwords)."""
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", newline="",
              encoding="utf-8") as out:
        writer = csv.DictWriter(out, HANDOUT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def handout_rows(learners: Sequence[Learner], passwords: dict[str, str], base_url: str) -> list[dict[str, str]]:
    """One row per learner: their name, LABKIT_LEARNER, REDIS_URL and a shell line setting both."""
    rows = []
    for learner in learners:
        url = learner_url(base_url, learner, passwords[learner.id])
        rows.append({"name": learner.name, ENV_LEARNER: learner.id, ENV_URL: url,
                     "shell": f"export {ENV_URL}='{url}' {ENV_LEARNER}={learner.id}"})
    return rows


def class_learners(admin: Client) -> list[str]:
    """Learner ids on this server: lab users (keys limited to their namespace) and recorded progress."""
    found = set()
    for user in admin.acl_users():
        candidate = user[len(USER_PREFIX):]
        if user.startswith(USER_PREFIX) and candidate == learner_id(candidate):
            data = _acl_user(admin, user)
            if data is not None and data.get("keys") == [f"~{learner_prefix(candidate)}*"]:
                found.add(candidate)
    for key in admin.scan_iter(match=checks.progress_key("lab:*:"), count=1000):
        candidate = key[len("lab:"):-len(":" + checks.progress_key(""))]
        if candidate == learner_id(candidate):
            found.add(candidate)
    return sorted(found)


def reset(admin: Client, learner_ids: Iterable[str]) -> dict[str, int]:
    """Delete every key in each learner's namespace, and nothing else; return how many per learner."""
    return {learner: Keyspace(admin, learner_prefix(learner)).clear() for learner in sorted(learner_ids)}


def remove_users(admin: Client, learner_ids: Iterable[str]) -> int:
    """Delete the learners' Redis users (their keys stay until `reset`); return how many existed."""
    users = [USER_PREFIX + learner for learner in learner_ids]
    return _acl_everywhere(admin, "DELUSER", *users) if users else 0


def read_progress(client: Client, learner_ids: Iterable[str]) -> dict[str, dict[str, bool]]:
    """What each learner's checks recorded: exercise id -> passed, per learner."""
    learner_ids = sorted(learner_ids)
    pipe = client.pipeline(transaction=False)
    for learner in learner_ids:
        pipe.hgetall(checks.progress_key(learner_prefix(learner)))
    return {learner: {exercise: value == checks.PASS for exercise, value in sorted(recorded.items())}
            for learner, recorded in zip(learner_ids, pipe.execute())}


def all_exercises() -> dict[str, str]:
    """Every exercise the lab's checks define, id -> title, sorted by id."""
    return checks.registry()  # importing labkit.exercises registered every notebook's checks


def progress_table(progress: dict[str, dict[str, bool]], exercises: Iterable[str]) -> str:
    """A learner-by-exercise table of ✓ (passes), ✗ (not yet) and · (not run), with totals."""
    columns = sorted(set(exercises).union(*progress.values()))
    width = max([len("learner"), *map(len, progress)])
    lines = ["  ".join(["learner".ljust(width), *columns, "passed"])]
    for learner, results in sorted(progress.items()):
        marks = [MARKS[results.get(column)].center(len(column)) for column in columns]
        lines.append("  ".join([learner.ljust(width), *marks, f"{sum(results.values())}/{len(columns)}"]))
    lines.append("✓ passes   ✗ not yet   · not run")
    return "\n".join(lines)


def _acl_everywhere(admin: Client, *command: str) -> int:
    """Run an ACL command on the server, or on every node of a cluster (each node keeps its own users)."""
    if is_cluster(admin):
        replies = admin.execute_command("ACL", *command, target_nodes=RedisCluster.ALL_NODES)
        return max(int(r) if isinstance(r, int) else 0 for r in replies.values())
    reply = admin.execute_command("ACL", *command)
    return int(reply) if isinstance(reply, int) else 0


def _acl_user(admin: Client, user: str) -> dict | None:
    data = admin.acl_getuser(user)
    if data and isinstance(data.get("keys"), str):  # older servers answer with one string
        data["keys"] = data["keys"].split()
    return data
