"""Learner ids from roster names: letters kept, cut only at a word (or said), unique; who runs the lab."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

import labkit
from labkit.backend.keyspace import current_learner, id_is_shortened, learner_id, learner_prefix
from labkit.classroom.roster import Learner, numbered, read_roster, shortened
from labkit.errors import ClassroomError


@pytest.mark.parametrize("name, expected", [
    ("alice", "alice"), ("Bob Smith", "bob-smith"), ("Ana María", "ana-maria"), ("a*b?[c]:d", "a-b-c-d"),
    ("../etc", "etc"), ("", "learner"),
    ("Søren Kierkegaard", "soren-kierkegaard"), ("Bjørn Stålsett", "bjorn-stalsett"), ("Łukasz Żółć", "lukasz-zolc"),
    ("Straße", "strasse"), ("Ægir Þórsson", "aegir-thorsson"), ("Œuvre Đorđe", "oeuvre-dorde"),
    ("Дмитрий Шостакович", "dmitrii-shostakovich"), ("Σωκράτης", "sokratis"),
    ("María José de los Ángeles Fernández", "maria-jose-de-los-angeles"),  # whole words only
    ("x" * 40, "x" * 32),  # one word longer than an id can be: cut, and reported
])
def test_learner_ids_keep_letters_and_stay_safe_in_key_patterns(name: str, expected: str) -> None:
    assert learner_id(name) == expected
    assert learner_prefix(expected) == f"lab:{expected}:"


def test_a_shortened_id_is_reported_never_silent(tmp_path: Path) -> None:
    assert id_is_shortened("María José de los Ángeles Fernández") and id_is_shortened("x" * 40)
    assert not id_is_shortened("Søren Kierkegaard")
    roster = tmp_path / "roster.txt"
    roster.write_text("María José de los Ángeles Fernández\nBo\n", encoding="utf-8")
    notes = shortened(read_roster(roster))
    assert len(notes) == 1 and "'maria-jose-de-los-angeles'" in notes[0] and "whole word" in notes[0]


def test_namespace_comes_from_setting_then_class_user_then_hub_user_then_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABKIT_PREFIX", raising=False)
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-bob")
    monkeypatch.setenv("LABKIT_LEARNER", "Zoë Q")
    monkeypatch.setenv("REDIS_URL", "redis://lab-alice:pw@127.0.0.1:6379/0")
    assert labkit.lab_prefix() == "lab:zoe-q:"
    monkeypatch.delenv("LABKIT_LEARNER")
    assert labkit.lab_prefix() == "lab:alice:"
    monkeypatch.setenv("REDIS_URL", "redis://admin:pw@127.0.0.1:6379/0")
    assert current_learner() == "hub-bob", "every hub container runs as jovyan: the hub's user name tells them apart"
    monkeypatch.delenv("JUPYTERHUB_USER")
    assert current_learner() == learner_id(getpass.getuser())
    monkeypatch.setattr(getpass, "getuser", lambda: (_ for _ in ()).throw(OSError("no login name")))
    assert current_learner() == "learner"
    monkeypatch.setenv("LABKIT_PREFIX", "course:")
    assert labkit.lab_prefix() == "course:"


def test_learner_prefix_refuses_unsafe_ids() -> None:
    with pytest.raises(ValueError, match="not a safe learner id"):
        learner_prefix("*")


def test_roster_names_map_to_ids_and_bad_rosters_are_named(tmp_path: Path) -> None:
    roster = tmp_path / "roster.txt"
    roster.write_text("\ufeff# class of 2024\nAlice\n\n  Søren Kierkegaard  \n", encoding="utf-8")  # a BOM is fine
    assert read_roster(roster) == [Learner("Alice", "alice"), Learner("Søren Kierkegaard", "soren-kierkegaard")]
    roster.write_text("Ana Maria\nana-maria\n")
    with pytest.raises(ClassroomError, match=r"roster.txt:1 'Ana Maria' and .*roster.txt:2 'ana-maria' would share"):
        read_roster(roster)
    roster.write_text("Alice\n李\n")
    with pytest.raises(ClassroomError, match=r"roster.txt:2: '李' has no letters usable"):
        read_roster(roster)
    roster.write_text("# nobody yet\n")
    with pytest.raises(ClassroomError, match="names nobody"):
        read_roster(roster)
    roster.write_bytes("Zoë\n".encode("latin-1"))
    with pytest.raises(ClassroomError, match="not UTF-8 text: save it as UTF-8"):
        read_roster(roster)
    with pytest.raises(ClassroomError, match="cannot read the roster"):
        read_roster(tmp_path / "missing.txt")
    assert [learner.id for learner in numbered(3)] == ["learner01", "learner02", "learner03"]
    with pytest.raises(ClassroomError, match="from 1 to 1000"):
        numbered(0)
