"""Learners' Redis users on the class server: their ACL rules, checked passwords, removal, and ACL SAVE.

Each learner gets the Redis user `lab-<learner>`, allowed only keys and pub/sub channels under
their namespace `lab:<learner>:`, only database 0, and no command that reaches beyond that or can
stop the server for everyone: no FLUSHDB/FLUSHALL, KEYS, CONFIG, MONITOR, CLIENT LIST/KILL/PAUSE,
DEBUG, SORT ... (the @dangerous and @admin categories), no scripts or functions (@scripting: a busy
script answers BUSY to every client until an admin kills it), no SELECT, MOVE or COPY (which reach
other databases). INFO comes back for the notebooks' banner and the "server is full" notice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import redis
from redis.cluster import RedisCluster

from labkit.backend.connection import Client, connect, is_cluster, redact
from labkit.backend.keyspace import LEARNER_USER_PREFIX
from labkit.classroom.roster import Learner
from labkit.config import ENV_URL, redis_url
from labkit.errors import ClassroomError

COMMAND_RULES = ("+@all", "-@dangerous", "-@admin", "-@scripting", "-select", "-move", "-copy", "+info")
# `create --allow-scripts`: EVAL back (scripts still touch only the learner's keys), FUNCTION and SCRIPT KILL/FLUSH not.
# The risk it takes: one endless script answers BUSY to everyone, and once it has written it cannot be killed.
SCRIPT_RULES = ("+eval", "+evalsha", "+eval_ro", "+evalsha_ro", "+script|load", "+script|exists")
ACL_FILE_MISSING = "not configured to use an ACL file"


def acl_rules(learner: Learner, password: str, *, scripts: bool = False) -> list[str]:
    """The ACL SETUSER rules of `learner`: their password, their keys and channels, safe commands (EVAL if `scripts`)."""
    pattern = learner.prefix + "*"
    return ["reset", "on", f">{password}", f"~{pattern}", "resetchannels", f"&{pattern}", *COMMAND_RULES,
            *(SCRIPT_RULES if scripts else ())]


def admin_client(url: str | None = None) -> Client:
    """The instructor's client on the class Redis (`url` or $REDIS_URL): database 0, a user allowed to manage users."""
    url = redis_url() if url is None else url
    if not url:
        raise ClassroomError(f"a class needs a real Redis: set {ENV_URL} (or --admin-url) to it with an "
                             "admin user, e.g. redis://admin:PASSWORD@host:6380/0")
    admin = connect(url)
    db = 0 if is_cluster(admin) else int(admin.connection_pool.connection_kwargs.get("db") or 0)
    if db != 0:
        raise ClassroomError(f"{redact(url)} uses database {db}, but learners are confined to database 0 "
                             "(their users may not SELECT): end the admin URL with /0")
    try:
        admin.acl_users()
        admin.config_get("maxmemory")
    except redis.exceptions.NoPermissionError:
        who = _whoami(admin)
        role = (f"{who!r}, a learner's user (a handout URL)" if who.startswith(LEARNER_USER_PREFIX)
                else f"{who!r}, a user without the admin commands ACL and CONFIG")
        raise ClassroomError(f"{redact(url)} logs in as {role}; instructor commands need the admin user: give "
                             f"its URL in --admin-url or {ENV_URL}, e.g. redis://admin:PASSWORD@host:6380/0") from None
    except redis.ResponseError as exc:  # e.g. ElastiCache, which offers neither ACL SETUSER nor CONFIG
        raise ClassroomError(f"{redact(url)} does not accept the commands a class needs (ACL, CONFIG): {exc}. Use a "
                             "self-managed redis-server (docs/instructor-guide.md); on ElastiCache, create the users "
                             "with its own user management instead") from None
    return admin


def user_info(admin: Client, user: str) -> dict | None:
    """ACL GETUSER `user` with 'keys' as a list (older servers answer with one string); None if no such user."""
    data = admin.acl_getuser(user)
    if data and isinstance(data.get("keys"), str):
        data["keys"] = data["keys"].split()
    return data


def is_lab_user(info: dict | None, learner: Learner) -> bool:
    """True when an ACL user looks like the one the lab makes for `learner` (keys limited to their namespace)."""
    return info is not None and info.get("keys") == [f"~{learner.prefix}*"]


def password_works(info: dict | None, password: str) -> bool:
    """True when `password` is one of the user's passwords (ACL GETUSER shows their SHA-256, never the text)."""
    digest = hashlib.sha256(password.encode()).hexdigest()
    return info is not None and digest in (info.get("passwords") or [])


def set_users(admin: Client, passwords: dict[Learner, str], *, scripts: bool = False) -> None:
    """ACL SETUSER each learner with their password and the lab's rules (on every node of a cluster)."""
    for learner, password in passwords.items():
        acl_everywhere(admin, "SETUSER", learner.user, *acl_rules(learner, password, scripts=scripts))


def remove_users(admin: Client, learners: Iterable[Learner]) -> int:
    """ACL DELUSER the learners' users (their keys stay until a reset); return how many existed."""
    users = [learner.user for learner in learners]
    return acl_everywhere(admin, "DELUSER", *users) if users else 0


def save_users(admin: Client) -> bool:
    """ACL SAVE, so a restart keeps the users and passwords; False when the server has no aclfile."""
    try:
        acl_everywhere(admin, "SAVE")
    except redis.ResponseError as exc:
        if ACL_FILE_MISSING in str(exc):
            return False
        raise ClassroomError(f"the server could not save its users to its aclfile ({exc}): check that the "
                             "redis-server process may write that file and its folder") from None
    return True


def memory_warnings(admin: Client) -> list[str]:
    """What an instructor should know about the server's memory limit before a class (empty: all set)."""
    settings = admin.config_get("maxmemory*")
    limit = int(settings.get("maxmemory", 0))
    policy = settings.get("maxmemory-policy", "")
    notes = []
    if limit == 0:
        notes.append("warning: this server has no memory limit (maxmemory 0): one learner can fill the machine's "
                     "memory and the system may kill redis-server with everyone's keys. Set maxmemory (16 MB "
                     "per learner plus 64 MB: about 12 MB measured) and maxmemory-policy noeviction; see docs/instructor-guide.md")
    if policy != "noeviction":
        notes.append(f"warning: maxmemory-policy is {policy}: when memory runs out the server silently deletes "
                     "learners' keys (progress included). Use noeviction, so a full server refuses new writes "
                     "with a clear OOM error and loses nothing")
    return notes


def acl_everywhere(admin: Client, *command: str) -> int:
    """Run an ACL command on the server, or on every node of a cluster (each node keeps its own users)."""
    if is_cluster(admin):
        replies = admin.execute_command("ACL", *command, target_nodes=RedisCluster.ALL_NODES)
        return max(int(r) if isinstance(r, int) else 0 for r in replies.values())
    reply = admin.execute_command("ACL", *command)
    return int(reply) if isinstance(reply, int) else 0


def _whoami(client: Client) -> str:
    try:
        return str(client.acl_whoami())
    except redis.RedisError:
        return "(unknown)"
