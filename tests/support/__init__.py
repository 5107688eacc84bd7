"""Test helpers that are not part of labkit: where the lab's files are, local servers, a delay link, the legs report."""

from __future__ import annotations

from pathlib import Path

from labkit.config import LEARNER_DIR, NOTEBOOK_DIR, NOTEBOOK_GLOB

ROOT = Path(__file__).resolve().parent.parent.parent
NOTEBOOKS = sorted((ROOT / NOTEBOOK_DIR).glob(NOTEBOOK_GLOB))  # instructor copies
LEARNER_COPIES = sorted((ROOT / LEARNER_DIR).glob(NOTEBOOK_GLOB))

# Which backends ("legs") this run covered, printed at the end (tests/conftest.py) so a skipped leg is visible.
LEGS: dict[str, str] = {}
