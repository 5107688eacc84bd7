"""One Redis for a whole class: an ACL user per learner, handouts, resets and class progress.

Each learner gets the Redis user `lab-<learner>`, allowed only keys and pub/sub channels under
their namespace `lab:<learner>:` and no command that reaches beyond it (FLUSHDB, FLUSHALL, KEYS,
CONFIG, MONITOR, CLIENT LIST/KILL, FUNCTION, SCRIPT FLUSH/KILL/DEBUG ...). SCAN stays allowed,
since the lab clears its own keys with it: a learner can see other learners' key NAMES, never
read or change their values. The instructor runs these commands with an admin user's URL:

    python -m labkit.classroom create --count 30 --handout class.csv
    python -m labkit.classroom progress
    python -m labkit.classroom reset alice        # or: reset --all
    python -m labkit.classroom remove --all       # end of course: delete the users
"""

from __future__ import annotations

import argparse
import csv
import importlib
import os
import pkgutil
import secrets
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.cluster import RedisCluster

from . import checks
from .connection import ENV_URL, LabConnectionError, connect, is_cluster, redact
from .keyspace import ENV_LEARNER, FALLBACK_LEARNER, LEARNER_USER_PREFIX, Keyspace, learner_id, learner_prefix

USER_PREFIX = LEARNER_USER_PREFIX  # a learner's Redis user is lab-<learner>
PASSWORD_BYTES = 24  # 192 bits, 32 URL-safe characters
# Everything but what reaches beyond the learner's own keys; INFO back for the notebooks' banner.
COMMAND_RULES = ("+@all", "-@dangerous", "-@admin", "-function", "-script|flush", "-script|kill",
                 "-script|debug", "+info")
HANDOUT_COLUMNS = ("name", ENV_LEARNER, ENV_URL, "shell")
MARKS = {True: "✓", False: "✗", None: "·"}


class ClassroomError(ValueError):
    """A class command cannot go ahead; the message says why and what to do."""


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
    learners, seen = [], {}
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


def admin_client(url: str | None = None) -> redis.Redis:
    """The instructor's client on the class Redis: `url` or $REDIS_URL, a user allowed ACL SETUSER."""
    url = os.environ.get(ENV_URL, "") if url is None else url
    if not url:
        raise ClassroomError(f"a class needs a real Redis: set {ENV_URL} (or --admin-url) to it with an "
                             "admin user, e.g. redis://admin:PASSWORD@host:6379/0")
    return connect(url)


def create_users(admin: redis.Redis, learners: Sequence[Learner]) -> dict[str, str]:
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


def class_learners(admin: redis.Redis) -> list[str]:
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


def reset(admin: redis.Redis, learner_ids: Iterable[str]) -> dict[str, int]:
    """Delete every key in each learner's namespace, and nothing else; return how many per learner."""
    return {learner: Keyspace(admin, learner_prefix(learner)).clear() for learner in sorted(learner_ids)}


def remove_users(admin: redis.Redis, learner_ids: Iterable[str]) -> int:
    """Delete the learners' Redis users (their keys stay until `reset`); return how many existed."""
    users = [USER_PREFIX + learner for learner in learner_ids]
    return _acl_everywhere(admin, "DELUSER", *users) if users else 0


def read_progress(client: redis.Redis, learner_ids: Iterable[str]) -> dict[str, dict[str, bool]]:
    """What each learner's checks recorded: exercise id -> passed, per learner."""
    learner_ids = sorted(learner_ids)
    pipe = client.pipeline(transaction=False)
    for learner in learner_ids:
        pipe.hgetall(checks.progress_key(learner_prefix(learner)))
    return {learner: {exercise: value == checks.PASS for exercise, value in sorted(recorded.items())}
            for learner, recorded in zip(learner_ids, pipe.execute())}


def all_exercises() -> dict[str, str]:
    """Every exercise the lab's checks define, id -> title, sorted by id."""
    for module in pkgutil.iter_modules(checks.__path__):
        importlib.import_module(f"{checks.__name__}.{module.name}")
    return checks.registry()


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


def _acl_everywhere(admin: redis.Redis, *command: str) -> int:
    """Run an ACL command on the server, or on every node of a cluster (each node keeps its own users)."""
    if is_cluster(admin):
        replies = admin.execute_command("ACL", *command, target_nodes=RedisCluster.ALL_NODES)
        return max(int(r) if isinstance(r, int) else 0 for r in replies.values())
    reply = admin.execute_command("ACL", *command)
    return int(reply) if isinstance(reply, int) else 0


def _acl_user(admin: redis.Redis, user: str) -> dict | None:
    data = admin.acl_getuser(user)
    if data and isinstance(data.get("keys"), str):  # older servers answer with one string
        data["keys"] = data["keys"].split()
    return data


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m labkit.classroom", description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", help=f"the class Redis with an admin user (default: ${ENV_URL})")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="one Redis user per learner, and a handout CSV of their URLs")
    who = create.add_mutually_exclusive_group(required=True)
    who.add_argument("--roster", type=Path, help="text file, one learner name per line")
    who.add_argument("--count", type=int, help="this many learners: learner01, learner02, ...")
    create.add_argument("--handout", type=Path, required=True, help="CSV to write (holds passwords)")
    create.add_argument("--learner-url", help="the address learners use, if not the admin URL's host")
    create.add_argument("--force", action="store_true", help="overwrite an existing handout")
    for name, text in (("reset", "delete learners' keys (their namespace only)"),
                       ("remove", "delete learners' Redis users (keys stay until reset)")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("learners", nargs="*", help="learner ids (LABKIT_LEARNER values)")
        sub.add_argument("--all", action="store_true", help="every learner of the class on this server")
    progress = commands.add_parser("progress", help="which exercise checks pass, per learner")
    progress.add_argument("--roster", type=Path, help="list these learners (default: all found)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The instructor's command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        admin = admin_client(args.admin_url)
        shown = redact(args.admin_url or os.environ.get(ENV_URL, ""))
        if args.command == "create":
            learners = read_roster(args.roster) if args.roster else numbered(args.count)
            if args.handout.exists() and not args.force:
                raise ClassroomError(f"{args.handout} exists (it may hold the only copy of passwords "
                                     "in use): choose another name, or --force to replace it")
            if not args.handout.parent.is_dir():
                raise ClassroomError(f"no folder {args.handout.parent} for the handout")
            base_url = args.learner_url or args.admin_url or os.environ[ENV_URL]
            learner_url(base_url, learners[0], "")  # a bad address stops here, before any user changes
            passwords = create_users(admin, learners)
            write_handout(args.handout, handout_rows(learners, passwords, base_url))
            print(f"{len(learners)} learner users on {shown}; hand out {args.handout} (one row each)")
        elif args.command in ("reset", "remove"):
            if bool(args.learners) == args.all:
                raise ClassroomError(f"name the learners to {args.command}, or give --all (not both)")
            learner_ids = class_learners(admin) if args.all else [learner_id(name) for name in args.learners]
            if args.command == "reset":
                cleared = reset(admin, learner_ids)
                print(f"cleared {sum(cleared.values())} keys of {len(cleared)} learners on {shown}")
            else:
                print(f"removed {remove_users(admin, learner_ids)} learner users on {shown}")
        else:
            learner_ids = [learner.id for learner in read_roster(args.roster)] if args.roster else class_learners(admin)
            print(progress_table(read_progress(admin, learner_ids), all_exercises()))
    except (ClassroomError, LabConnectionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
