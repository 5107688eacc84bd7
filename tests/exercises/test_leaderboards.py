"""Notebook 03's checks judge what an answer does: a corpus of right and wrong answers, on every backend.

Each row: an answer a learner could write, the verdict the check must give, and words its line must
contain (for a wrong answer, words naming what this answer did wrong) and words it must not.
"""

from __future__ import annotations

from importlib.util import find_spec

import pytest

import labkit
from labkit.exercises.leaderboards import check_around_me, check_competition_rank, check_page


def stub(*args):
    raise NotImplementedError  # your code here


def lua_works(client) -> bool:
    return not labkit.is_fake(client) or find_spec("lupa") is not None



def assert_verdict(check, answer, lua_answer, space, capsys, passes, words, never):
    """Run `check` on `answer`: its verdict, and the words its line must (and must never) hold."""
    if answer is lua_answer and not lua_works(space.client):
        pytest.skip("EVAL needs fakeredis's lua extra (lupa)")
    result = check(answer, space)
    line = capsys.readouterr().out
    assert bool(result) is passes, line
    for word in words:
        assert word in line, (word, line)
    for word in never:
        assert word not in line, (word, line)

# --- 03.1: competition rank on a lowest-first board ---------------------------------------------------

def rank_raw(client, key, player):
    score = client.zscore(key, player)
    if score is None:
        return None
    return client.zcount(key, "-inf", f"({score}") + 1


def rank_labkit(client, key, player):
    board = labkit.Leaderboard(labkit.Keyspace(client, ""), key, order="lowest_first")
    return board.rank(player, "competition")


def rank_byscore(client, key, player):
    score = client.zscore(key, player)
    if score is None:
        return None
    return len(client.zrangebyscore(key, "-inf", score)) - client.zcount(key, score, score) + 1


def rank_python(client, key, player):
    scores = dict(client.zrange(key, 0, -1, withscores=True))
    if player not in scores:
        return None
    return 1 + sum(1 for s in scores.values() if s < scores[player])


RANK_LUA = """
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s then return nil end
return redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. s) + 1
"""


def rank_lua(client, key, player):
    return client.eval(RANK_LUA, 1, key, player)


def rank_highest_first(client, key, player):  # the formula the notebook showed, not transferred
    score = client.zscore(key, player)
    return None if score is None else client.zcount(key, f"({score}", "+inf") + 1


def rank_ordinal(client, key, player):
    index = client.zrank(key, player)
    return None if index is None else index + 1


def rank_zero_based(client, key, player):
    return client.zrank(key, player)


def rank_no_plus_one(client, key, player):
    score = client.zscore(key, player)
    return None if score is None else client.zcount(key, "-inf", f"({score}")


def rank_inclusive(client, key, player):
    score = client.zscore(key, player)
    return None if score is None else client.zcount(key, "-inf", score) + 1


def rank_dense(client, key, player):
    score = client.zscore(key, player)
    if score is None:
        return None
    return len({s for _, s in client.zrangebyscore(key, "-inf", f"({score}", withscores=True)}) + 1


def rank_as_str(client, key, player):
    rank = rank_raw(client, key, player)
    return None if rank is None else str(rank)


def rank_crashes_on_unknown(client, key, player):
    score = client.zscore(key, player)
    return client.zcount(key, "-inf", f"({score}") + 1  # "(None": the server refuses it


def rank_zero_for_unknown(client, key, player):
    return rank_raw(client, key, player) or 0


def rank_unpacks(client, key, player):
    index, score = client.zrank(key, player)  # a slip: ZRANK gives one number
    return index


