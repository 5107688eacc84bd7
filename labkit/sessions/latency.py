"""What a measured session read says about the lesson's "sub-millisecond session reads", on the backend in use."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from labkit.backend.connection import Client, backend_banner, is_fake
from labkit.timing import format_duration, summarise

SUB_MILLISECOND = 1e-3  # seconds: the lesson's claim


def read_verdict(p50: float, client: Client) -> str:
    """One sentence on the lesson's sub-millisecond claim, given a read's measured median on `client`'s backend."""
    where = backend_banner(client).removeprefix("Backend: ")
    took = format_duration(p50)
    if is_fake(client):
        return (f"On {where}, a read took {took}: that times Python code only, with no network and no server, "
                "so it neither confirms nor refutes the lesson's sub-millisecond figure.")
    if p50 < SUB_MILLISECOND:
        return (f"On {where}, a read took {took}: under a millisecond, as the lesson says. Reads stay that "
                "fast only while the app servers sit this close to the cache.")
    return (f"Over this link to {where}, a read took {took}: the lesson's sub-millisecond figure needs the app "
            "servers next to the cache (in its Availability Zone), not this far away.")


def plot_round_trips(samples: Sequence[float]) -> Figure:
    """A histogram of call-to-reply times (seconds, drawn in ms: round trips on a server) with the p50 and p99 marked."""
    latency = summarise(list(samples))
    millis = [s * 1000 for s in samples]
    figure, axes = plt.subplots(figsize=(7, 2.6), layout="constrained")
    plt.close(figure)  # shown once, where the cell returns it
    axes.hist(millis, bins=20, color="#4c72b0")
    for value, name, style in ((latency.p50, "p50", "-"), (latency.p99, "p99", "--")):
        axes.axvline(value * 1000, color="black", linestyle=style, label=f"{name} {format_duration(value)}")
    axes.set_xlabel("call to reply (ms): the round trip on a server")
    axes.set_ylabel("calls")
    axes.set_title(f"{latency.samples:,} calls")
    axes.legend(frameon=False)
    return figure
