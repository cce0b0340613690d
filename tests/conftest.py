"""Fixtures shared by the test suite: real databases in tmp_path and real media files."""

from __future__ import annotations

import itertools
import math
import os
import struct
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from rater import Client

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"


def make_png(path: Path, seed: int, size: int = 8) -> Path:
    """A small PNG whose pixels depend on ``seed``, so every seed gives different bytes."""
    img = Image.new("RGB", (size, size), ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    img.putpixel((0, 0), (seed % 256, (seed // 256) % 256, (seed // 65536) % 256))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG")
    return path


def make_wav(path: Path, freq: float = 440.0, seconds: float = 0.1, rate: int = 8000) -> Path:
    """A short mono 16-bit sine WAV."""
    frames = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * freq * i / rate)))
        for i in range(int(seconds * rate))
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(frames)
    return path


#: Set by scripts/test.sh: the PostgreSQL half must run, so an unavailable server fails the run.
REQUIRE_POSTGRES = os.environ.get("RATER_REQUIRE_POSTGRES") == "1"
BACKENDS = ("sqlite", "postgresql")
_DATABASE_NUMBERS = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_backends: run the test's `client` and `db_location` on SQLite and on PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_backends`` run once per backend (the ``backend`` fixture)."""
    if "backend" in metafunc.fixturenames:
        marked = (metafunc.definition.get_closest_marker("both_backends") is not None
                  or os.environ.get("RATER_TEST_BOTH_BACKENDS") == "1")  # to try a file on both
        metafunc.parametrize("backend", BACKENDS if marked else BACKENDS[:1], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``"sqlite"``, or ``"postgresql"`` for the second run of a ``both_backends`` test."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def pg_server():
    """One throwaway PostgreSQL cluster for the whole run (tests/postgres_server.py)."""
    from postgres_server import PostgresServer, why_unavailable

    reason = why_unavailable()
    if reason:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required for this run: {reason}")
        pytest.skip(reason)
    with PostgresServer() as server:
        yield server


def host_folders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """What a host keeps beside a server database, in tmp_path: its media cache and (build-site)
    its pseudonym keys, never the user's ~/.cache or ~/.config."""
    monkeypatch.setenv("RATER_MEDIA_CACHE", str(tmp_path / "media-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def new_location(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., str]:
    """Factory: ``new_location(name)`` is where another fresh, not yet created database goes on
    the test's backend: ``tmp_path/name/leaderboards.db`` on SQLite, an empty server database's
    URL on PostgreSQL (the host's folders in tmp_path: :func:`host_folders`). ``template=``
    (PostgreSQL only): a copy of that database instead (its sessions are ended first)."""

    def factory(name: str, template: str | None = None) -> str:
        if backend == "sqlite":
            return str(tmp_path / name / "leaderboards.db")
        server = request.getfixturevalue("pg_server")
        host_folders(request.getfixturevalue("monkeypatch"), tmp_path)
        return server.create_database(f"t{os.getpid()}_{next(_DATABASE_NUMBERS)}", template=template)

    return factory


@pytest.fixture
def copy_location(backend: str, new_location: Callable[..., str]) -> Callable[[Client, str], str]:
    """Factory: ``copy_location(client, name)`` copies ``client``'s database (and its media) to
    a new location on the test's backend and returns it: ``Client.backup`` on SQLite, a
    ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL (``client`` is closed first; it reopens on use)."""

    def factory(client: Client, name: str) -> str:
        if backend == "sqlite":
            target = new_location(name)
            client.backup(target)
            return target
        client.close()
        return new_location(name, template=str(client.db_path))

    return factory


@pytest.fixture
def db_location(new_location: Callable[..., str]) -> str:
    """Where a fresh, not yet created database goes: a file path in tmp_path on SQLite, an
    empty server database's URL on PostgreSQL (with its own media cache in tmp_path)."""
    return new_location("db")


@pytest.fixture
def client(db_location: str) -> Client:
    """A Client on a fresh database (a file in tmp_path; on PostgreSQL too in both_backends tests)."""
    c = Client(db_location, create=True)
    yield c
    c.close()


@pytest.fixture
def pg_location(pg_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh empty PostgreSQL database's URL, for tests of PostgreSQL alone (the host's
    folders in tmp_path: :func:`host_folders`)."""
    host_folders(monkeypatch, tmp_path)
    return pg_server.create_database(f"pg{os.getpid()}_{next(_DATABASE_NUMBERS)}")


@pytest.fixture
def png(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``png(seed)`` writes a distinct small PNG and returns its path."""

    def factory(seed: int, name: str | None = None) -> Path:
        return make_png(tmp_path / "media" / (name or f"img-{seed}.png"), seed)

    return factory


@pytest.fixture
def wav(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``wav(freq)`` writes a short WAV and returns its path."""

    def factory(freq: float, name: str | None = None) -> Path:
        return make_wav(tmp_path / "media" / (name or f"tone-{freq:g}.wav"), freq)

    return factory