RANK_CASES = [
    (rank_raw, True, ["share rank 1"], []),
    (rank_labkit, True, ["passed"], []),
    (rank_byscore, True, ["passed"], []),
    (rank_python, True, ["passed"], []),
    (rank_lua, True, ["passed"], []),
    (rank_highest_first, False, ["MORE strokes", "strictly LESS"], ["add 1"]),
    (rank_ordinal, False, ["position", "share"], ["add 1", "0-based"]),
    (rank_zero_based, False, ["0-based"], []),
    (rank_no_plus_one, False, ["plus one"], ["share"]),
    (rank_inclusive, False, ["EQUAL strokes", "'('"], ["plus one", "add 1"]),
    (rank_dense, False, ["dense"], ["add 1"]),
    (rank_as_str, False, ["str", "int"], []),
    (rank_crashes_on_unknown, False, ["player not on the board", "ResponseError", "line", "return None"], []),
    (rank_zero_for_unknown, False, ["return None"], []),
    (rank_unpacks, False, ["TypeError", "line", "index, score"], []),
    (stub, False, ["stub"], []),
]


@pytest.mark.parametrize("answer, passes, words, never", RANK_CASES, ids=lambda v: getattr(v, "__name__", None))
def test_competition_rank_check(space, capsys, answer, passes, words, never):
    assert_verdict(check_competition_rank, answer, rank_lua, space, capsys, passes, words, never)
    assert list(space.keys()) == []  # the check cleans up its board


# --- 03.2: pages ----------------------------------------------------------------------------------

def page_raw(client, key, number, size):
    start = (number - 1) * size
    return client.zrevrange(key, start, start + size - 1, withscores=True)


def page_desc(client, key, number, size):
    return client.zrange(key, (number - 1) * size, number * size - 1, desc=True, withscores=True)


def page_rev_command(client, key, number, size):
    rows = client.execute_command("ZRANGE", key, (number - 1) * size, number * size - 1, "REV", "WITHSCORES")
    return [tuple(row) for row in rows]


def page_labkit(client, key, number, size):
    board = labkit.Leaderboard(labkit.Keyspace(client, ""), key)
    return [(e.player, e.score) for e in board.page(number, size)]


PAGE_LUA = "return redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'REV', 'WITHSCORES')"


def page_lua(client, key, number, size):
    flat = client.eval(PAGE_LUA, 1, key, (number - 1) * size, number * size - 1)
    return [(flat[i], float(flat[i + 1])) for i in range(0, len(flat), 2)]


def page_lists(client, key, number, size):  # pairs as two-item lists: still pairs, so accepted
    start = (number - 1) * size
    return [[player, score] for player, score in client.zrevrange(key, start, start + size - 1, withscores=True)]


def page_pipelined(client, key, number, size):
    with client.pipeline(transaction=False) as pipe:
        pipe.zcard(key)
        pipe.zrange(key, (number - 1) * size, number * size - 1, desc=True, withscores=True)
        _, rows = pipe.execute()
    return rows


def page_by_score_with_limit(client, key, number, size):
    return client.zrevrangebyscore(key, "+inf", "-inf", start=(number - 1) * size, num=size, withscores=True)


def page_names_then_scores(client, key, number, size):
    start = (number - 1) * size
    names = client.zrevrange(key, start, start + size - 1)
    return [(name, client.zscore(key, name)) for name in names]


def page_whole_board_sliced(client, key, number, size):  # right rows, but the whole board crosses the network
    start = (number - 1) * size
    return client.zrange(key, 0, -1, desc=True, withscores=True)[start:start + size]


def page_whole_board_pipelined(client, key, number, size):
    pipe = client.pipeline()
    pipe.zrevrange(key, 0, -1, withscores=True)
    rows = pipe.execute()[0]
    return rows[(number - 1) * size:number * size]


def page_whole_board_raw(client, key, number, size):
    flat = client.execute_command("ZRANGE", key, 0, -1, "REV", "WITHSCORES")
    rows = [tuple(row) for row in flat]
    return rows[(number - 1) * size:number * size]


def page_from_the_top(client, key, number, size):  # every page before this one read too
    start = (number - 1) * size
    return client.zrevrange(key, 0, start + size - 1, withscores=True)[start:]


