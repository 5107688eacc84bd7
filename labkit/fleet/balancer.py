"""The load balancer in front of the app servers: round-robin, random, or sticky (affinity)."""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from typing import Literal, get_args

from labkit.errors import BadArgument, NoSuchServer
from labkit.fleet.browser import Browser

Policy = Literal["round_robin", "random", "sticky", "sticky_hash"]
POLICIES: tuple[Policy, ...] = get_args(Policy)
AFFINITY_COOKIE = "lb"


class LoadBalancer:
    """Chooses a server for each request among those that are up.

    - `round_robin`: each server in turn.
    - `random`: uniformly at random (seeded).
    - `sticky`: the first request picks a server in turn and pins the browser to it with an
      affinity cookie (`lb=app-2`, as AWS ALB's AWSALB cookie); later requests follow the cookie.
    - `sticky_hash`: a hash of the client's address picks its home server, no cookie needed.
    When a pinned server is down both sticky policies fail over to another one (and the user's
    in-memory session stays behind on the dead server).
    """

    def __init__(self, servers: Sequence[str], policy: Policy = "round_robin", *, seed: int = 0,
                 secure_cookie: bool = True) -> None:
        if policy not in POLICIES:
            raise BadArgument(f"unknown policy {policy!r}: choose one of {', '.join(POLICIES)}")
        if not servers:
            raise BadArgument("a load balancer needs at least one server")
        self.servers = list(servers)
        self.policy = policy
        self._up = list(servers)
        self._turn = 0
        self._rng = random.Random(seed)
        self._secure = secure_cookie

    def set_up(self, name: str, up: bool) -> None:
        """Mark a server up (it receives requests) or down (it is skipped)."""
        if name not in self.servers:
            raise NoSuchServer(f"no server {name!r}; the servers are {', '.join(self.servers)}")
        self._up = [s for s in self.servers if (s == name and up) or (s != name and s in self._up)]

    @property
    def sticky(self) -> bool:
        """True for the policies that pin each browser to one server."""
        return self.policy in ("sticky", "sticky_hash")

    @property
    def up(self) -> list[str]:
        """Servers currently taking requests, in order."""
        return list(self._up)

    def choose(self, browser: Browser) -> str | None:
        """The server for this browser's next request (None when every server is down)."""
        if not self._up:
            return None
        policy = self.policy
        if policy == "round_robin":
            return self._next_in_turn()
        if policy == "random":
            return self._rng.choice(self._up)
        if policy == "sticky":
            pinned = browser.cookies.get(AFFINITY_COOKIE)
            if pinned is not None and pinned.value in self._up:
                return pinned.value
            chosen = self._next_in_turn()
            browser.receive([f"{AFFINITY_COOKIE}={chosen}; Path=/; HttpOnly; SameSite=Lax"
                             + ("; Secure" if self._secure else "")])
            return chosen
        return self._hashed(browser)

    def pinned(self, browser: Browser) -> str | None:
        """The server a sticky policy sends this browser to (None: not pinned yet, or not sticky)."""
        if self.policy == "sticky":
            cookie = browser.cookies.get(AFFINITY_COOKIE)
            return None if cookie is None else cookie.value
        if self.policy == "sticky_hash":
            return self._hashed(browser)
        return None

    def _next_in_turn(self) -> str:
        """The next server in turn that is up (choose() made sure one is)."""
        while True:
            name = self.servers[self._turn % len(self.servers)]
            self._turn += 1
            if name in self._up:
                return name

    def _hashed(self, browser: Browser) -> str | None:
        home = zlib.crc32(browser.address.encode()) % len(self.servers)
        for step in range(len(self.servers)):  # the home server, else the next one up the ring
            name = self.servers[(home + step) % len(self.servers)]
            if name in self._up:
                return name
        return None

    def __repr__(self) -> str:
        return f"LoadBalancer({self.policy}, up: {', '.join(self._up) or 'none'})"
