"""docs/instructor-guide.md: every bash block runs, in order, in one shell, against the server it starts itself."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT
from tests.support.servers import free_port, openssl_path, redis_server_path

GUIDE = ROOT / "docs" / "instructor-guide.md"
BLOCK = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.M | re.S)
SETTING = re.compile(r'^(?P<name>[A-Z_]+)=(?P<value>"[^"]*"|\S+)(?P<rest>.*)$')


def blocks(kind: str) -> list[str]:
    """The guide's fenced blocks of one kind, in order."""
    return [body for found, body in BLOCK.findall(GUIDE.read_text(encoding="utf-8")) if found == kind]


def with_settings(block: str, settings: dict[str, str]) -> str:
    """The first block with the test's values in place of the guide's (only those names, nothing else)."""
    lines = []
    for line in block.splitlines():
        match = SETTING.match(line)
        if match and match["name"] in settings:
            line = f"{match['name']}={shlex.quote(settings.pop(match['name']))}{match['rest']}"
        lines.append(line)
    assert not settings, f"the guide's first block no longer sets {sorted(settings)}"
    return "\n".join(lines)


def test_only_files_and_root_commands_are_left_unrun() -> None:
    kinds = [kind for kind, _ in BLOCK.findall(GUIDE.read_text(encoding="utf-8"))]
    assert set(kinds) <= {"bash", "ini", "python", "text"}, "a block kind the guide's test does not know"
    assert kinds.count("bash") >= 10
    unit = blocks("ini")[0]
    assert "ExecStart=/usr/bin/redis-server /home/instructor/redis-class/class.conf --daemonize no" in unit
    assert all(line.startswith(("sudo ", "#")) for line in blocks("text")[0].splitlines()), "root-only commands"


@pytest.mark.skipif(redis_server_path() is None or openssl_path() is None or shutil.which("redis-cli") is None,
                    reason="needs redis-server, redis-cli and openssl")
def test_every_command_of_the_guide_runs(tmp_path: Path) -> None:
    if not (ROOT / ".venv" / "bin" / "activate").is_file():
        pytest.skip("the guide activates the lab's .venv, and this checkout has none")
    home = tmp_path / "home"
    home.mkdir()
    settings = {"LAB_DIR": str(ROOT), "CLASS_DIR": str(home / "redis-class"), "PORT": str(free_port()),
                "TLS_PORT": str(free_port()), "BIND": "127.0.0.1", "CLASS_HOST": "localhost"}
    first, *rest = blocks("bash")
    script = "set -euo pipefail\n" + "\n".join([with_settings(first, settings), *rest])
    env = {**os.environ, "HOME": str(home)}
    for name in ("REDIS_URL", "LABKIT_LEARNER", "LABKIT_PREFIX", "JUPYTERHUB_USER"):
        env.pop(name, None)
    pidfile = home / "redis-class" / "redis.pid"
    try:
        done = subprocess.run(["bash", "-c", script], cwd=home, env=env, capture_output=True, text=True, timeout=300)
    finally:
        if pidfile.is_file():  # the daemonized server the guide started, if the guide did not stop it
            try:
                os.kill(int(pidfile.read_text()), signal.SIGTERM)
            except ProcessLookupError:
                pass
    assert done.returncode == 0, f"the guide's commands failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    out = done.stdout
    # The checks the guide tells the instructor to run: before, after a restart, and over TLS.
    assert out.count("· learner ana-maria · keys under lab:ana-maria:00:") == 3
    assert "3 learners in class 'class'" in out and "3 kept their passwords" in out and "saved to the aclfile" in out
    assert "over TLS" in out and "Ana María" in out and "passed by" in out
    class_dir = home / "redis-class"
    assert (class_dir / "lab-bundle.zip").is_file() and (class_dir / "grades.csv").is_file()
    assert (class_dir / "class.png").read_bytes().startswith(b"\x89PNG")
    assert "c.Spawner.environment.update" in (class_dir / "labkit_hub.py").read_text()
    assert oct((class_dir / "class.csv").stat().st_mode & 0o777) == "0o600"


def _anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_guides_links_lead_somewhere() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    anchors = {"": {_anchor(h) for h in re.findall(r"^#+ (.*)$", GUIDE.read_text(encoding="utf-8"), re.M)},
               "../README.md": {_anchor(h) for h in re.findall(r"^#+ (.*)$", readme, re.M)}}
    links = re.findall(r"\]\(((?:\.\./README\.md)?)#([^)]+)\)", GUIDE.read_text(encoding="utf-8"))
    assert links and all(anchor in anchors[page] for page, anchor in links), \
        [f"{page}#{anchor}" for page, anchor in links if anchor not in anchors[page]]
    for page, anchor in re.findall(r"\]\((docs/instructor-guide\.md)#([^)]+)\)", readme):
        assert anchor in anchors[""], f"README links to {page}#{anchor}, which the guide has no heading for"
