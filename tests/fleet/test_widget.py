"""The fleet control's logic, driven without a browser."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib
import pytest

from labkit.fleet.widget import FleetControl

matplotlib.use("Agg")


def test_run_updates_progress_counts_and_status() -> None:
    control = FleetControl(servers=3, policy="round_robin", users=30, skew=0.0, seed=1)
    control.run(300)
    assert (control.progress.value, control.progress.max) == (300, 300)
    assert control.fleet.summary().total == 300
    assert "<td><b>total</b></td><td>300</td>" in control.counts.value
    assert control.status.value == "Ran 300 requests."


@pytest.mark.parametrize(("servers", "low", "high"), [(1, 0.0, 0.0), (2, 0.45, 0.55), (3, 0.6, 0.72)])
def test_counts_show_the_share_of_sessions_logged_out(servers: int, low: float, high: float) -> None:
    # What notebook 01 asks the learner to predict: round-robin over n servers loses (n-1)/n of them.
    control = FleetControl(servers=servers, policy="round_robin", users=100, skew=0.0, seed=0)
    assert "0 of 0 requests that carried a session were logged out</p>" in control.counts.value
    control.run(1000)
    records = control.fleet.records
    carried = sum(r.session != "none" for r in records)
    lost = sum(r.logged_out for r in records)
    assert carried > 300 and low <= lost / carried <= high
    assert f"{lost:,} of {carried:,} requests that carried a session were logged out ({lost / carried:.0%})" in (
        control.counts.value)


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


def test_a_server_is_chosen_from_the_start_and_kept_across_new_fleets() -> None:
    control = FleetControl(servers=3, policy="sticky", users=30, seed=1)
    assert control.target.value == "app-1"
    control.stop_button.click()  # before choosing anything: stops the first server
    assert control.fleet.balancer.up == ["app-2", "app-3"] and control.status.value == "Stopped app-1."
    control.target.value = "app-3"
    control.servers.value = 4
    assert control.target.value == "app-3"  # still there: still chosen
    control.servers.value = 2
    assert control.target.value == "app-1"  # gone: the first server instead


def test_a_refused_button_shows_why_in_the_status_line() -> None:
    control = FleetControl(servers=2, users=30)
    control.target.options = ()  # nothing to choose, so the buttons act on no server
    control.stop_button.click()
    assert control.status.value == "Not done: no server None; this fleet has app-1, app-2"
    for bad in (0, 200_000, 2.5):
        with pytest.raises(ValueError, match=f"a whole number from 1 to 100,000, not {bad}"):
            control.run(bad)
    assert control.fleet.records == [] and control.requests.value == 1000


def test_run_shows_its_request_count_in_the_box_and_beside_the_bar() -> None:
    control = FleetControl(servers=2, users=30)
    assert control.requests.value == 1000 and control.progress_text.value == "0 of 0 requests"
    control.run(500)
    assert control.requests.value == 500 and control.progress_text.value == "500 of 500 requests"
    control.run_button.click()  # runs what the box says
    assert control.fleet.summary().total == 1000 and control.status.value == "Ran 500 requests."


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
    from labkit.fleet.plots import plot_fleet

    fleet = Fleet(servers=4)
    fleet.run(200)
    figure = plot_fleet(fleet.summary())
    assert tuple(figure.get_size_inches()) == (7.0, 3.2)
    assert len(figure.axes[0].patches) == 8  # requests and logouts for each of 4 servers
