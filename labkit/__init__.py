"""labkit: the helper package of the Sessions & Leaderboards Lab notebooks."""

from .balancer import POLICIES, LoadBalancer
from .browser import Browser, Cookie
from .connection import LabConnectionError, backend_banner, connect, is_cluster, is_fake, redact, server_version
from .fleet import AppServer, Fleet
from .game import SimulatedGame
from .keyspace import Keyspace, lab_prefix
from .leaderboard import Leaderboard
from .leaderboard_ties import EarliestFirst
from .leaderboard_windows import WindowedBoards
from .memory_store import MemorySessionStore
from .notebook import open_lab
from .records import FleetSummary, Record, load_imbalance, logouts, requests_per_server
from .redis_store import CorruptSession, InvalidSessionId, RedisSessionStore
from .timing import Latency, format_duration, measure, measure_side_by_side
from .traffic import Traffic

__all__ = [
    "AppServer",
    "Browser",
    "Cookie",
    "CorruptSession",
    "EarliestFirst",
    "Fleet",
    "FleetSummary",
    "InvalidSessionId",
    "Keyspace",
    "LabConnectionError",
    "Latency",
    "Leaderboard",
    "LoadBalancer",
    "MemorySessionStore",
    "POLICIES",
    "Record",
    "RedisSessionStore",
    "SimulatedGame",
    "Traffic",
    "WindowedBoards",
    "backend_banner",
    "connect",
    "format_duration",
    "is_cluster",
    "is_fake",
    "lab_prefix",
    "load_imbalance",
    "logouts",
    "measure",
    "measure_side_by_side",
    "open_lab",
    "redact",
    "requests_per_server",
    "server_version",
]
