from labkit.timing import format_duration, measure, measure_interleaved, measure_side_by_side, summarise


def test_percentiles_pick_from_the_sorted_samples() -> None:
    latency = summarise([float(i) for i in range(100, 0, -1)])
    assert (latency.samples, latency.p50, latency.p99) == (100, 51.0, 100.0)


def test_format_duration_units() -> None:
    assert format_duration(0.000412) == "412 µs"
    assert format_duration(0.0032) == "3.20 ms"
    assert format_duration(1.5) == "1.50 s"


def test_measure_counts_only_timed_calls() -> None:
    calls = []
    latency = measure(lambda: calls.append(1), repeat=20, warmup=5)
    assert latency.samples == 20 and len(calls) == 25 and latency.p99 >= latency.p50 >= 0


def test_side_by_side_alternates_rounds_and_counts_each_side() -> None:
    order = []
    first, second = measure_side_by_side(lambda: order.append("a"), lambda: order.append("b"),
                                         repeat=20, rounds=4)
    assert (first.samples, second.samples) == (20, 20)
    timed = order[100:]  # after 50 warm-up calls of each
    assert timed == (["a"] * 5 + ["b"] * 5) * 4


def test_interleaved_takes_turns_round_after_round() -> None:
    order: list[str] = []
    latencies = measure_interleaved([lambda: order.append("a"), lambda: order.append("b"), lambda: order.append("c")],
                                    repeat=6, rounds=3, warmup=1)
    assert [latency.samples for latency in latencies] == [6, 6, 6]
    assert order == ["a", "b", "c"] + (["a"] * 2 + ["b"] * 2 + ["c"] * 2) * 3
    assert [latency.samples for latency in measure_interleaved([lambda: None], repeat=5, rounds=10, warmup=0)] == [5]
