"""The package layout: one direction of imports between rooms, and no cycles.

An AST walk over ``rater/``, ``site_builder/`` and ``ranking/`` collects every import (at module
level, inside functions and under ``TYPE_CHECKING`` alike) and checks it against the rules drawn
in ``rater/__init__.py``'s docstring. The checker also runs on small synthetic trees in
``tmp_path`` so that it is shown to catch a bad layout, not only to pass a good one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rater", "site_builder", "ranking")

# What each room may import (besides itself). A room is a subpackage or top-level module of
# ``rater`` ("api", "store", ...); "rater" is the public API in rater/__init__.py.
SHARED = {"errors", "formats", "ranking"}
BELOW_API = {"intake", "matchmaking", "results", "exchange", "store"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "formats": {"errors"},
    "store": {"errors"},
    "intake": SHARED | {"store"},
    "matchmaking": SHARED | {"intake", "store"},
    "results": SHARED | {"intake", "store"},
    "exchange": SHARED | {"intake", "store"},
    "api": SHARED | BELOW_API,
    "simulate": SHARED | BELOW_API | {"api"},
    "app": SHARED | BELOW_API | {"api"},
    "cli": SHARED | BELOW_API | {"api", "simulate", "app"},  # app: only its serve entry points
    "rater": {"api", "errors"},
    "__main__": {"cli"},
    "ranking": set(),
    "site_builder": {"rater", "results", "errors", "ranking"},
}
# The one way into the app from outside it: the cli starts the server.
APP_ENTRY = {"rater.app.serve", "rater.app.workers"}
# What site_builder may read of rater.results: the documented read interface.
SITE_READ = {"rater.results", "rater.results.reader", "rater.results.csv_cells"}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path) -> set[str]:
    """Every module of ours that ``path`` imports, relative imports resolved."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:  # `from pkg import module` imports pkg.module
                sub = f"{target}.{alias.name}"
                is_module = any((root / Path(*sub.split("."))).with_suffix(s).exists() for s in (".py",)) or (
                    root / Path(*sub.split(".")) / "__init__.py").exists()
                found.add(sub if is_module else target)
    return {m for m in found if m.split(".")[0] in PACKAGES}


def room(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "rater":
        return parts[0]
    return parts[1] if len(parts) > 1 else "rater"


def import_graph(root: Path) -> dict[str, set[str]]:
    graph = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            graph[module_name(path, root)] = imports_of(path, root)
    return graph


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def violations(root: Path) -> list[str]:
    """Every forbidden import and every import cycle (between rooms or between modules)."""
    graph = import_graph(root)
    problems = []
    rooms: dict[str, set[str]] = {}
    for module, targets in graph.items():
        here = room(module)
        for target in sorted(targets):
            there = room(target)
            if there == here:
                continue
            rooms.setdefault(here, set()).add(there)
            if there not in ALLOWED.get(here, set()):
                problems.append(f"{module} imports {target}: {here} may not import {there}")
            elif there == "app" and target not in APP_ENTRY:
                problems.append(f"{module} imports {target}: only {sorted(APP_ENTRY)} start the app")
            elif here == "site_builder" and there == "results" and target not in SITE_READ:
                problems.append(f"{module} imports {target}: site_builder reads through {sorted(SITE_READ)}")
    problems += [f"import cycle between rooms: {' <-> '.join(c)}" for c in cycles(rooms)]
    problems += [f"import cycle between modules: {' <-> '.join(c)}" for c in cycles(graph)]
    return problems


def test_the_package_follows_the_layout() -> None:
    assert violations(ROOT) == []


def test_every_room_is_known() -> None:
    """A new subpackage must be given its place in the rules (and in the docstring)."""
    rooms = {room(m) for m in import_graph(ROOT)}
    assert rooms <= set(ALLOWED), rooms - set(ALLOWED)
    doc = __import__("rater").__doc__
    undocumented = [r for r in rooms - {"rater", "__main__", "site_builder", "ranking"} if f"``{r}``" not in doc]
    assert undocumented == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for package in PACKAGES:
        (tmp_path / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / package / "__init__.py").touch()
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(tmp_path).parents:
            if str(parent) != ".":
                (tmp_path / parent / "__init__.py").touch()
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"rater/store/db.py": "from rater.api import client\n", "rater/api/client.py": ""},
         "store may not import api"),
        ({"ranking/fit.py": "from rater.errors import ValidationError\n", "rater/errors.py": ""},
         "ranking may not import errors"),
        ({"site_builder/data.py": "from rater.store import catalog\n", "rater/store/catalog.py": ""},
         "site_builder may not import store"),
        ({"rater/api/client.py": "from rater.cli import main\n", "rater/cli/main.py": ""},
         "api may not import cli"),
        ({"site_builder/data.py": "from rater.results.quality import x\n", "rater/results/quality.py": ""},
         "site_builder reads through"),
        ({"rater/cli/main.py": "from rater.app.session import x\n", "rater/app/session.py": ""},
         "only ['rater.app.serve', 'rater.app.workers'] start the app"),
        # a type-only import counts: matchmaking needing the Leaderboard facade is a cycle
        ({"rater/matchmaking/service.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
          "    from ..api.leaderboard import Leaderboard\n",
          "rater/api/leaderboard.py": "from rater.matchmaking import service\n"},
         "import cycle between rooms: api <-> matchmaking"),
        ({"rater/api/a.py": "from . import b\n", "rater/api/b.py": "def f():\n    from .a import x\n"},
         "import cycle between modules: rater.api.a <-> rater.api.b"),
    ],
)
def test_the_checker_catches_a_bad_layout(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    problems = violations(_tree(tmp_path, files))
    assert any(expected in p for p in problems), problems


def test_the_checker_passes_a_good_layout(tmp_path: Path) -> None:
    files = {
        "rater/errors.py": "",
        "rater/store/db.py": "from ..errors import DatabaseError\n",
        "rater/api/client.py": "from rater.store import db\nfrom ranking import fit\n",
        "rater/cli/main.py": "from rater.api.client import Client\nfrom rater.app.serve import serve\n",
        "rater/app/serve.py": "", "ranking/fit.py": "",
        "site_builder/data.py": "from rater import Client\nfrom rater.results import reader\n",
        "rater/results/reader.py": "from rater.store import db\n",
    }
    assert violations(_tree(tmp_path, files)) == []
