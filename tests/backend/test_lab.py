"""open_lab: the banner, a fresh keyspace of the notebook's own, and a refusal of too-old servers."""

from __future__ import annotations

import pytest

import labkit
from labkit.backend import lab as notebook


def test_open_lab_clears_only_its_own_keyspace(space: labkit.Keyspace, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LABKIT_PREFIX", space.prefix)
    space.client.set(space.key("99", "stale"), "from an earlier run")
    space.client.set(space.key("other"), "not this notebook's")
    lab = labkit.open_lab("99")
    assert lab.prefix == space.prefix + "99:" and list(lab.keys()) == []
    assert space.client.get(space.key("other")) == "not this notebook's"
    assert capsys.readouterr().out.startswith("Backend: ")


def test_a_server_older_than_6_2_is_refused_with_the_reason(monkeypatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(notebook, "server_version", lambda client: (6, 0, 16))
    with pytest.raises(labkit.LabConnectionError, match=r"too old for this lab: it needs Redis 6\.2"):
        labkit.open_lab("99")
