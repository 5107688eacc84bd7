"""A seeded simulated game that feeds leaderboards, and seeded bulk scores for scale tests."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from labkit.errors import BadArgument
from labkit.leaderboards.board import Leaderboard
from labkit.leaderboards.windows import WindowedBoards

HANDLES = (
    "ada", "amy", "bao", "cyd", "dev", "eli", "emi", "fay", "gus", "hal", "ida", "ike", "jax", "joy",
    "kai", "kim", "lea", "leo", "max", "mia", "ned", "nia", "oli", "pam", "quin", "raj", "rex", "sam",
    "sia", "tom", "uma", "val", "wes", "xia", "yan", "yui", "zac", "zoe",
)


def player_names(n: int) -> list[str]:
    """`n` distinct, readable player ids: the handles first, then 'ada2', 'amy2', ..."""
    return [HANDLES[i % len(HANDLES)] + (str(i // len(HANDLES) + 1) if i >= len(HANDLES) else "") for i in range(n)]


def bulk_scores(n: int, seed: int = 0, high: int = 1_000_000) -> dict[str, int]:
    """`n` players named 'p0000000'... with seeded random whole scores from 0 to `high`."""
    rng = random.Random(seed)
    return {f"p{i:07d}": rng.randint(0, high) for i in range(n)}


class SimulatedGame:
    """Players of differing skill; each round a few of them finish a match and score points."""

    def __init__(self, players: int = 24, seed: int = 0, per_round: int = 4) -> None:
        if players < 1 or not 1 <= per_round <= players:
            raise BadArgument(f"need at least 1 player and 1 <= per_round <= players, got {players}, {per_round}")
        self.rng = random.Random(seed)
        self.players = player_names(players)
        self.skill = {p: self.rng.uniform(0.5, 2.0) for p in self.players}
        self.per_round = per_round
        self.rounds_played = 0

    def __repr__(self) -> str:
        return f"SimulatedGame(players={len(self.players)}, rounds_played={self.rounds_played})"

    def next_round(self) -> list[tuple[str, int]]:
        """The (player, points) results of the next round, sorted by player."""
        self.rounds_played += 1
        finishers = self.rng.sample(self.players, self.per_round)
        return sorted((p, 1 + int(self.rng.expovariate(1.0) * 10 * self.skill[p])) for p in finishers)

    def play(self, board: Leaderboard, rounds: int, after_round: Callable[[int], object] | None = None,
             batch_rounds: int = 1) -> int:
        """Play `rounds` rounds, the results of every `batch_rounds` rounds added in one batch (`add_many`).

        `after_round(number)` is called after each batch, with the number of the batch's last round.
        Return how many results were added.
        """
        if rounds < 0 or batch_rounds < 1:
            raise BadArgument(f"need rounds >= 0 and batch_rounds >= 1, got {rounds}, {batch_rounds}")
        added = 0
        for first in range(1, rounds + 1, batch_rounds):
            last = min(first + batch_rounds - 1, rounds)
            results = [result for _ in range(first, last + 1) for result in self.next_round()]
            board.add_many(results)
            added += len(results)
            if after_round is not None:
                after_round(last)
        return added

    def play_days(self, boards: WindowedBoards, start: date, days: int, rounds_per_day: int) -> int:
        """Play day by day onto all-time, daily and weekly boards, one batch per day; return how many results."""
        added = 0
        for offset in range(days):
            results = [result for _ in range(rounds_per_day) for result in self.next_round()]
            boards.add_many(results, start + timedelta(days=offset))
            added += len(results)
        return added
