"""The handout: private (0600, atomic, never through a symlink), a CSV Excel reads, a card per student."""

from __future__ import annotations

import csv
import os
import stat
import subprocess
from pathlib import Path

import pytest

import labkit
from labkit import cli
from labkit.classroom.handout import SHELLS, handout_rows, write_handout, write_private
from labkit.classroom.roster import Learner
from labkit.errors import ClassroomError


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_private_files_are_0600_whatever_was_there_and_never_written_through_a_symlink(tmp_path: Path) -> None:
    old = tmp_path / "class.csv"
    old.write_text("old, readable by everyone")
    old.chmod(0o644)
    write_private(old, "new")
    assert old.read_text() == "new" and _mode(old) == 0o600
    target = tmp_path / "elsewhere.txt"
    target.write_text("not the handout")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    write_private(link, "secret")
    assert target.read_text() == "not the handout", "the link was replaced, not followed"
    assert not link.is_symlink() and link.read_text() == "secret" and _mode(link) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["class.csv", "elsewhere.txt", "link.csv"], "no temp file left"


def test_a_failed_write_leaves_the_old_handout_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "class.csv"
    path.write_text("the only copy of the passwords")
    monkeypatch.setattr(os, "replace", lambda *args: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(ClassroomError, match=r"could not write .*class.csv \(No space left on device\); any file there"):
        write_private(path, "half")
    assert path.read_text() == "the only copy of the passwords" and [p.name for p in tmp_path.iterdir()] == ["class.csv"]


def test_csv_has_a_bom_for_excel_and_keeps_accented_names(tmp_path: Path) -> None:
    learners = {Learner("Søren Kierkegaard", "soren-kierkegaard"): "pw1", Learner("Zoë Łukasz", "zoe-lukasz"): "pw2"}
    rows = handout_rows(learners, "redis://admin:x@class.example.edu:6380/0")
    cards = write_handout(tmp_path / "class.csv", rows, "7.0.15")
    raw = (tmp_path / "class.csv").read_bytes()
    assert raw.startswith("\ufeff".encode()) and "Søren Kierkegaard".encode() in raw
    read = list(csv.DictReader((tmp_path / "class.csv").open(encoding="utf-8-sig")))
    assert [row["name"] for row in read] == ["Søren Kierkegaard", "Zoë Łukasz"]
    soren = read[0]
    assert soren["REDIS_URL"] == "redis://lab-soren-kierkegaard:pw1@class.example.edu:6380/0"
    assert soren["bash / zsh"] == f"export REDIS_URL='{soren['REDIS_URL']}' LABKIT_LEARNER=soren-kierkegaard"
    assert soren["PowerShell"] == f"$env:REDIS_URL = '{soren['REDIS_URL']}'; $env:LABKIT_LEARNER = 'soren-kierkegaard'"
    assert soren["cmd"] == f'set "REDIS_URL={soren["REDIS_URL"]}" & set "LABKIT_LEARNER=soren-kierkegaard"'
    page = cards.read_text(encoding="utf-8")
    assert _mode(cards) == 0o600 and page.count("<section>") == 2 and "Søren Kierkegaard" in page
    for shell in SHELLS:
        assert shell in page
    assert "Backend: Redis 7.0.15 at class.example.edu:6380 · learner soren-kierkegaard · keys under " \
           "lab:soren-kierkegaard:01:" in page
    assert "NOT the class server" in page and "rejected the login" in page


def test_the_shell_lines_set_what_the_lab_reads(tmp_path: Path) -> None:
    rows = handout_rows({Learner("Ana", "ana"): "Zx-_9"}, "redis://h:6380/0")
    line = rows[0]["bash / zsh"] + '; echo "$REDIS_URL" "$LABKIT_LEARNER"'
    done = subprocess.run(["bash", "-c", line], capture_output=True, text=True, check=True).stdout.split()
    assert done == ["redis://lab-ana:Zx-_9@h:6380/0", "ana"]


def test_create_over_an_open_handout_makes_it_private(admin_url: str, tmp_path: Path) -> None:
    path = tmp_path / "class.csv"
    path.write_text("name,LABKIT_LEARNER,REDIS_URL\n")
    path.chmod(0o644)
    assert cli.main(["class", "--admin-url", admin_url, "create", "--count", "2", "--handout", str(path)]) == 0
    assert _mode(path) == 0o600 and _mode(tmp_path / "class-cards.html") == 0o600
    url = next(csv.DictReader(path.open(encoding="utf-8-sig")))["REDIS_URL"]
    assert labkit.connect(url).acl_whoami() == "lab-learner01"


def test_a_tls_card_shows_the_tls_banner(tmp_path: Path) -> None:
    rows = handout_rows({Learner("Ana", "ana"): "pw"}, "rediss://h.example.edu:6381/0?ssl_ca_certs=ca.crt")
    page = write_handout(tmp_path / "c.csv", rows, "7.0.15").read_text(encoding="utf-8")
    assert "Backend: Redis 7.0.15 at h.example.edu:6381 over TLS · learner ana · keys under lab:ana:01:" in page
    assert rows[0]["REDIS_URL"] == "rediss://lab-ana:pw@h.example.edu:6381/0?ssl_ca_certs=ca.crt"


def test_create_says_which_ids_were_shortened(admin_url: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    roster = tmp_path / "roster.txt"
    roster.write_text("María José de los Ángeles Fernández\nBo\n", encoding="utf-8")
    assert cli.main(["class", "--admin-url", admin_url, "create", "--roster", str(roster),
                     "--handout", str(tmp_path / "c.csv")]) == 0
    assert "note: 'María José de los Ángeles Fernández' has the learner id 'maria-jose-de-los-angeles'" \
        in capsys.readouterr().err
