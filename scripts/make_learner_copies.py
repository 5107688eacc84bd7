"""Write the learner copies (learner/NN_*.ipynb) of the notebooks, without their solutions.

Usage: python scripts/make_learner_copies.py [--check]
--check changes nothing and exits 1 when a learner copy is missing or out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from labkit.learner_copies import SolutionMarkerError, sync

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    if argv and not check:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        changes = sync(ROOT / "notebooks", ROOT / "learner", write=not check)
    except SolutionMarkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for change in changes:
        print(("out of date: " if check else "") + change)
    if check and changes:
        print("run: python scripts/make_learner_copies.py", file=sys.stderr)
        return 1
    print(f"learner copies up to date ({len(list((ROOT / 'learner').glob('[0-9][0-9]_*.ipynb')))} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
