"""labkit: the helper package of the Sessions & Leaderboards Lab notebooks."""

from .connection import LabConnectionError, backend_banner, connect, is_fake, redact, server_version
from .keyspace import Keyspace, lab_prefix
from .notebook import open_lab
from .timing import Latency, format_duration, measure

__all__ = [
    "Keyspace",
    "Latency",
    "LabConnectionError",
    "backend_banner",
    "connect",
    "format_duration",
    "is_fake",
    "lab_prefix",
    "measure",
    "open_lab",
    "redact",
    "server_version",
]
