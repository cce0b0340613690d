"""Databases built once per test module and backend, and copied for each test that changes them.

Example::

    @pytest.fixture(scope="module")
    def built(tmp_path_factory):
        return Prebuilt(tmp_path_factory, build)   # build(root, location) makes the databases

    @pytest.fixture
    def hosts(built, backend, new_location, request):
        work, locations, info = built.copy(backend, new_location, request)
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

__all__ = ["Prebuilt"]

Build = Callable[[Path, Callable[[str], str]], Any]


class Prebuilt:
    """What ``build(root, location)`` made, per backend: ``location(name)`` gives it a fresh
    database (``root/name/lb.db`` on SQLite, a server database on PostgreSQL), any other file
    goes under ``root``. Every database is closed when ``build`` returns."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory, build: Build) -> None:
        self._factory = tmp_path_factory
        self._build = build
        self._made: dict[str, tuple[Path, dict[str, str], Any]] = {}

    def _make(self, backend: str, request: pytest.FixtureRequest) -> tuple[Path, dict[str, str], Any]:
        root = self._factory.mktemp(f"built-{backend}")
        locations: dict[str, str] = {}

        def location(name: str) -> str:
            if backend == "sqlite":
                locations[name] = str(root / name / "lb.db")
            else:
                server = request.getfixturevalue("pg_server")
                locations[name] = server.create_database(f"built{os.getpid()}_{root.name}_{name}".replace("-", "_"))
            return locations[name]

        with pytest.MonkeyPatch.context() as monkeypatch:  # the host's folders under root
            monkeypatch.setenv("RATER_MEDIA_CACHE", str(root / "media-cache"))
            monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "config"))
            info = self._build(root, location)
        return root, locations, info

    def original(self, backend: str, request: pytest.FixtureRequest) -> tuple[Path, dict[str, str], Any]:
        """What was built, itself (for tests that only read): ``(root, {name: location}, info)``."""
        if backend not in self._made:
            self._made[backend] = self._make(backend, request)
        return self._made[backend]

    def copy(self, backend: str, new_location: Callable[..., str],
             request: pytest.FixtureRequest) -> tuple[Path, dict[str, str], Any]:
        """A copy for this test: ``(work folder, {name: location}, what build returned)``; the
        work folder holds a copy of ``root`` (media files and, on SQLite, the databases)."""
        root, locations, info = self.original(backend, request)
        work = request.getfixturevalue("tmp_path") / "w"
        shutil.copytree(root, work)
        if backend == "sqlite":
            copies = {name: str(work / Path(loc).relative_to(root)) for name, loc in locations.items()}
        else:
            copies = {name: new_location(name, template=loc) for name, loc in locations.items()}
        return work, copies, info