def page_scanned_and_sorted(client, key, number, size):
    rows = sorted(client.zscan_iter(key), key=lambda row: (-row[1], row[0]), reverse=False)
    rows = sorted(rows, key=lambda row: (row[1], row[0]), reverse=True)
    return rows[(number - 1) * size:number * size]


def page_inclusive_slip(client, key, number, size):
    start = (number - 1) * size
    return client.zrevrange(key, start, start + size, withscores=True)


def page_zero_based(client, key, number, size):
    return client.zrevrange(key, number * size, number * size + size - 1, withscores=True)


def page_ascending(client, key, number, size):
    return client.zrange(key, (number - 1) * size, number * size - 1, withscores=True)


def page_short(client, key, number, size):
    start = (number - 1) * size
    return client.zrevrange(key, start, start + size - 2, withscores=True)


def page_names_only(client, key, number, size):
    return client.zrevrange(key, (number - 1) * size, number * size - 1)


def page_dict(client, key, number, size):
    return dict(page_raw(client, key, number, size))


def page_none_past_end(client, key, number, size):
    return page_raw(client, key, number, size) or None


PAGE_CASES = [
    (page_raw, True, ["partial last page"], []),
    (page_desc, True, ["passed"], []),
    (page_rev_command, True, ["passed"], []),
    (page_labkit, True, ["passed"], []),
    (page_lua, True, ["passed"], []),
    (page_lists, True, ["passed"], []),
    (page_pipelined, True, ["passed"], []),
    (page_by_score_with_limit, True, ["passed"], []),
    (page_names_then_scores, True, ["passed"], []),
    (page_whole_board_sliced, False, ["page 40 of size 10", "your page read all 1,000 players from Redis to return 10",
                                      "ask Redis for the page only"], []),
    (page_whole_board_pipelined, False, ["read all 1,000 players"], []),
    (page_whole_board_raw, False, ["read all 1,000 players"], []),
    (page_from_the_top, False, ["your page read 400 players from Redis to return 10"], ["all 1,000"]),
    (page_scanned_and_sorted, False, ["read all 1,000 players"], []),
    (page_inclusive_slip, False, ["one too many", "inclusive"], ["start at 1"]),
    (page_zero_based, False, ["start at 1", "(n - 1) * size"], ["inclusive"]),
    (page_ascending, False, ["lowest score", "REV"], []),
    (page_short, False, ["one too few"], []),
    (page_names_only, False, ["(player, score) pair"], ["unpack"]),
    (page_dict, False, ["dict", "list"], []),
    (page_none_past_end, False, ["past the last page", "[]"], []),
    (stub, False, ["stub"], []),
]


@pytest.mark.parametrize("answer, passes, words, never", PAGE_CASES, ids=lambda v: getattr(v, "__name__", None))
def test_page_check(space, capsys, answer, passes, words, never):
    assert_verdict(check_page, answer, page_lua, space, capsys, passes, words, never)


# --- 03.3: around me ---------------------------------------------------------------------------------

def around_raw(client, key, player, radius):
    index = client.zrevrank(key, player)
    if index is None:
        return []
    start = max(0, index - radius)
    rows = client.zrevrange(key, start, index + radius, withscores=True)
    return [(start + i + 1, p, s) for i, (p, s) in enumerate(rows)]


def around_labkit(client, key, player, radius):
    return labkit.Leaderboard(labkit.Keyspace(client, ""), key).around(player, radius)  # Entry objects


def around_desc(client, key, player, radius):
    index = client.zrevrank(key, player)
    if index is None:
        return []
    first = index - radius if index >= radius else 0
    rows = client.zrange(key, first, index + radius, desc=True, withscores=True)
    return [(first + 1 + i, name, score) for i, (name, score) in enumerate(rows)]


