from labkit.timing import format_duration, measure, summarise


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
