"""Every query of a board against a plain-Python reference, on seeded random operations: both orders, every ranking, every backend."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from labkit.errors import BadArgument
from labkit.leaderboards.board import Entry, Leaderboard
from labkit.leaderboards.combine import intersect_boards, merge_boards
from labkit.leaderboards.ranking import Aggregate, Order, Ranking


class Reference:
    """What a leaderboard should answer, from a dict and Python's sort."""

    def __init__(self, order: Order) -> None:
        self.order = order
        self.scores: dict[str, float] = {}

    def ordered(self) -> list[tuple[str, float]]:
        # Equal scores by member bytes: A to Z on a lowest-first board, Z to A on a highest-first one.
        return sorted(self.scores.items(), key=lambda kv: (kv[1], kv[0].encode()), reverse=self.order.descending)

    def rank_at(self, index: int, score: float, ranking: Ranking) -> int:
        better = [v for v in self.scores.values() if self.order.better(v, score)]
        if ranking is Ranking.ORDINAL:
            return index + 1
        return 1 + (len(better) if ranking is Ranking.COMPETITION else len(set(better)))

    def entries(self, start: int, stop: int, ranking: Ranking) -> list[Entry]:
        rows = self.ordered()
        return [Entry(self.rank_at(i, s, ranking), p, s) for i, (p, s) in enumerate(rows[start:stop + 1], start)]

    def index(self, player: str) -> int | None:
        names = [p for p, _ in self.ordered()]
        return names.index(player) if player in names else None

    def submit(self, player: str, score: float) -> float:
        old = self.scores.get(player)
        self.scores[player] = score if old is None or self.order.better(score, old) else old
        return self.scores[player]

    def add(self, results: list[tuple[str, float]]) -> dict[str, float] | None:
        totals = dict(self.scores)
        for player, points in results:
            totals[player] = totals.get(player, 0.0) + points
            if not math.isfinite(totals[player]):
                return None  # refused: nothing changes
        self.scores = totals
        return {p: totals[p] for p, _ in results}

    def keep_best(self, n: int) -> int:
        kept = dict(self.ordered()[:n])
        removed = len(self.scores) - len(kept)
        self.scores = kept
        return removed

    def between(self, low: float, high: float, ranking: Ranking) -> list[Entry]:
        rows = self.ordered()
        return [Entry(self.rank_at(i, s, ranking), p, s) for i, (p, s) in enumerate(rows) if low <= s <= high]

    def percentile(self, player: str) -> float | None:
        if player not in self.scores:
            return None
        score = self.scores[player]
        return 100.0 * sum(self.order.better(score, v) for v in self.scores.values()) / len(self.scores)


NAMES = ["amy", "zoe", "bob", "cat", "dan", "eve", "fox", "gil", "ann", "zed", "Émile", "bo b", "Zoe"]
SCORES = [10, 20, 20, 30, 45.5, -5, 0.5, 0, 1e308, -1e308]
RANKINGS = list(Ranking)


def check_queries(board: Leaderboard, model: Reference, rng: random.Random) -> None:
    for ranking in RANKINGS:
        check_queries_ranked(board, model, rng, ranking)


def check_queries_ranked(board: Leaderboard, model: Reference, rng: random.Random, ranking: Ranking) -> None:
    assert board.count() == len(model.scores)
    n = rng.randint(1, 14)
    assert board.top(n, ranking) == model.entries(0, n - 1, ranking)
    size = rng.randint(1, 5)
    assert board.pages(size) == math.ceil(len(model.scores) / size)
    for number in range(1, board.pages(size) + 2):
        start = (number - 1) * size
        assert board.page(number, size, ranking) == model.entries(start, start + size - 1, ranking)
    probe = rng.choice(NAMES + ["nobody"])
    index, radius = model.index(probe), rng.randint(0, 3)
    assert board.score(probe) == model.scores.get(probe)
    expected = [] if index is None else model.entries(max(0, index - radius), index + radius, ranking)
    assert board.around(probe, radius, ranking) == expected
    assert board.entry(probe, ranking) == (None if index is None else model.entries(index, index, ranking)[0])
    assert board.rank(probe, ranking) == (None if index is None else expected[min(index, radius)].rank)
    assert board.percentile(probe) == model.percentile(probe)
    low, high = sorted(rng.sample(SCORES[:8], 2))
    assert board.count_between(low, high) == sum(low <= s <= high for s in model.scores.values())
    assert board.between(low, high, ranking) == model.between(low, high, ranking)
    percent = rng.choice([1, 10, 25, 33.3, 50, 100])
    wanted = math.ceil(Fraction(percent) * len(model.scores) / 100)
    assert board.top_percent(percent, ranking) == model.entries(0, wanted - 1, ranking)[:wanted]


