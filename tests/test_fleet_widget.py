"""The fleet control's logic, driven without a browser."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib

from labkit.fleet_widget import FleetControl

matplotlib.use("Agg")


def test_run_updates_progress_counts_and_status() -> None:
    control = FleetControl(servers=3, policy="round_robin", users=30, skew=0.0, seed=1)
    control.run(300)
    assert (control.progress.value, control.progress.max) == (300, 300)
    assert control.fleet.summary().total == 300
    assert "<td><b>total</b></td><td>300</td>" in control.counts.value
    assert control.status.value == "Ran 300 requests."


def test_stop_and_restart_buttons_act_on_the_chosen_server() -> None:
    control = FleetControl(servers=3, policy="sticky", users=30, seed=1)
    control.target.value = "app-2"
    control.stop_button.click()
    assert control.fleet.balancer.up == ["app-1", "app-3"] and "app-2 (down)" in control.counts.value
    control.run_button.click()
    assert "app-2" not in {r.server for r in control.fleet.records}
    control.restart_button.click()
    assert control.fleet.balancer.up == ["app-1", "app-2", "app-3"]
    assert control.status.value == "Restarted app-2 (with an empty memory)."


def test_changing_a_setting_builds_a_new_fleet() -> None:
    control = FleetControl(servers=3, users=30)
    control.run(50)
    control.servers.value = 5
    control.policy.value = "sticky_hash"
    assert control.fleet.names == ["app-1", "app-2", "app-3", "app-4", "app-5"]
    assert control.fleet.policy == "sticky_hash" and control.fleet.records == []
    assert control.target.options == tuple(control.fleet.names)


def test_every_control_is_labelled() -> None:
    control = FleetControl()
    unlabelled = [w for w in _leaves(control.view)
                  if isinstance(w, (widgets.ValueWidget, widgets.Button))
                  and not isinstance(w, widgets.Label) and not w.description]
    assert unlabelled == []


def _leaves(widget: widgets.Widget) -> list[widgets.Widget]:
    children = getattr(widget, "children", None)
    if not children:
        return [widget]
    return [leaf for child in children for leaf in _leaves(child)]


def test_plot_has_a_fixed_size_and_one_bar_pair_per_server() -> None:
    from labkit import Fleet
    from labkit.fleet_plots import plot_fleet

    fleet = Fleet(servers=4)
    fleet.run(200)
    figure = plot_fleet(fleet.summary())
    assert tuple(figure.get_size_inches()) == (7.0, 3.2)
    assert len(figure.axes[0].patches) == 8  # requests and logouts for each of 4 servers
