"""Class progress: states, names, last check, pass counts, CSV, live mode, heat map; forged data never crashes it."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import nbformat
import pytest

import labkit
from labkit import cli
from labkit.classroom.collected import collected_progress
from labkit.classroom.progress import Row, State, ago, progress_csv, progress_figure, progress_table, read_progress
from labkit.classroom.roster import Learner

SOREN, ANA = Learner("Søren Kierkegaard", "soren-kierkegaard"), Learner("Ana María", "ana-maria")
NOW = 1_800_000_000.0


def _rows() -> list[Row]:
    return [Row(SOREN, {"01.1": State.PASSED, "01.2": State.ATTEMPTED, "02.1": State.NOT_STARTED}, NOW - 720),
            Row(ANA, {"01.1": State.PASSED, "01.2": State.PASSED, "02.1": State.UNREADABLE}, None, ["a note"])]


def test_the_table_shows_roster_names_states_last_check_and_pass_counts() -> None:
    assert progress_table(_rows(), ["01.1", "01.2", "02.1"], now=NOW).splitlines() == [
        "learner            01.1  01.2  02.1  passed  last check",
        "Ana María           ✓     ✓     ?       2/3  never",
        "Søren Kierkegaard   ✓     ✗     ·       1/3  12 min ago",
        "passed by           2     1     0    of 2",
        "✓ passed   ✗ attempted, not passed yet   · not started   ? unreadable (see the notes)",
        "note: a note",
    ]
    assert [ago(NOW - s, NOW) for s in (5, 61, 7300, 90000)] == ["just now", "1 min ago", "2 h ago", "2027-01-14"]


def test_the_csv_is_for_a_gradebook() -> None:
    text = progress_csv(_rows(), ["01.1", "01.2", "02.1"])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows == [["name", "LABKIT_LEARNER", "01.1", "01.2", "02.1", "passed", "last check (UTC)"],
                    ["Ana María", "ana-maria", "passed", "passed", "unreadable", "2", ""],
                    ["Søren Kierkegaard", "soren-kierkegaard", "passed", "attempted", "not started", "1",
                     "2027-01-15 07:48:00"]]


def test_the_heat_map_has_a_cell_per_learner_and_exercise() -> None:
    figure = progress_figure(_rows(), ["01.1", "01.2", "02.1"])
    axes = figure.axes[0]
    assert axes.images[0].get_array().shape == (2, 3)
    assert [label.get_text() for label in axes.get_yticklabels()] == ["Ana María", "Søren Kierkegaard"]
    assert [label.get_text() for label in axes.get_xticklabels()] == ["01.1", "01.2", "02.1"]


FORGED = {  # what a learner may write in her own progress hashes, key k and its :at companion
    "a string": lambda r, k: r.set(k, "not a hash"),
    "a list": lambda r, k: r.rpush(k, "x"),
    "extra fields": lambda r, k: r.hset(k, mapping={"01.1": "pass", "zz.9": "pass", "<script>": "x" * 500}),
    "odd values": lambda r, k: (r.hset(k, mapping={"01.1": "PASSED!!", "01.2": "not yet"}),
                                r.hset(k + ":at", "01.2", "yesterday")),
    "bad times": lambda r, k: (r.hset(k, "01.1", "pass"), r.hset(k + ":at", mapping={"01.1": "inf", "01.2": "1e300"})),
    "times not a hash": lambda r, k: (r.hset(k, "01.1", "pass"), r.set(k + ":at", "x")),
    "not UTF-8": lambda r, k: (r.hset(k, mapping={"01.1": b"\xff\xfe", "01.2": "pass"}),
                               r.hset(k + ":at", "01.2", b"\xff")),
    "huge": lambda r, k: r.hset(k, mapping={f"f{i}": "pass" for i in range(20_000)}),
}


@pytest.mark.parametrize("forgery", FORGED)
def test_progress_survives_forged_learner_data(forgery: str, admin_url: str, handout: dict[str, str],
                                               capsys: pytest.CaptureFixture) -> None:
    alice = labkit.connect(handout["alice"])
    bob = labkit.connect(handout["bob"])
    bob.hset("lab:bob:progress", "01.1", "pass")
    bob.hset("lab:bob:progress:at", "01.1", int(time.time()))
    with alice.pipeline(transaction=False) as pipe:  # a learner's own key, written with her own rights
        FORGED[forgery](pipe, "lab:alice:progress")
        pipe.execute()
    capsys.readouterr()
    assert cli.main(["class", "--admin-url", admin_url, "progress"]) == 0
    table = capsys.readouterr().out.splitlines()
    exercises = table[0].split()[1:-3]
    assert "zz.9" not in exercises and "<script>" not in table[0], "only the lab's exercise columns"
    bob_row = next(line for line in table if line.startswith("Bob"))
    assert bob_row.split()[1] == "✓" and bob_row.endswith("just now")
    alice_row = next(line for line in table if line.startswith("Alice")).split()
    if forgery in ("a string", "a list"):
        assert set(alice_row[1:1 + len(exercises)]) == {"?"}
        assert "note: lab:alice:progress is not a hash, so it cannot be read: `labkit class reset alice`" in "\n".join(table)
    if forgery == "odd values":
        assert alice_row[1:3] == ["?", "✗"] and "note: lab:alice:progress field '01.1' holds 'PASSED!!'" in "\n".join(table)
    if forgery == "not UTF-8":
        assert alice_row[1:3] == ["?", "✓"] and "bytes that are not UTF-8 text" in "\n".join(table)
    if forgery in ("bad times", "times not a hash"):
        assert alice_row[1] == "✓" and alice_row[-1] == "never"
        assert ("not a time" if forgery == "bad times" else "progress:at is not a hash") in "\n".join(table)


def test_progress_lists_only_this_class_with_roster_names(admin_url: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    roster = tmp_path / "roster.txt"
    roster.write_text("Søren Kierkegaard\n", encoding="utf-8")
    assert cli.main(["class", "--admin-url", admin_url, "create", "--roster", str(roster),
                     "--handout", str(tmp_path / "c.csv")]) == 0
    admin = labkit.connect(admin_url)
    admin.hset("lab:root:progress", "01.1", "pass")  # the instructor's own run: not a learner
    admin.hset("lab:intruder:progress", "01.1", "pass")
    capsys.readouterr()
    assert cli.main(["class", "--admin-url", admin_url, "progress", "--csv", str(tmp_path / "p.csv")]) == 0
    out = capsys.readouterr().out
    assert "Søren Kierkegaard" in out and "root" not in out and "intruder" not in out
    assert (tmp_path / "p.csv").read_text(encoding="utf-8-sig").splitlines()[1].startswith("Søren Kierkegaard,")


def test_watch_refreshes_a_bounded_number_of_times(admin_url: str, handout: dict[str, str], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    capsys.readouterr()
    assert cli.main(["class", "--admin-url", admin_url, "progress", "--watch", "--interval", "0", "--rounds", "3",
                     "--plot", str(tmp_path / "class.png")]) == 0
    assert capsys.readouterr().out.count("passed by") == 3
    assert (tmp_path / "class.png").read_bytes().startswith(b"\x89PNG")


def _notebook(folder: Path, name: str, lines: list[str], learner: str) -> None:
    banner = f"Backend: fakeredis 2.41.0 (embedded in this kernel, no server) · learner {learner} · keys under lab:{learner}:01:\n"
    cells = [nbformat.v4.new_code_cell("lab = labkit.open_lab('01')", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text=banner)])]
    cells += [nbformat.v4.new_code_cell("check()", outputs=[nbformat.v4.new_output("stream", name="stdout", text=line)])
              for line in lines]
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / name)


def test_a_laptop_class_reads_collected_folders_and_says_whose_row_is_whose(tmp_path: Path,
                                                                            capsys: pytest.CaptureFixture) -> None:
    _notebook(tmp_path / "Søren Kierkegaard", "01_the_broken_setup.ipynb",
              ["✓ Exercise 01.1 passed: fine\n", "✗ Exercise 01.2, not yet: look again\n",
               "✗ Exercise 01.3, not yet: the exercise cell above still has its stub; replace it\n"], "soren-kierkegaard")
    _notebook(tmp_path / "Ana María" / "learner", "01_the_broken_setup.ipynb",
              ["✓ Exercise 01.2 passed: fine\n"], "bob")
    (tmp_path / "Empty").mkdir()
    (tmp_path / "Broken").mkdir()
    (tmp_path / "Broken" / "02_redis_sessions.ipynb").write_text("{not json")
    rows = {row.learner.name: row for row in collected_progress(tmp_path, ["01.1", "01.2", "01.3"])}
    assert [s.value for s in rows["Søren Kierkegaard"].states.values()] == ["passed", "attempted", "not started"]
    assert [s.value for s in rows["Ana María"].states.values()] == ["not started", "passed", "not started"]
    assert "ran as learner bob" in rows["Ana María"].notes[0]
    assert "cannot be read as a notebook" in rows["Broken"].notes[0] and "no lab notebooks" in rows["Empty"].notes[0]
    capsys.readouterr()
    assert cli.main(["class", "progress", "--collected", str(tmp_path)]) == 0
    assert "Søren Kierkegaard" in capsys.readouterr().out
    assert cli.main(["class", "progress", "--collected", str(tmp_path / "nowhere")]) == 2


def test_reading_progress_needs_no_learner_to_have_started(admin_url: str, handout: dict[str, str]) -> None:
    admin = labkit.connect(admin_url)
    rows = read_progress(admin, [Learner("Alice", "alice")], ["01.1"])
    assert rows[0].states == {"01.1": State.NOT_STARTED} and rows[0].last is None and rows[0].notes == []
