"""The nbval sanitizers replace what varies, and only that, whatever a random id happens to contain."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from labkit.sessions.store import new_session_id

SANITIZE = Path(__file__).resolve().parent / "sanitize.cfg"


def sanitize(text: str) -> str:
    """Apply the sanitizers in file order, as nbval does."""
    config = configparser.ConfigParser()
    config.read(SANITIZE, encoding="utf-8")
    for section in config.sections():
        text = re.sub(config[section]["regex"], config[section]["replace"], text)
    return text


def test_session_ids_are_replaced_whole_even_when_they_end_like_a_duration() -> None:
    for tail in ("6us", "12ms", "3s", "40ns", "1x"):
        session_id = new_session_id()[: 43 - len(tail)] + tail
        assert sanitize(f"labkit's id: {session_id} (43") == "labkit's id: <session-id> (43"
        assert sanitize(f"Set-Cookie: sid={session_id}; Secure") == "Set-Cookie: sid=<session-id>; Secure"


def test_measured_figures_are_replaced_and_counts_are_not() -> None:
    line = "p50 27 µs, p99 1.98 ms over 2,000 calls; 6,012 req/s; 1.03×; waited 1.50 s; 3 servers"
    assert sanitize(line) == (
        "p50 <duration>, p99 <duration> over 2,000 calls; <rate>; <ratio>×; waited <duration>; 3 servers")


def test_ids_digits_never_match_a_figure() -> None:
    assert sanitize("app-3 user42s key9ms") == "app-3 user42s key9ms"
