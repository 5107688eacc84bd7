"""`labkit`: the one command for everything a person runs.

    labkit lab [--dir notebooks] [JUPYTERLAB-OPTIONS]   open the lab in JupyterLab
    labkit class create|progress|reset|remove|hub-env   run a class on one Redis (instructors)
    labkit progress [learner/ | NN_x.ipynb ...]         your exercises, run headless on fakeredis
    labkit learner-copies [--check]                     write (or check) the copies without solutions
    labkit bundle [--out lab-bundle.zip]                the zip students receive: learner copies, no solutions
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from labkit.classroom import cli as classroom_cli
from labkit.classroom.bundle import build_bundle
from labkit.config import LEARNER_DIR, NOTEBOOK_DIR, NOTEBOOK_GLOB
from labkit.errors import LabError
from labkit.exercises import learner_copies, progress


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the subcommand; returns the exit status (2: refused)."""
    parser = argparse.ArgumentParser(prog="labkit", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n")[1])
    commands = parser.add_subparsers(dest="command", required=True)

    lab = commands.add_parser("lab", help="trust the lab's notebooks and open them in JupyterLab")
    lab.add_argument("--dir", type=Path, default=Path(NOTEBOOK_DIR), help=f"notebook folder (default: {NOTEBOOK_DIR})")
    lab.set_defaults(run=_lab)

    classroom_cli.add_commands(commands.add_parser("class", help="run a class on one Redis (instructors)"))

    mine = commands.add_parser("progress", help="run every exercise check headless on fakeredis; print a table")
    mine.add_argument("targets", nargs="*", help=f"folders or notebooks (default: {LEARNER_DIR}/, else {NOTEBOOK_DIR}/)")
    mine.set_defaults(run=lambda args: print(progress.report(args.targets)))

    copies = commands.add_parser("learner-copies", help=f"write {LEARNER_DIR}/ from {NOTEBOOK_DIR}/ without solutions")
    copies.add_argument("--check", action="store_true", help="change nothing; exit 1 if a copy is out of date")
    copies.set_defaults(run=_learner_copies)

    bundle = commands.add_parser("bundle", help="the zip students receive: learner copies, labkit, set-up steps")
    bundle.add_argument("--out", type=Path, default=Path("lab-bundle.zip"), help="zip to write (default: lab-bundle.zip)")
    bundle.set_defaults(run=_bundle)

    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "lab":  # only `lab` passes unknown options on (to JupyterLab)
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.jupyter_args = extra
    try:
        return args.run(args) or 0
    except (LabError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _lab(args: argparse.Namespace) -> int:
    notebooks = sorted(args.dir.glob(NOTEBOOK_GLOB))
    if not notebooks:
        raise FileNotFoundError(f"no lab notebooks ({NOTEBOOK_GLOB}) in {args.dir}: run this in the lab's folder, "
                                "or name the folder with --dir")
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or "jupyter"
    # Stored widget views render only in trusted notebooks, so the lab signs its own notebooks first.
    subprocess.run([jupyter, "trust", *map(str, notebooks)], check=True, capture_output=True)
    extra = list(args.jupyter_args)
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        print("note: running as root (as in a container), so JupyterLab is started with --allow-root", file=sys.stderr)
        extra.append("--allow-root")
    return subprocess.call([jupyter, "lab", f"--notebook-dir={args.dir}", *extra])


def _learner_copies(args: argparse.Namespace) -> int:
    changes = learner_copies.sync(Path(NOTEBOOK_DIR), Path(LEARNER_DIR), write=not args.check)
    for change in changes:
        print(("out of date: " if args.check else "") + change)
    return 1 if args.check and changes else 0


def _bundle(args: argparse.Namespace) -> int:
    names = build_bundle(Path("."), args.out)
    copies = sum(name.startswith(LEARNER_DIR + "/") for name in names)
    print(f"{args.out}: {copies} learner notebooks (no solutions), labkit and START-HERE.md; {len(names)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
