"""Every setting the lab reads from its environment, and the names and patterns it shares, in one place."""

from __future__ import annotations

import os

# Environment variables a person sets (the README names each one).
ENV_URL = "REDIS_URL"  # the Redis to use; unset or empty: the embedded fakeredis
ENV_PASSWORD = "REDIS_PASSWORD"  # a password kept out of the URL
ENV_CA_CERT = "REDIS_CA_CERT"  # the CA that signed a rediss:// server's certificate
ENV_LEARNER = "LABKIT_LEARNER"  # who runs the lab on a shared server: their namespace lab:<learner>:
ENV_PREFIX = "LABKIT_PREFIX"  # overrides the whole key prefix
ENV_SERVER = "LABKIT_SERVER"  # notebook 04's server binary (a path), or "none"; default: found on PATH
ENV_JUPYTERHUB_USER = "JUPYTERHUB_USER"  # set by JupyterHub in each user's server: the learner there

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"  # the lab's notebooks, in notebooks/ and learner/
NOTEBOOK_DIR = "notebooks"  # instructor copies, with solutions
LEARNER_DIR = "learner"  # learner copies, generated from NOTEBOOK_DIR

MIN_SERVER_VERSION = (6, 2)  # GETDEL, ZADD GT/LT and SET ... KEEPTTL are all in Redis 6.2
FAKE_SERVER_VERSION = (7, 0)  # fakeredis emulates Debian's Redis 7.0, so the default and CI's server agree


def redis_url() -> str:
    """The Redis URL in use: $REDIS_URL, or '' for the embedded fakeredis."""
    return os.environ.get(ENV_URL, "").strip()
