"""labkit: the helper package of the Sessions & Leaderboards Lab notebooks."""

from .connection import LabConnectionError, backend_banner, connect, is_fake, redact, server_version
from .keyspace import Keyspace, lab_prefix
from .notebook import open_lab

__all__ = [
    "Keyspace",
    "LabConnectionError",
    "backend_banner",
    "connect",
    "is_fake",
    "lab_prefix",
    "open_lab",
    "redact",
    "server_version",
]
