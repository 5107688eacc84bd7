"""`labkit class ...`: the instructor's commands, run with an admin user's URL in $REDIS_URL or --admin-url."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis

from labkit.backend.connection import Client, redact
from labkit.backend.keyspace import Keyspace
from labkit.classroom import users
from labkit.classroom.collected import collected_progress
from labkit.classroom.enroll import create_class
from labkit.classroom.hub import hub_snippet
from labkit.classroom.progress import Row, all_exercises, progress_csv, progress_figure, progress_table, read_progress
from labkit.classroom.record import DEFAULT_CLASS, ClassRecord, check_class_name
from labkit.classroom.roster import Learner, numbered, read_roster, shortened
from labkit.config import ENV_URL, redis_url
from labkit.errors import ClassroomError


def add_commands(parser: argparse.ArgumentParser) -> None:
    """Add the class subcommands (create, progress, reset, remove, hub-env) to `parser`."""
    parser.add_argument("--admin-url", help=f"the class Redis with an admin user (default: ${ENV_URL})")
    parser.add_argument("--class", dest="class_name", default=DEFAULT_CLASS, type=check_class_name,
                        help=f"which class on that server (default: {DEFAULT_CLASS})")
    commands = parser.add_subparsers(dest="class_command", required=True)
    create = commands.add_parser("create", help="one Redis user per learner, a handout CSV and a card per student")
    who = create.add_mutually_exclusive_group(required=True)
    who.add_argument("--roster", type=Path, help="UTF-8 text file, one learner name per line")
    who.add_argument("--count", type=int, help="this many learners: learner01, learner02, ...")
    create.add_argument("--handout", type=Path, required=True, help="CSV to write (holds passwords); cards go next to it")
    create.add_argument("--learner-url", help="the address learners use, if not the admin URL's host")
    create.add_argument("--rotate", action="store_true", help="give existing learners new passwords")
    create.add_argument("--force", action="store_true", help="rewrite a handout holding learners not in the roster")
    create.add_argument("--allow-scripts", action="store_true",
                        help="let learners run EVAL (risk: one endless script stops the server for all)")
    create.set_defaults(run=_guarded(_create))
    for name, text, run in (("reset", "delete learners' keys (their namespace only)", _guarded(_reset)),
                            ("remove", "delete learners' Redis users (keys stay until reset)", _guarded(_remove))):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("learners", nargs="*", help="learner ids exactly as `progress` and the handout show them")
        sub.add_argument("--all", action="store_true", help="every learner of the class (asks first)")
        sub.add_argument("--yes", action="store_true", help="with --all: go ahead without asking")
        sub.set_defaults(run=run)
    progress = commands.add_parser("progress", help="each learner's state per exercise, last check, pass counts")
    progress.add_argument("--csv", type=Path, help="also write the table as CSV for a gradebook ('-': print it)")
    progress.add_argument("--plot", type=Path, help="also save a heat map of the class (PNG)")
    progress.add_argument("--watch", action="store_true", help="refresh the table until Ctrl-C")
    progress.add_argument("--interval", type=float, default=10.0, help="seconds between refreshes (default 10)")
    progress.add_argument("--rounds", type=int, default=0, help="with --watch: stop after this many (default: never)")
    progress.add_argument("--collected", type=Path, help="no server: a folder of student folders of notebooks")
    progress.set_defaults(run=_guarded(_progress))
    hub = commands.add_parser("hub-env", help="a jupyterhub_config.py snippet: each hub user's REDIS_URL")
    hub.add_argument("--handout", type=Path, required=True, help="the CSV `create` wrote")
    hub.set_defaults(run=lambda args: print(hub_snippet(args.handout), end=""))


def _guarded(run: Callable[[argparse.Namespace], None]) -> Callable[[argparse.Namespace], None]:
    """`run`, with the server's refusals and a lost connection turned into a sentence naming the fix."""
    def guarded(args: argparse.Namespace) -> None:
        try:
            run(args)
        except redis.exceptions.NoPermissionError as exc:
            raise ClassroomError(f"the class server refused a command to this user ({exc}) in {_where(args)}: "
                                 "use the admin user's URL (--admin-url or REDIS_URL)") from None
        except redis.ResponseError as exc:
            raise ClassroomError(f"the class server answered an error in {_where(args)}: {exc}. Nothing after that "
                                 "command was done; each command is safe to run again once this is fixed") from None
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise ClassroomError(f"lost the connection to {_where(args)} ({exc}): check the server is up and "
                                 "run the command again (each command is safe to repeat)") from None
    return guarded


def _admin(args: argparse.Namespace) -> tuple[Client, ClassRecord]:
    admin = users.admin_client(args.admin_url)
    return admin, ClassRecord(admin, args.class_name)


def _where(args: argparse.Namespace) -> str:
    return f"class {args.class_name!r} on {redact(args.admin_url or redis_url())}"


