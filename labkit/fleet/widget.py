"""An ipywidgets control over the fleet: servers, policy, stop/restart a server, run traffic.

Each button's work is a plain method (`rebuild`, `run`, `stop`, `restart`), so tests drive the
control without a browser; the widgets only call those methods and show the result. A button
whose action is refused (say, a server that is not there) shows why in the status line.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display

from labkit.errors import BadArgument, NoSuchServer
from labkit.fleet.balancer import POLICIES
from labkit.fleet.fleet import Fleet, StoreFactory, memory_stores
from labkit.fleet.plots import plot_fleet
from labkit.fleet.traffic import Traffic

LABEL_STYLE = {"description_width": "110px"}


class FleetControl:
    """A fleet with controls; display it in a notebook cell, or call its methods directly."""

    def __init__(self, servers: int = 3, policy: str = "round_robin", *, users: int = 100,
                 skew: float = 1.2, store_factory: StoreFactory = memory_stores, seed: int = 0) -> None:
        self.store_factory = store_factory
        self.seed = seed
        layout = widgets.Layout(width="340px")
        # Number boxes, not sliders: a screen reader announces a box's label (a slider's goes unnamed).
        self.servers = widgets.BoundedIntText(servers, min=1, max=6, description="App servers",
                                              style=LABEL_STYLE, layout=layout)
        self.policy = widgets.Dropdown(options=POLICIES, value=policy, description="Balancer policy",
                                       style=LABEL_STYLE, layout=layout)
        self.skew = widgets.BoundedFloatText(skew, min=0.0, max=2.0, step=0.1, description="Traffic skew",
                                             style=LABEL_STYLE, layout=layout)
        self.users = widgets.BoundedIntText(users, min=1, max=5000, description="Users", style=LABEL_STYLE,
                                            layout=layout)
        self.requests = widgets.BoundedIntText(1000, min=1, max=100_000, description="Requests to run",
                                               style=LABEL_STYLE, layout=layout)
        self.target = widgets.Dropdown(description="Server", style=LABEL_STYLE, layout=layout)
        fit = widgets.Layout(width="auto")  # a button as wide as its label, never cut off
        self.run_button = widgets.Button(description="Run requests", button_style="primary", icon="play",
                                         tooltip="Send the requests through the load balancer", layout=fit)
        self.stop_button = widgets.Button(description="Stop server", button_style="danger", icon="stop",
                                          tooltip="Stop the chosen server: its in-memory sessions are lost",
                                          layout=fit)
        self.restart_button = widgets.Button(description="Restart server", icon="refresh", layout=fit,
                                             tooltip="Start the chosen server again, with an empty memory")
        self.reset_button = widgets.Button(description="New fleet", icon="undo", layout=fit,
                                           tooltip="Build a new fleet with the settings above")
        self.progress = widgets.IntProgress(0, min=0, max=1, description="Progress", style=LABEL_STYLE,
                                            layout=layout)
        self.progress_text = widgets.Label()  # the bar's figures in words: "500 of 1,000 requests"
        self.counts = widgets.HTML(description="Counts", style=LABEL_STYLE)
        self.status = widgets.Label()
        self.plot = widgets.Output()
        self.run_button.on_click(self._guarded(lambda: self.run(self.requests.value)))
        self.stop_button.on_click(self._guarded(lambda: self.stop(self.target.value)))
        self.restart_button.on_click(self._guarded(lambda: self.restart(self.target.value)))
        self.reset_button.on_click(self._guarded(self.rebuild))
        for setting in (self.servers, self.policy, self.skew, self.users):
            setting.observe(self._guarded(self.rebuild), names="value")
        self.fleet: Fleet
        self.traffic: Traffic
        self.rebuild()

    # -- what the controls do ----------------------------------------------------------------
    def rebuild(self) -> Fleet:
        """A new fleet and traffic from the current settings (counts start again from zero).

        The chosen server stays chosen if the new fleet has it; otherwise the first one is chosen.
        """
        self.fleet = Fleet(self.servers.value, self.policy.value, self.store_factory, seed=self.seed)
        self.traffic = Traffic(self.users.value, skew=self.skew.value, seed=self.seed)
        chosen = self.target.value
        self.target.options = self.fleet.names
        self.target.value = chosen if chosen in self.fleet.names else self.fleet.names[0]
        self._show_progress(0, 0)
        self._show(f"New fleet: {self.servers.value} servers, {self.policy.value}.", plot=False)
        return self.fleet

    def run(self, requests: int) -> None:
        """Send `requests` requests of the traffic, updating progress and counts as they go.

        The "Requests to run" box shows `requests`, so the controls agree with what ran.
        """
        box = self.requests
        if not isinstance(requests, int) or not box.min <= requests <= box.max:
            raise BadArgument(f"requests to run must be a whole number from {box.min:,} to {box.max:,}, "
                             f"not {requests!r}")
        box.value = requests
        self._show_progress(0, requests)

        def advance(done: int, total: int) -> None:
            self._show_progress(done, total)
            self.counts.value = self._counts_html()

        self.fleet.run(requests, self.traffic, progress=advance)
        self._show(f"Ran {requests:,} requests.")

    def stop(self, name: str) -> None:
        """Stop a server (its users' in-memory sessions go with it)."""
        self.fleet.stop(name)
        self._show(f"Stopped {name}.", plot=False)

    def restart(self, name: str) -> None:
        """Start a server again, with a fresh store from the factory."""
        self.fleet.restart(name)
        self._show(f"Restarted {name} (with an empty memory).", plot=False)

    # -- showing it --------------------------------------------------------------------------
    @property
    def view(self) -> widgets.Widget:
        """The whole control, labelled and keyboard-usable (standard widgets only)."""
        buttons = widgets.HBox([self.run_button, self.reset_button])
        servers = widgets.HBox([self.stop_button, self.restart_button])
        progress = widgets.HBox([self.progress, self.progress_text])
        settings = widgets.VBox([self.servers, self.policy, self.users, self.skew, self.requests, buttons,
                                 self.target, servers, progress, self.counts, self.status])
        return widgets.VBox([settings, self.plot])

    def _ipython_display_(self) -> None:
        display(self.view)

    def _guarded(self, action: Callable[[], object]) -> Callable[[object], None]:
        """A widget callback doing `action`; a refusal shows in the status line instead of a hidden log."""
        def callback(_: object) -> None:
            try:
                action()
            except (NoSuchServer, BadArgument) as error:
                self.status.value = f"Not done: {error}"
        return callback

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.max, self.progress.value = max(total, 1), done
        self.progress_text.value = f"{done:,} of {total:,} requests"

    def _counts_html(self) -> str:
        summary = self.fleet.summary()
        up = set(self.fleet.balancer.up)
        cells = "".join(
            f"<tr><td>{name}{'' if name in up else ' (down)'}</td><td>{count:,}</td>"
            f"<td>{summary.logouts.get(name, 0):,}</td></tr>" for name, count in summary.requests.items())
        carried = sum(1 for r in self.fleet.records if r.carried_cookie)
        share = f" ({summary.total_logouts / carried:.0%})" if carried else ""
        return (f"<table><tr><th>server</th><th>requests</th><th>logouts</th></tr>{cells}"
                f"<tr><td><b>total</b></td><td>{summary.total:,}</td><td>{summary.total_logouts:,}</td></tr></table>"
                f"<p>{summary.total_logouts:,} of {carried:,} requests that carried a session "
                f"were logged out{share}</p>")

    def _show(self, message: str, plot: bool = True) -> None:
        self.status.value = message
        self.counts.value = self._counts_html()
        if plot and self.fleet.records:
            with self.plot:
                self.plot.clear_output(wait=True)
                figure = plot_fleet(self.fleet.summary())
                display(figure)
                plt.close(figure)
