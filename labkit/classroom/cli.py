"""`labkit class ...`: the instructor's commands, run with an admin user's URL in $REDIS_URL or --admin-url."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from labkit.backend.connection import Client, redact
from labkit.backend.keyspace import learner_id
from labkit.classroom.server import (
    admin_client,
    all_exercises,
    class_learners,
    create_users,
    handout_rows,
    learner_url,
    numbered,
    progress_table,
    read_progress,
    read_roster,
    remove_users,
    reset,
    write_handout,
)
from labkit.config import ENV_URL
from labkit.errors import ClassroomError


def add_commands(parser: argparse.ArgumentParser) -> None:
    """Add the class subcommands (create, progress, reset, remove) to `parser`."""
    parser.add_argument("--admin-url", help=f"the class Redis with an admin user (default: ${ENV_URL})")
    commands = parser.add_subparsers(dest="class_command", required=True)
    create = commands.add_parser("create", help="one Redis user per learner, and a handout CSV of their URLs")
    who = create.add_mutually_exclusive_group(required=True)
    who.add_argument("--roster", type=Path, help="text file, one learner name per line")
    who.add_argument("--count", type=int, help="this many learners: learner01, learner02, ...")
    create.add_argument("--handout", type=Path, required=True, help="CSV to write (holds passwords)")
    create.add_argument("--learner-url", help="the address learners use, if not the admin URL's host")
    create.add_argument("--force", action="store_true", help="overwrite an existing handout")
    create.set_defaults(run=_create)
    for name, text, run in (("reset", "delete learners' keys (their namespace only)", _reset),
                            ("remove", "delete learners' Redis users (keys stay until reset)", _remove)):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("learners", nargs="*", help="learner ids (LABKIT_LEARNER values)")
        sub.add_argument("--all", action="store_true", help="every learner of the class on this server")
        sub.set_defaults(run=run)
    progress = commands.add_parser("progress", help="which exercise checks pass, per learner")
    progress.add_argument("--roster", type=Path, help="list these learners (default: all found)")
    progress.set_defaults(run=_progress)


def _shown(args: argparse.Namespace) -> str:
    return redact(args.admin_url or os.environ.get(ENV_URL, ""))


def _create(args: argparse.Namespace) -> None:
    admin = admin_client(args.admin_url)
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
    print(f"{len(learners)} learner users on {_shown(args)}; hand out {args.handout} (one row each)")


def _chosen(args: argparse.Namespace, admin: Client) -> list[str]:
    if bool(args.learners) == args.all:
        raise ClassroomError(f"name the learners to {args.class_command}, or give --all (not both)")
    return class_learners(admin) if args.all else [learner_id(name) for name in args.learners]


def _reset(args: argparse.Namespace) -> None:
    admin = admin_client(args.admin_url)
    cleared = reset(admin, _chosen(args, admin))
    print(f"cleared {sum(cleared.values())} keys of {len(cleared)} learners on {_shown(args)}")


def _remove(args: argparse.Namespace) -> None:
    admin = admin_client(args.admin_url)
    print(f"removed {remove_users(admin, _chosen(args, admin))} learner users on {_shown(args)}")


def _progress(args: argparse.Namespace) -> None:
    admin = admin_client(args.admin_url)
    learner_ids = [learner.id for learner in read_roster(args.roster)] if args.roster else class_learners(admin)
    print(progress_table(read_progress(admin, learner_ids), all_exercises()))
