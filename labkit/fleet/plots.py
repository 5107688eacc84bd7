"""Plots of the fleet's records: requests and logouts per server, always at the same size."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from labkit.fleet.records import FleetSummary

FIGSIZE = (7.0, 3.2)


def plot_fleet(summary: FleetSummary, title: str = "Requests and logouts per app server") -> Figure:
    """Bars of requests per server, with the logouts among them in a second colour.

    The figure is closed in pyplot, so it is shown once: where the cell returns it (with every
    matplotlib version, whatever its inline backend does with figures left open).
    """
    names = list(summary.requests)
    requests = [summary.requests[n] for n in names]
    lost = [summary.logouts.get(n, 0) for n in names]
    fig, ax = plt.subplots(figsize=FIGSIZE)
    plt.close(fig)
    ax.bar(names, requests, color="#9db4d6", label="requests")
    ax.bar(names, lost, color="#d9534f", label="of which logged the user out")
    for x, count in enumerate(requests):
        ax.annotate(f"{count:,}", (x, count), ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("requests")
    ax.set_ylim(0, max(requests + [1]) * 1.35)
    ax.set_title(title)
    ax.legend(loc="upper left", ncol=2, fontsize=9, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