@pytest.mark.parametrize("order", list(Order))
@pytest.mark.parametrize("seed", [1, 2])
def test_every_query_matches_the_reference_on_random_operations(space, order, seed):
    rng = random.Random(seed)
    board, model = Leaderboard(space, "random", order=order), Reference(order)
    for step in range(160):
        player = rng.choice(NAMES)
        op = rng.random()
        if op < 0.3:
            score = rng.choice(SCORES)
            assert board.submit(player, score) == model.submit(player, score)
        elif op < 0.7:
            results = [(rng.choice(NAMES), rng.choice(SCORES)) for _ in range(rng.choice([1, 1, 3]))]
            expected = model.add(results)
            if expected is None:
                before = board.top(100)
                with pytest.raises(BadArgument, match="finite"):
                    board.add_many(results)
                assert board.top(100) == before
            else:
                assert board.add_many(results) == expected
        elif op < 0.8:
            assert board.remove(player) == (player in model.scores)
            model.scores.pop(player, None)
        elif op < 0.85:
            n = rng.randint(3, 10)
            assert board.keep_best(n) == model.keep_best(n)
        elif op < 0.9:
            batch = {rng.choice(NAMES): rng.choice(SCORES) for _ in range(4)}
            assert board.load(batch, batch=rng.randint(1, 3)) == len(batch)
            model.scores.update({p: float(s) for p, s in batch.items()})
        if step % 4 == 0:
            check_queries(board, model, rng)
    check_queries(board, model, rng)


@pytest.mark.parametrize("order", list(Order))
def test_a_bounded_board_keeps_only_its_best(space, order):
    board, model = Leaderboard(space, "bounded", order=order, capacity=5), Reference(order)
    rng = random.Random(7)
    for _ in range(60):
        player, score = rng.choice(NAMES), rng.choice(SCORES[:8])
        if rng.random() < 0.5:
            board.submit(player, score)
            model.submit(player, score)
        else:
            board.add_points(player, score)
            model.add([(player, score)])
        model.keep_best(5)
        assert board.top(10, "dense") == model.entries(0, 9, Ranking.DENSE)
    board.load({f"x{i}": i for i in range(20)})
    model.scores.update({f"x{i}": float(i) for i in range(20)})
    model.keep_best(5)
    assert board.count() == 5 and board.top(5) == model.entries(0, 4, Ranking.ORDINAL)


@pytest.mark.parametrize("order", list(Order))
@pytest.mark.parametrize("aggregate", list(Aggregate))
def test_merge_and_intersect_match_the_reference(space, order, aggregate):
    rng = random.Random(f"{order.value}-{aggregate.value}")
    sources = [Leaderboard(space, f"{{season}}:{i}", order=order) for i in range(3)]
    tables = []
    for board in sources:
        table = {p: float(rng.choice(SCORES[:8])) for p in rng.sample(NAMES, 8)}
        board.load(table)
        tables.append(table)
    weights = [1.0, 2.0, 0.5]
    merged = merge_boards(space, "{season}:all", sources, weights=weights, aggregate=aggregate)
    common = intersect_boards(space, "{season}:every", sources, weights=weights, aggregate=aggregate, ttl=60)
    for board, keep in ((merged, lambda p: any(p in t for t in tables)), (common, lambda p: all(p in t for t in tables))):
        model = Reference(order)
        for player in NAMES:
            if keep(player):
                model.scores[player] = aggregate.combine([w * t[player] for w, t in zip(weights, tables) if player in t])
        assert board.order is order
        assert board.top(20, "competition") == model.entries(0, 19, Ranking.COMPETITION)
    assert 0 < common.ttl() <= 60 and merged.ttl() is None


def test_a_merge_that_overflows_is_refused_and_leaves_no_board(space):
    sources = [Leaderboard(space, f"{{big}}:{i}") for i in range(2)]
    for board in sources:
        board.load({"amy": 1e308, "bob": 1})
    with pytest.raises(BadArgument, match="finite"):
        merge_boards(space, "{big}:sum", sources)
    assert Leaderboard(space, "{big}:sum").count() == 0
    assert merge_boards(space, "{big}:max", sources, aggregate="max").score("amy") == 1e308


def test_multi_key_commands_need_one_slot_on_a_cluster(space):
    from labkit.backend.connection import is_cluster

    apart = [Leaderboard(space, "north"), Leaderboard(space, "south")]
    for board in apart:
        board.load({"amy": 1})
    if is_cluster(space.client):
        with pytest.raises(BadArgument, match="hash tag") as refused:
            merge_boards(space, "both", apart)
        assert "slot" in str(refused.value) and space.key("north") in str(refused.value)
    else:  # a single server has no slots
        assert merge_boards(space, "both", apart).score("amy") == 2