AROUND_LUA = """
local i = redis.call('ZREVRANK', KEYS[1], ARGV[1])
if not i then return {} end
local start = math.max(0, i - tonumber(ARGV[2]))
local rows = redis.call('ZRANGE', KEYS[1], start, i + tonumber(ARGV[2]), 'REV', 'WITHSCORES')
local out = {}
for j = 1, #rows, 2 do out[#out + 1] = {start + (j + 1) / 2, rows[j], rows[j + 1]} end
return out
"""


def around_lua(client, key, player, radius):
    return client.eval(AROUND_LUA, 1, key, player, radius)


def around_unclipped(client, key, player, radius):
    index = client.zrevrank(key, player)
    if index is None:
        return []
    rows = client.zrevrange(key, index - radius, index + radius, withscores=True)
    return [(index - radius + i + 1, p, s) for i, (p, s) in enumerate(rows)]


def around_clipped_range_only(client, key, player, radius):  # the range clipped, the ranks still from index - radius
    index = client.zrevrank(key, player)
    if index is None:
        return []
    rows = client.zrevrange(key, max(0, index - radius), index + radius, withscores=True)
    return [(index - radius + i + 1, p, s) for i, (p, s) in enumerate(rows)]


def around_one_added_twice(client, key, player, radius):
    return [(r + 1, p, s) for r, p, s in around_raw(client, key, player, radius)]


def around_zero_based(client, key, player, radius):
    return [(r - 1, p, s) for r, p, s in around_raw(client, key, player, radius)]


def around_window_ranks(client, key, player, radius):
    return [(i + 1, p, s) for i, (_, p, s) in enumerate(around_raw(client, key, player, radius))]


def around_none(client, key, player, radius):
    return around_raw(client, key, player, radius) or None


def around_pairs(client, key, player, radius):
    return [(p, s) for _, p, s in around_raw(client, key, player, radius)]


def around_short(client, key, player, radius):
    index = client.zrevrank(key, player)
    if index is None:
        return []
    start = max(0, index - radius)
    rows = client.zrevrange(key, start, index + radius - 1, withscores=True)
    return [(start + i + 1, p, s) for i, (p, s) in enumerate(rows)]


def around_crashes_on_unknown(client, key, player, radius):
    index = client.zrevrank(key, player)
    start = max(0, index - radius)  # TypeError for an unknown player
    rows = client.zrevrange(key, start, index + radius, withscores=True)
    return [(start + i + 1, p, s) for i, (p, s) in enumerate(rows)]


AROUND_CASES = [
    (around_raw, True, ["clipped at the top"], []),
    (around_labkit, True, ["passed"], []),
    (around_desc, True, ["passed"], []),
    (around_lua, True, ["passed"], []),
    (around_unclipped, False, ["'player00' with radius 2", "reaches above rank 1", "counts from the END", "Clip"],
     []),
    (around_clipped_range_only, False, ["'player00' with radius 2", "ranks are [0, 1, 2, 3], expected [1, 2, 3, 4]",
                                        "right in the middle", "clipped at 0", "index - radius (-1)"],
     ["0-based", "one too small"]),
    (around_one_added_twice, False, ["one too large", "[11, 12, 13, 14, 15]"], ["0-based"]),
    (around_zero_based, False, ["0-based"], ["Clip"]),
    (around_window_ranks, False, ["whole board"], ["0-based"]),
    (around_none, False, ["return []"], []),
    (around_pairs, False, ["(rank, player, score) triple"], ["unpack"]),
    (around_short, False, ["inclusive"], []),
    (around_crashes_on_unknown, False, ["TypeError", "line", "not on the board"], []),
    (stub, False, ["stub"], []),
]


@pytest.mark.parametrize("answer, passes, words, never", AROUND_CASES, ids=lambda v: getattr(v, "__name__", None))
def test_around_me_check(space, capsys, answer, passes, words, never):
    assert_verdict(check_around_me, answer, around_lua, space, capsys, passes, words, never)
