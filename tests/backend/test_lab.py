"""open_lab: the banner (backend, learner, namespace, a missing class server), a fresh keyspace, old servers refused."""

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
    out = capsys.readouterr().out
    assert out.startswith("Backend: ") and out.strip().endswith(f" · keys under {space.prefix}99:")


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("REDIS_URL", "LABKIT_PREFIX", "LABKIT_LEARNER", "JUPYTERHUB_USER"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_banner_names_the_learner_and_namespace_on_one_line(embedded, capsys) -> None:
    embedded.setenv("REDIS_URL", "")  # the embedded backend, chosen on purpose
    embedded.setenv("LABKIT_LEARNER", "Søren")
    labkit.open_lab("01")
    line, = capsys.readouterr().out.splitlines()
    assert line.startswith("Backend: fakeredis ") and line.endswith(" · learner soren · keys under lab:soren:01:")


@pytest.mark.parametrize("variable", ["LABKIT_LEARNER", "JUPYTERHUB_USER"])
def test_a_class_meant_but_missing_is_said_on_the_banner_line(variable: str, embedded, capsys) -> None:
    embedded.setenv(variable, "alice")  # a handout's variable reached the kernel, REDIS_URL did not
    labkit.open_lab("01")
    line, = capsys.readouterr().out.splitlines()  # one line: nbval's sanitizer replaces it whole
    assert line.startswith("Backend: fakeredis ") and " · learner alice · " in line
    assert f"NOT the class server: {variable} is set but REDIS_URL is not, in this kernel" in line
    assert "then start JupyterLab again from it" in line


def test_working_alone_there_is_no_warning(embedded, capsys) -> None:
    labkit.open_lab("01")
    assert "NOT the class server" not in capsys.readouterr().out


def test_a_server_older_than_6_2_is_refused_with_the_reason(monkeypatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr(notebook, "server_version", lambda client: (6, 0, 16))
    with pytest.raises(labkit.LabConnectionError, match=r"too old for this lab: it needs Redis 6\.2"):
        labkit.open_lab("99")


def test_a_full_server_notice_says_what_happens_and_what_to_do() -> None:
    class Full:
        def info(self, section: str) -> dict:
            return {"maxmemory": 100 * 2**20, "used_memory": 99 * 2**20}

    notice = notebook.full_notice(Full())
    assert notice.startswith("The class server is full: 99 MB of its 100 MB in use") and "Nothing stored is lost" in notice
    assert "Tell your instructor" in notice
