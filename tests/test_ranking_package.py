"""House rules for the ranking package: layering, file size, documented typed API."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import ranking

PACKAGE = Path(__file__).resolve().parents[1] / "ranking"
FORBIDDEN = {"sqlite3", "sqlite_utils", "streamlit", "rater", "site_builder"}
SOURCES = sorted(PACKAGE.glob("*.py"))


def test_package_has_files() -> None:
    assert len(SOURCES) >= 5
    assert (PACKAGE / "py.typed").exists()


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_forbidden_imports(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots = {(node.module or "").split(".")[0]}
        else:
            continue
        assert not roots & FORBIDDEN, f"{path.name} imports {roots & FORBIDDEN}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_files_stay_small(path: Path) -> None:
    assert len(path.read_text().splitlines()) < 400


def test_all_is_complete_and_documented() -> None:
    assert sorted(ranking.__all__) == sorted(set(ranking.__all__))
    for name in ranking.__all__:
        obj = getattr(ranking, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert inspect.getdoc(obj), f"{name} has no docstring"
        if inspect.isfunction(obj):
            signature = inspect.signature(obj)
            assert signature.return_annotation is not inspect.Signature.empty, name
            for parameter in signature.parameters.values():
                if parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                    assert parameter.annotation is not inspect.Parameter.empty, (name, parameter.name)


def test_public_methods_are_documented() -> None:
    for cls in (ranking.RatingState, ranking.VoteArrays):
        for name, member in vars(cls).items():
            if name.startswith("_"):
                continue
            target = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
            if callable(target):
                assert inspect.getdoc(target), f"{cls.__name__}.{name} has no docstring"
