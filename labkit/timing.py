"""Latency measurement shared by the notebooks and benchmarks: percentiles, printed with units."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Latency:
    """Percentiles of repeated calls, in seconds."""

    samples: int
    p50: float
    p99: float
    mean: float

    def __str__(self) -> str:
        return f"p50 {format_duration(self.p50)}, p99 {format_duration(self.p99)} over {self.samples:,} calls"


def measure(call: Callable[[], object], repeat: int = 1000, warmup: int = 50) -> Latency:
    """Time `call` `repeat` times (after `warmup` untimed calls) and summarise."""
    for _ in range(warmup):
        call()
    clock = time.perf_counter
    samples = []
    for _ in range(repeat):
        started = clock()
        call()
        samples.append(clock() - started)
    return summarise(samples)


def measure_side_by_side(first: Callable[[], object], second: Callable[[], object], repeat: int = 1000,
                         rounds: int = 10) -> tuple[Latency, Latency]:
    """Time two calls in alternating rounds, so a change in machine load hits both alike."""
    first_latency, second_latency = measure_interleaved([first, second], repeat, rounds)
    return first_latency, second_latency


def measure_interleaved(calls: Sequence[Callable[[], object]], repeat: int = 1000, rounds: int = 10,
                        warmup: int = 50) -> list[Latency]:
    """Time several calls in turn, round after round, so a change in machine load hits them all alike."""
    for _ in range(warmup):
        for call in calls:
            call()
    clock = time.perf_counter
    samples: list[list[float]] = [[] for _ in calls]
    rounds = max(1, min(rounds, repeat))
    per_round = repeat // rounds
    for _ in range(rounds):
        for call, into in zip(calls, samples):
            for _ in range(per_round):
                started = clock()
                call()
                into.append(clock() - started)
    return [summarise(into) for into in samples]


def summarise(samples: list[float]) -> Latency:
    """Latency percentiles of raw durations in seconds."""
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return Latency(len(ordered), pick(0.50), pick(0.99), statistics.fmean(ordered))


def format_duration(seconds: float) -> str:
    """A duration with a readable unit: '412 µs', '3.20 ms', '1.50 s' (sanitized in nbval)."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"
