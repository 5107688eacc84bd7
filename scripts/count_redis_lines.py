"""How much of a notebook's teaching code is Redis commands: the share of lines that call one on a client.

Usage: python scripts/count_redis_lines.py [notebooks/NN_x.ipynb ...]   (default: notebooks 02 and 03)

Teaching lines are the non-blank lines of code cells, leaving out solution cells (tagged `solution`
or holding `### BEGIN SOLUTION`), imports and comment-only lines. A line is a Redis command when it
calls a redis-py command method (`set`, `zadd`, `watch`, `execute`, `eval`, `execute_command`, ...)
on a client or pipeline: a name the notebook binds to one (`r = lab.client`, `pipe = r.pipeline()`,
`with ... .pipeline() as p`, `redis.Redis(...)`, `labkit.connect()`), the usual names `r`,
`redis_client`, `client`, `pipe`, or any `<something>.client`. `store.get(...)` is a labkit call, not one.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from redis.commands.core import CoreCommands

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ("02_*.ipynb", "03_*.ipynb")
CLIENT_NAMES = {"r", "redis_client", "client", "pipe"}
# Methods that send commands: redis-py's command methods, and a pipeline's WATCH/MULTI/EXEC.
NOT_COMMANDS = {"register_script", "pipeline", "transaction", "lock", "pubsub", "monitor"}
COMMANDS = ({name for name in dir(CoreCommands) if not name.startswith("_")} - NOT_COMMANDS
            | {"watch", "unwatch", "multi", "execute", "execute_command"})
CALL = re.compile(r"(?<![\w.])((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)\.([A-Za-z_]\w*)\(")
MAKES_CLIENT = re.compile(r"\.client\b|\.pipeline\(|redis\.(?:Redis|StrictRedis|RedisCluster)\b|\bconnect\(")


@dataclass(frozen=True)
class Share:
    """The Redis-command lines of one notebook's teaching cells."""

    notebook: str
    redis_lines: int
    teaching_lines: int

    @property
    def share(self) -> float:
        return self.redis_lines / self.teaching_lines if self.teaching_lines else 0.0

    def __str__(self) -> str:
        one_in = f"1 in {1 / self.share:.1f}" if self.share else "none"
        return (f"{self.notebook}: {self.redis_lines} of {self.teaching_lines} teaching lines are Redis commands "
                f"({self.share:.0%}, {one_in})")


def is_solution(cell: nbformat.NotebookNode) -> bool:
    return "solution" in cell.metadata.get("tags", []) or "### BEGIN SOLUTION" in cell.source


def teaching_cells(notebook: nbformat.NotebookNode) -> list[str]:
    """The source of every code cell a learner reads as teaching: no solutions."""
    return [c.source for c in notebook.cells if c.cell_type == "code" and not is_solution(c)]


def import_lines(source: str) -> set[int]:
    """1-based numbers of the lines an import statement spans (a cell that does not parse: by their look)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {n for n, line in enumerate(source.splitlines(), 1) if re.match(r"\s*(import|from\s+\S+\s+import)\b", line)}
    return {n for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
            for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)}


def client_names(sources: list[str]) -> set[str]:
    """Names the notebook binds to a Redis client or pipeline, plus the usual ones."""
    names = set(CLIENT_NAMES)
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and MAKES_CLIENT.search(ast.unparse(node.value)):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
                if isinstance(node.value, ast.Name) and node.value.id in names:
                    names.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id in names:
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))  # redis_client = r
            elif isinstance(node, ast.With | ast.AsyncWith):
                for item in node.items:
                    if isinstance(item.optional_vars, ast.Name) and MAKES_CLIENT.search(ast.unparse(item.context_expr)):
                        names.add(item.optional_vars.id)
    return names


def is_command(line: str, clients: set[str]) -> bool:
    """True when `line` calls a Redis command method on a client or pipeline."""
    for receiver, method in CALL.findall(line):
        last = receiver.rsplit(".", 1)[-1]
        if method in COMMANDS and (receiver in clients or last == "client" or last in clients and "." not in receiver):
            return True
    return False


def count(path: Path) -> Share:
    """Count the Redis-command lines among the teaching lines of the notebook at `path`."""
    sources = teaching_cells(nbformat.read(path, as_version=4))
    clients = client_names(sources)
    redis_lines = teaching = 0
    for source in sources:
        imports = import_lines(source)
        for number, line in enumerate(source.splitlines(), 1):
            text = line.strip()
            if not text or text.startswith(("#", "%", "!")) or number in imports:
                continue
            teaching += 1
            redis_lines += is_command(line, clients)
    return Share(path.stem, redis_lines, teaching)


def main(paths: list[str]) -> None:
    targets = [Path(p) for p in paths] or sorted(p for pattern in DEFAULT for p in (ROOT / "notebooks").glob(pattern))
    for path in targets:
        print(count(path))


if __name__ == "__main__":
    main(sys.argv[1:])
