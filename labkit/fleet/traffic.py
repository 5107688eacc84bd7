"""Seeded traffic: many users, optionally skewed so a few of them are far busier than the rest."""

from __future__ import annotations

import bisect
import itertools
import random

from labkit.errors import BadArgument

ITEMS = ("book", "coffee", "headphones", "lamp", "mug", "notebook", "pen", "plant")
# What a logged-in user does next, with its weight: browse, look at the cart, add to it, leave.
ACTIONS = (("GET", "/profile", 45), ("GET", "/cart", 25), ("POST", "/cart", 25), ("POST", "/logout", 5))


class Traffic:
    """Picks who sends the next request and what it is, from its own `random.Random(seed)`.

    With `skew=0` every user is equally busy. With `skew=s > 0` user k (counting from 1) is
    picked with weight 1 / k**s, a Zipf-like law: at s=1.2 with 200 users the busiest user sends
    about a quarter of all requests, as a busy API client or a crawler can in practice.
    """

    def __init__(self, users: int = 100, *, skew: float = 0.0, seed: int = 0) -> None:
        if users < 1:
            raise BadArgument(f"traffic needs at least one user, not {users}")
        if skew < 0:
            raise BadArgument(f"skew must be 0 (even) or more (busier top users), not {skew}")
        width = len(str(users))
        self.users = [f"user-{k:0{width}d}" for k in range(1, users + 1)]
        self.skew = skew
        self.seed = seed
        self._rng = random.Random(seed)
        self._cumulative = list(itertools.accumulate(1 / k**skew for k in range(1, users + 1)))
        self._actions = [(method, path) for method, path, _ in ACTIONS]
        self._action_cumulative = list(itertools.accumulate(w for *_, w in ACTIONS))

    def next_user(self) -> str:
        """The user who sends the next request."""
        cumulative = self._cumulative
        return self.users[bisect.bisect(cumulative, self._rng.random() * cumulative[-1])]

    def next_action(self) -> tuple[str, str, dict[str, str] | None]:
        """What a logged-in user does next: (method, path, form or None)."""
        cumulative = self._action_cumulative
        method, path = self._actions[bisect.bisect(cumulative, self._rng.random() * cumulative[-1])]
        form = {"item": self._rng.choice(ITEMS)} if path == "/cart" and method == "POST" else None
        return method, path, form

    def share_of_busiest(self, top: int = 1) -> float:
        """The expected share of all requests sent by the `top` busiest users."""
        return self._cumulative[top - 1] / self._cumulative[-1]

    def __repr__(self) -> str:
        return f"Traffic({len(self.users)} users, skew={self.skew}, seed={self.seed})"
