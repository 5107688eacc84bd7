"""Notebook 04's first cell: which server binary the experiments start, or how to get one and a skip for every cell."""

from __future__ import annotations

from typing import Any

from labkit.production.servers import NO_SERVER, ServerBinary, find_server

SKIPPED = 'print("skipped: no server")\n'


def skip_without_server(lines: list[str]) -> list[str]:
    """An IPython input transformer: any cell becomes a print of 'skipped: no server'."""
    return [SKIPPED]


def production_servers() -> ServerBinary | None:
    """Find the server binary and say which; without one, say how to get one and make later cells print 'skipped'."""
    found = find_server()
    if found is not None:
        print(f"Experiments start their own servers on 127.0.0.1: {found.version} ({found.source})")
        return found
    print(NO_SERVER)
    shell: Any = _ipython()
    if shell is not None and skip_without_server not in shell.input_transformers_post:
        shell.input_transformers_post.append(skip_without_server)
    return None


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with JupyterLab
        return None
    return get_ipython()
