"""What learners are handed: the instructor's CSV (one row each) and a printable card per student.

Both hold passwords, so both are written privately: mode 0600 whatever was there before, into a new
file renamed over the old one (atomic: a reader sees the old or the new file, never half of one), and
never through a symlink (the rename replaces a link; it does not follow it). The CSV starts with a
UTF-8 byte-order mark, so spreadsheet programs (Excel) read accented names intact.
"""

from __future__ import annotations

import csv
import html
import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from labkit.backend.connection import redact
from labkit.classroom.roster import Learner
from labkit.config import ENV_LEARNER, ENV_URL
from labkit.errors import ClassroomError

SHELLS = {  # column -> the line that sets both variables in that shell
    "bash / zsh": "export {url_var}='{url}' {learner_var}={learner}",
    "PowerShell": "$env:{url_var} = '{url}'; $env:{learner_var} = '{learner}'",
    "cmd": 'set "{url_var}={url}" & set "{learner_var}={learner}"',
}
COLUMNS = ("name", ENV_LEARNER, ENV_URL, *SHELLS)
FIRST_CELL = "Backend: Redis {version} at {host}{tls} · learner {learner} · keys under lab:{learner}:01:"


def learner_url(base_url: str, learner: Learner, password: str) -> str:
    """`base_url` (scheme, host, port, options) logged in as `learner`, on database 0 (their only one)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ClassroomError(f"{redact(base_url)!r} is not a server address learners can use: give "
                             "redis://host:port/0 (or rediss:// for TLS) with --learner-url")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = f"{learner.user}:{password}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc, path="/0"))


def handout_rows(passwords: dict[Learner, str], base_url: str) -> list[dict[str, str]]:
    """One row per learner: their name, LABKIT_LEARNER, REDIS_URL and the line that sets both in each shell."""
    rows = []
    for learner, password in sorted(passwords.items(), key=lambda item: item[0].id):
        url = learner_url(base_url, learner, password)
        row = {"name": learner.name, ENV_LEARNER: learner.id, ENV_URL: url}
        for shell, line in SHELLS.items():
            row[shell] = line.format(url_var=ENV_URL, url=url, learner_var=ENV_LEARNER, learner=learner.id)
        rows.append(row)
    return rows


def read_handout(path: Path) -> dict[str, str]:
    """The REDIS_URLs of an existing handout, by learner id ({} if there is no such file)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ClassroomError(f"cannot read the handout {path} ({exc}): give another --handout") from None
    rows = csv.DictReader(io.StringIO(text))
    if not {ENV_LEARNER, ENV_URL} <= set(rows.fieldnames or ()):
        raise ClassroomError(f"{path} is not a labkit handout (no {ENV_LEARNER} and {ENV_URL} columns): "
                             "give another --handout, so this file is not overwritten")
    return {row[ENV_LEARNER]: row[ENV_URL] for row in rows if row.get(ENV_LEARNER) and row.get(ENV_URL)}


def password_of(url: str) -> str:
    """The password in a handout URL ('' if none)."""
    return urlsplit(url).password or ""


def write_handout(path: Path, rows: Sequence[dict[str, str]], version: str) -> Path:
    """Write the CSV at `path` and the students' cards next to it (`<name>-cards.html`); return the cards' path."""
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    cards = path.with_name(path.stem + "-cards.html")
    write_private(path, "\ufeff" + out.getvalue())
    write_private(cards, cards_html(rows, version))
    return cards


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, mode 0600, replacing (never following) a symlink there."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ClassroomError(f"no folder {folder} for {path.name}: create it, or give another path")
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    except OSError as exc:
        raise ClassroomError(f"cannot write in {folder} ({exc.strerror}): give a path in a folder you may write") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise ClassroomError(f"could not write {path} ({exc.strerror or exc}); any file there before is unchanged. "
                             "Free some space or choose another path, then run the command again") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def cards_html(rows: Sequence[dict[str, str]], version: str) -> str:
    """A printable page per student: their lines for each shell, what success looks like, what to do if not."""
    pages = [_card(row, version) for row in rows]
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Lab cards</title>\n<style>"
            "body{font-family:sans-serif;max-width:46em;margin:auto} section{page-break-after:always;padding:1em 0}"
            " pre{white-space:pre-wrap;word-break:break-all;background:#f4f4f4;padding:.5em} h2{margin-bottom:0}"
            "</style></head><body>\n" + "\n".join(pages) + "\n</body></html>\n")


def _card(row: dict[str, str], version: str) -> str:
    e = html.escape
    learner = row[ENV_LEARNER]
    host = urlsplit(row[ENV_URL]).netloc.rsplit("@", 1)[-1]
    lines = "".join(f"<p>{e(shell)}:</p><pre>{e(row[shell])}</pre>\n" for shell in SHELLS)
    tls = " over TLS" if row[ENV_URL].startswith("rediss:") else ""
    first = FIRST_CELL.format(version=version, host=host, tls=tls, learner=learner)
    return f"""<section>
<h2>{e(row["name"])}</h2><p>Your learner id: <b>{e(learner)}</b>. Keep this card to yourself: it holds your password.</p>
<h3>1. Set up the lab once</h3>
<p>Unzip the lab bundle and follow its <code>START-HERE.md</code> (Python 3.10+ and pip are all you need).</p>
<h3>2. Every time: set your two variables, then start JupyterLab in the same window</h3>
{lines}<p>Then, in that same terminal window: <code>labkit lab --dir learner</code>. A window where the line
was not pasted, or a JupyterLab started before it, does not see it.</p>
<h3>3. It works when the first code cell of a notebook prints</h3>
<pre>{e(first)}</pre>
<h3>If it does not</h3>
<ul>
<li><b>Backend: fakeredis ... NOT the class server</b>: JupyterLab was started without your line. Close it,
paste your line for your shell, and start it again from that window.</li>
<li><b>Could not reach Redis</b>: check the network (Wi-Fi of the room, VPN) and tell your instructor.</li>
<li><b>rejected the login</b> or <b>NOPERM</b>: your line was cut or mixed with a neighbour's; paste it again
in full, with your own learner id.</li>
<li><b>The class server is full</b> or <b>OutOfMemoryError</b>: tell your instructor; nothing you stored is lost.</li>
</ul>
</section>"""
