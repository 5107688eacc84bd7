"""What the first code cell of every notebook calls: connect, say who and where, and start clean."""

from __future__ import annotations

import os

import redis

from labkit.backend.connection import Client, backend_banner, connect, is_fake, server_version
from labkit.backend.keyspace import LEARNER_USER_PREFIX, Keyspace, current_learner, lab_prefix
from labkit.config import ENV_JUPYTERHUB_USER, ENV_LEARNER, ENV_PREFIX, ENV_URL, MIN_SERVER_VERSION
from labkit.errors import LabConnectionError

FULL_SHARE = 0.95  # a server this close to its maxmemory is about to refuse writes


def open_lab(name: str) -> Keyspace:
    """Connect, print the backend, learner and namespace in use, and return a fresh keyspace of the notebook's own.

    Only the notebook's own keys (under the lab prefix plus `name`) are cleared, so running a
    notebook twice gives the same outputs and nothing else on the server is touched. A server
    older than Redis 6.2 is refused here, before any cell depends on a command it lacks, and so
    are credentials that may not write this learner's keys (e.g. LABKIT_LEARNER naming someone else).
    """
    client = connect()
    version = server_version(client)
    if version[:2] < MIN_SERVER_VERSION:
        raise LabConnectionError(
            f"{backend_banner(client).removeprefix('Backend: ')} is too old for this lab: it needs "
            f"Redis {'.'.join(map(str, MIN_SERVER_VERSION))} or later (it uses GETDEL and ZADD GT). "
            "On ElastiCache, upgrade the engine version; or unset REDIS_URL to use the embedded fakeredis."
        )
    space = Keyspace(client, f"{lab_prefix()}{name}:")
    if not is_fake(client):
        _check_permission(client, space)
    space.clear()
    print(lab_banner(client, space))
    if not is_fake(client):
        notice = full_notice(client)
        if notice:
            print(notice)
    return space


def lab_banner(client: Client, space: Keyspace) -> str:
    """One line: the backend, the learner and the namespace; plus a warning when a class seems meant but absent."""
    who = "" if os.environ.get(ENV_PREFIX) else f" · learner {current_learner()}"
    line = f"{backend_banner(client)}{who} · keys under {space.prefix}"
    if is_fake(client) and ENV_URL not in os.environ:
        hints = [name for name in (ENV_LEARNER, ENV_JUPYTERHUB_USER) if os.environ.get(name)]
        if hints:  # on one line with the backend, so nbval's sanitizer keeps stored outputs stable
            line += (f" · NOT the class server: {' and '.join(hints)} {'is' if len(hints) == 1 else 'are'} set but "
                     f"{ENV_URL} is not, in this kernel. For the class, set {ENV_URL} as your card says in the "
                     "terminal, then start JupyterLab again from it; working alone, this is fine")
    return line


def full_notice(client: Client) -> str:
    """A sentence for the learner when the server is (nearly) at its memory limit, else ''."""
    try:
        memory = client.info("memory")
    except redis.RedisError:
        return ""
    limit, used = int(memory.get("maxmemory") or 0), int(memory.get("used_memory") or 0)
    if not limit or used < FULL_SHARE * limit:
        return ""
    return (f"The class server is full: {used / 2**20:.0f} MB of its {limit / 2**20:.0f} MB in use, so it refuses "
            "new data (OutOfMemoryError: command not allowed when used memory > 'maxmemory'). Nothing stored is "
            "lost. Tell your instructor; re-running this cell frees this notebook's own keys.")


def _check_permission(client: Client, space: Keyspace) -> None:
    """Refuse, with the fix, credentials that may not use this namespace (EXISTS on one of its keys)."""
    try:
        client.exists(space.key("probe"))
    except redis.exceptions.NoPermissionError:
        try:
            user = str(client.acl_whoami())
        except redis.RedisError:
            user = "this user"
        mine = user[len(LEARNER_USER_PREFIX):] if user.startswith(LEARNER_USER_PREFIX) else ""
        source = f"{ENV_PREFIX}" if os.environ.get(ENV_PREFIX) else (
            f"{ENV_LEARNER}={os.environ[ENV_LEARNER]}" if os.environ.get(ENV_LEARNER) else "the login name")
        fix = (f"set {ENV_LEARNER}={mine} (as on your card) or unset it, then restart the kernel" if mine else
               f"use the {ENV_URL} line meant for this learner, or change {ENV_LEARNER}")
        raise LabConnectionError(
            f"{ENV_URL} logs in as {user!r}, who may not use keys under {space.prefix} (chosen by {source}): "
            f"{fix}.") from None
