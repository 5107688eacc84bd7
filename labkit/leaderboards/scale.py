"""Top-10 and rank latency of a sorted set beside the naive boards, at several board sizes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from labkit.backend.keyspace import Keyspace
from labkit.errors import LabError
from labkit.leaderboards.board import Leaderboard
from labkit.leaderboards.game import bulk_scores
from labkit.leaderboards.naive import ListBoard, SqliteBoard
from labkit.timing import Latency, format_duration, measure, measure_interleaved

APPROACHES = ("sorted set", "Python list", "SQLite ORDER BY")


@dataclass(frozen=True)
class ScaleRow:
    """Latency of one approach on a board of `players`."""

    players: int
    approach: str
    top10: Latency
    rank: Latency

    def __str__(self) -> str:
        return (f"| {self.players:,} | {self.approach} | {format_duration(self.top10.p50)} | "
                f"{format_duration(self.top10.p99)} | {format_duration(self.rank.p50)} | {format_duration(self.rank.p99)} |")


TABLE_HEAD = "| players | approach | top-10 p50 | top-10 p99 | rank p50 | rank p99 |"


def naive_repeat(players: int, budget: int = 100_000) -> int:
    """How many times to time a naive query on a board of `players`: fewer as the board grows (3 to 50)."""
    return max(3, min(50, budget // players))


def compare_at_sizes(space: Keyspace, sizes: Sequence[int], *, seed: int = 0, repeat: int = 200,
                     naive_budget: int = 100_000, load: Callable[[Leaderboard, dict[str, int]], object] | None = None) -> list[ScaleRow]:
    """Load a board of each size (reusing one already full), then time top-10 and rank on each approach.

    The sorted set is timed at every size in alternating rounds, so its growth from the smallest to the
    largest board compares like with like even while the machine's load changes. `load(board, scores)`
    fills a board (default: `board.load(scores)`). The three approaches must return the same top 10
    and rank, or this raises LabError.
    """
    boards, probes = [], []
    naive_rows: list[ScaleRow] = []
    for n in sizes:
        scores = bulk_scores(n, seed)
        board = Leaderboard(space, f"scale:{n}")
        if board.count() != n:
            board.clear()
            (load or (lambda b, s: b.load(s)))(board, scores)
        probe = f"p{n // 2:07d}"
        sqlite = SqliteBoard(scores)
        naive: dict[str, ListBoard | SqliteBoard] = {"Python list": ListBoard(scores), "SQLite ORDER BY": sqlite}
        answers = {"sorted set": (board.top(10), board.rank(probe))}
        answers.update({name: (b.top(10), b.rank(probe)) for name, b in naive.items()})
        if len({repr(a) for a in answers.values()}) != 1:
            raise LabError(f"the approaches disagree at {n:,} players: {answers}")
        times = naive_repeat(n, naive_budget)
        for name, b in naive.items():
            naive_rows.append(ScaleRow(n, name, measure(lambda: b.top(10), times, warmup=1),
                                       measure(lambda: b.rank(probe), times, warmup=1)))
        sqlite.close()
        boards.append(board)
        probes.append(probe)
    warmup = max(1, min(10, repeat // 20))  # few untimed calls: each is a round trip on a distant server
    tops = measure_interleaved([partial(board.top, 10) for board in boards], repeat, warmup=warmup)
    ranks = measure_interleaved([partial(board.rank, probe) for board, probe in zip(boards, probes)], repeat,
                                warmup=warmup)
    rows = [ScaleRow(n, "sorted set", top, rank) for n, top, rank in zip(sizes, tops, ranks)]
    return sorted(rows + naive_rows, key=lambda row: (row.players, APPROACHES.index(row.approach)))


def growth(rows: Sequence[ScaleRow], approach: str, query: str = "top10") -> float:
    """p50 at the largest size over p50 at the smallest, for one approach and query ('top10' or 'rank')."""
    mine = sorted((r for r in rows if r.approach == approach), key=lambda r: r.players)
    return getattr(mine[-1], query).p50 / getattr(mine[0], query).p50


def growth_summary(rows: Sequence[ScaleRow], query: str = "top10", *, flat: float = 5, steep: float = 20) -> str:
    """One line: each approach's p50 at the largest size over the smallest, and whether the sorted set stayed flat.

    The verdict holds with a wide margin on any machine and network: the sorted set grows less than
    `flat` times while both naive boards grow more than `steep` times.
    """
    grew = {approach: growth(rows, approach, query) for approach in APPROACHES}
    sizes = sorted({r.players for r in rows})
    ratios = ", ".join(f"{approach} {g:.1f}×" for approach, g in grew.items())
    shape = grew["sorted set"] < flat and min(grew["Python list"], grew["SQLite ORDER BY"]) > steep
    verdict = ("the sorted set stays flat, sorting per query grows with the board" if shape else
               f"NOT the expected shape (sorted set under {flat:g}×, both naive boards over {steep:g}×)")
    return f"{query}, time at {sizes[-1]:,} ÷ time at {sizes[0]:,} players: {ratios}: {verdict}"


def plot_scale(rows: Sequence[ScaleRow], title: str) -> Figure:
    """Log-log plot of p50 latency against board size, one line per approach and query.

    The figure is closed in pyplot, so it is shown once: where the cell returns it.
    """
    fig, ax = plt.subplots(figsize=(7, 4))
    plt.close(fig)
    for approach, colour in zip(APPROACHES, ("tab:green", "tab:orange", "tab:blue")):
        mine = sorted((r for r in rows if r.approach == approach), key=lambda r: r.players)
        sizes = [r.players for r in mine]
        ax.plot(sizes, [r.top10.p50 * 1e3 for r in mine], "o-", color=colour, label=f"{approach}: top 10")
        ax.plot(sizes, [r.rank.p50 * 1e3 for r in mine], "s--", color=colour, label=f"{approach}: rank")
    ax.set(xscale="log", yscale="log", xlabel="players on the board", ylabel="p50 latency per query (ms)", title=title)
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    return fig
