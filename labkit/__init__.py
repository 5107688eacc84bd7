"""labkit: the helper package of the Sessions & Leaderboards Lab notebooks.

`__all__` is the contract with the notebooks: they import these names (and their checks from
`labkit.exercises`) and nothing else, so the modules behind them can move freely.
"""

from labkit.backend.connection import backend_banner, connect, is_cluster, is_fake, redact, server_version
from labkit.backend.keyspace import Keyspace, lab_prefix
from labkit.backend.lab import open_lab
from labkit.errors import (
                           BadArgument,
                           CorruptSession,
                           InvalidSessionId,
                           LabConnectionError,
                           LabError,
                           NoSuchServer,
                           NoSuchSession,
                           SessionContended,
)
from labkit.fleet.balancer import POLICIES, LoadBalancer, Policy
from labkit.fleet.browser import Browser, Cookie
from labkit.fleet.fleet import AppServer, Fleet
from labkit.fleet.plots import plot_fleet
from labkit.fleet.records import FleetSummary, Record, load_imbalance, logged_out_users, logouts, requests_per_server
from labkit.fleet.traffic import Traffic
from labkit.fleet.webapp import SessionState
from labkit.fleet.widget import FleetControl
from labkit.leaderboards.board import Entry, Leaderboard
from labkit.leaderboards.combine import intersect_boards, merge_boards, send_to_one_node
from labkit.leaderboards.game import SimulatedGame, bulk_scores
from labkit.leaderboards.ranking import Aggregate, Order, Ranking
from labkit.leaderboards.scale import TABLE_HEAD, compare_at_sizes, growth, growth_summary, plot_scale
from labkit.leaderboards.ties import EarliestFirst
from labkit.leaderboards.widget import LeaderboardView, LoadProgress
from labkit.leaderboards.windows import WindowedBoards
from labkit.production.cells import production_servers
from labkit.production.eviction import Workload, compare_policies, eviction_table, plot_eviction
from labkit.production.failover import SAME_REGION, failover_drill
from labkit.production.link import DelayLink
from labkit.production.memory import (
                                      RESERVED_DEFAULT,
                                      format_bytes,
                                      lesson_payload,
                                      measure_sessions,
                                      node_memory,
                                      plot_sizing,
                                      realistic_payload,
                                      sessions_per_gib,
                                      smallest_node,
)
from labkit.production.replicas import LAG, ReplicaPair, plot_stale, stale_by_gap, stale_reads
from labkit.production.servers import start_server, stop_servers, wait_until_synced
from labkit.sessions.latency import plot_round_trips, read_verdict
from labkit.sessions.memory import MemorySessionStore
from labkit.sessions.races import race, walkthrough
from labkit.sessions.redis_store import LESSON_TTL, RedisSessionStore
from labkit.sessions.store import SESSION_ID_BYTES, SessionStore, new_session_id
from labkit.timing import Latency, format_duration, measure, measure_side_by_side, summarise

__all__ = [
    "LAG",
    "LESSON_TTL",
    "POLICIES",
    "RESERVED_DEFAULT",
    "SAME_REGION",
    "SESSION_ID_BYTES",
    "TABLE_HEAD",
    "Aggregate",
    "AppServer",
    "BadArgument",
    "Browser",
    "Cookie",
    "CorruptSession",
    "DelayLink",
    "EarliestFirst",
    "Entry",
    "Fleet",
    "FleetControl",
    "FleetSummary",
    "InvalidSessionId",
    "Keyspace",
    "LabConnectionError",
    "LabError",
    "Latency",
    "Leaderboard",
    "LeaderboardView",
    "LoadBalancer",
    "LoadProgress",
    "MemorySessionStore",
    "NoSuchServer",
    "NoSuchSession",
    "Order",
    "Policy",
    "Ranking",
    "Record",
    "RedisSessionStore",
    "ReplicaPair",
    "SessionContended",
    "SessionState",
    "SessionStore",
    "SimulatedGame",
    "Traffic",
    "WindowedBoards",
    "Workload",
    "backend_banner",
    "bulk_scores",
    "compare_at_sizes",
    "compare_policies",
    "connect",
    "eviction_table",
    "failover_drill",
    "format_bytes",
    "format_duration",
    "growth",
    "growth_summary",
    "intersect_boards",
    "is_cluster",
    "is_fake",
    "lab_prefix",
    "lesson_payload",
    "load_imbalance",
    "logged_out_users",
    "logouts",
    "measure",
    "measure_sessions",
    "measure_side_by_side",
    "merge_boards",
    "new_session_id",
    "node_memory",
    "open_lab",
    "plot_eviction",
    "plot_fleet",
    "plot_round_trips",
    "plot_scale",
    "plot_sizing",
    "plot_stale",
    "production_servers",
    "race",
    "read_verdict",
    "realistic_payload",
    "redact",
    "requests_per_server",
    "send_to_one_node",
    "server_version",
    "sessions_per_gib",
    "smallest_node",
    "stale_by_gap",
    "stale_reads",
    "start_server",
    "stop_servers",
    "summarise",
    "wait_until_synced",
    "walkthrough",
]
