"""The lab's exceptions: one root, each also the builtin it refines, so callers catch the narrowest."""

from __future__ import annotations


class LabError(Exception):
    """Anything the lab refuses or cannot do; the message says what was tried and how to fix it."""


class LabConnectionError(LabError, ConnectionError):
    """The lab could not reach or log in to the Redis it was pointed at."""


class InvalidSessionId(LabError, ValueError):
    """A session id that this store never issues (wrong length or characters): refused before any command."""


class CorruptSession(LabError, ValueError):
    """A key under the session prefix holds something that is not a session this store wrote."""


class NoSuchSession(LabError, LookupError):
    """A session that does not exist (never created, expired or ended) was asked to change."""


class SessionContended(LabError, RuntimeError):
    """An atomic update kept losing to concurrent writers and gave up (a retry limit, not a lost write)."""


class BadArgument(LabError, ValueError):
    """An argument the lab refuses: of the wrong type, out of range, or a name it cannot use."""


class NoSuchServer(LabError, LookupError):
    """The fleet has no app server of that name."""


class SolutionMarkerError(LabError, ValueError):
    """A notebook's solution markers are not where the learner copy needs them."""


class ClassroomError(LabError, ValueError):
    """A class command cannot go ahead; the message says why and what to do."""