def _create(args: argparse.Namespace) -> None:
    learners = read_roster(args.roster) if args.roster else numbered(args.count)
    admin, record = _admin(args)
    base_url = args.learner_url or args.admin_url or os.environ[ENV_URL]
    done = create_class(admin, record, learners, args.handout, base_url, rotate=args.rotate, force=args.force,
                        scripts=args.allow_scripts)
    for note in [*shortened(learners), *done.notes]:
        print(note, file=sys.stderr)
    print(f"{len(learners)} learners in {_where(args)}: {len(done.added)} new, {len(done.kept)} kept their "
          f"passwords, {len(done.rotated)} got new ones; users {'saved to the aclfile' if done.saved else 'NOT saved'}")
    print(f"instructor's list: {args.handout}; a card per student to print or send: {done.cards}")


def _chosen(args: argparse.Namespace, record: ClassRecord) -> list[Learner]:
    if bool(args.learners) == args.all:
        raise ClassroomError(f"name the learners to {args.class_command} by id, or give --all (not both)")
    if not args.all:
        return record.exact(args.learners, args.class_command)
    learners = list(record.learners().values())
    if not learners:
        raise ClassroomError(f"{_where(args)} has no learners: nothing to {args.class_command}")
    return learners


def _confirm(args: argparse.Namespace, what: str) -> None:
    """Print what --all will delete; unless --yes, go on only on a typed 'yes'."""
    print(what)
    if args.yes:
        return
    print("Type yes to go ahead: ", end="", flush=True)
    try:
        answer = input()
    except EOFError:
        raise ClassroomError("no answer (nothing to read on stdin), so nothing was deleted: "
                             "run again in a terminal, or add --yes") from None
    if answer.strip().lower() != "yes":
        raise ClassroomError(f"answer was {answer.strip()!r}, not 'yes': nothing was deleted")


def _reset(args: argparse.Namespace) -> None:
    admin, record = _admin(args)
    learners = _chosen(args, record)
    spaces = [Keyspace(admin, learner.prefix) for learner in learners]
    if args.all:
        count = sum(1 for space in spaces for _ in space.keys())
        _confirm(args, f"reset --all deletes {count} keys of {len(learners)} learners of {_where(args)}, under "
                       + ", ".join(space.prefix for space in spaces) + " (their progress too); nothing else")
    cleared = sum(space.clear() for space in spaces)
    print(f"cleared {cleared} keys of {len(learners)} learners ({', '.join(learner.id for learner in learners)}) in {_where(args)}")


def _remove(args: argparse.Namespace) -> None:
    admin, record = _admin(args)
    learners = _chosen(args, record)
    ours = [learner for learner in learners if users.is_lab_user(users.user_info(admin, learner.user), learner)]
    for learner in sorted(set(learners) - set(ours), key=lambda learner: learner.id):
        print(f"note: no lab user {learner.user} (already removed, or changed by hand): left alone", file=sys.stderr)
    if args.all:
        _confirm(args, f"remove --all deletes {len(ours)} Redis users of {_where(args)}: "
                       + (", ".join(learner.user for learner in ours) or "none") + "; their keys stay until a reset")
    removed = users.remove_users(admin, ours)
    saved = users.save_users(admin) if removed else True
    print(f"removed {removed} learner users of {_where(args)}" + ("" if saved else " (server has no aclfile)"))


def _progress(args: argparse.Namespace) -> None:
    exercises = list(all_exercises())
    rounds = args.rounds if args.watch else 1
    if args.interval < 0 or rounds < 0:
        raise ClassroomError("--interval and --rounds cannot be negative")
    read = _progress_reader(args, exercises)
    done, rows = 0, []
    try:
        while True:
            rows = read()
            if args.watch and sys.stdout.isatty():
                print("\x1b[H\x1b[2J", end="")  # clear the terminal
            print(progress_table(rows, exercises) + (f"\n(refreshing every {args.interval:g} s; Ctrl-C stops)"
                                                     if args.watch else ""), flush=True)
            done += 1
            if rounds and done >= rounds:
                break
            time.sleep(args.interval)
    except KeyboardInterrupt:
        print()
    try:
        if args.csv:
            text = progress_csv(rows, exercises)
            print(text, end="") if str(args.csv) == "-" else args.csv.write_text(text, encoding="utf-8")
        if args.plot:
            progress_figure(rows, exercises).savefig(args.plot, dpi=120)
    except OSError as exc:
        raise ClassroomError(f"could not write {exc.filename or 'the file'} ({exc.strerror}): give a path in a folder "
                             "you may write") from None


def _progress_reader(args: argparse.Namespace, exercises: list[str]) -> Callable[[], list[Row]]:
    if args.collected:
        return lambda: collected_progress(args.collected, exercises)
    admin, record = _admin(args)

    def read() -> list[Row]:
        learners = list(record.learners().values())
        if not learners:
            raise ClassroomError(f"{_where(args)} has no learners yet: run `labkit class create` first")
        return read_progress(admin, learners, exercises)
    return read
