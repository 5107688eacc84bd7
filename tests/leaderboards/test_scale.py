"""The naive boards answer like the sorted set; the scale comparison measures every approach at every size."""

from __future__ import annotations

from labkit.leaderboards.board import Leaderboard
from labkit.leaderboards.game import bulk_scores
from labkit.leaderboards.naive import ListBoard, SqliteBoard
from labkit.leaderboards.scale import APPROACHES, TABLE_HEAD, ScaleRow, compare_at_sizes, growth, growth_summary, naive_repeat, plot_scale
from labkit.timing import Latency


def test_naive_boards_agree_with_the_sorted_set_including_ties(space):
    scores = {**bulk_scores(300, seed=9, high=50), "amy": 90, "zoe": 90}
    board = Leaderboard(space, "naive")
    board.load(scores)
    sqlite = SqliteBoard(scores)
    for naive in (ListBoard(scores), sqlite):
        assert naive.top(12) == board.top(12)
        assert [naive.rank(p) for p in ("amy", "zoe", "p0000150", "nobody")] == \
               [board.rank(p) for p in ("amy", "zoe", "p0000150", "nobody")]
    sqlite.close()


def test_compare_at_sizes_times_each_approach_and_reuses_full_boards(space):
    loads = []
    rows = compare_at_sizes(space, [100, 400], repeat=5, load=lambda b, s: loads.append(b.load(s)))
    assert [(r.players, r.approach) for r in rows] == [(n, a) for n in (100, 400) for a in APPROACHES]
    assert all(r.top10.samples == 5 for r in rows if r.approach == "sorted set")
    assert loads == [100, 400]
    compare_at_sizes(space, [400], repeat=5, load=lambda b, s: loads.append(b.load(s)))
    assert loads == [100, 400]  # the board of 400 was already full
    assert growth(rows, "sorted set") > 0 and TABLE_HEAD.count("|") == str(rows[0]).count("|")
    assert [naive_repeat(n) for n in (1_000, 10_000, 100_000)] == [50, 10, 3]
    assert len(plot_scale(rows, "test").axes[0].lines) == 6


def _rows(sorted_set: float, listed: float, sqlite: float) -> list[ScaleRow]:
    """Rows whose p50 at 100,000 players is the given multiple of the p50 at 1,000."""
    def latency(p50: float) -> Latency:
        return Latency(samples=5, p50=p50, p99=p50, mean=p50)
    return [ScaleRow(n, approach, latency(1e-4 * (g if n > 1_000 else 1)), latency(1e-4 * (g if n > 1_000 else 1)))
            for n in (1_000, 100_000) for approach, g in zip(APPROACHES, (sorted_set, listed, sqlite))]


def test_growth_summary_gives_the_ratios_and_a_verdict_that_flips_only_outside_the_margins():
    line = growth_summary(_rows(1.1, 900, 150), "rank")
    assert line.startswith("rank, time at 100,000 ÷ time at 1,000 players: sorted set 1.1×, Python list 900.0×")
    assert line.endswith("the sorted set stays flat, sorting per query grows with the board")
    assert "NOT the expected shape" in growth_summary(_rows(6, 900, 150))   # the sorted set grew
    assert "NOT the expected shape" in growth_summary(_rows(1, 900, 12))    # a naive board stayed flat
