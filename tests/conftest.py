"""Fixtures shared by the test suite: real databases in tmp_path and real media files."""

from __future__ import annotations

import math
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


@pytest.fixture
def client(tmp_path: Path) -> Client:
    """A Client on a fresh database file in tmp_path."""
    c = Client(tmp_path / "db" / "leaderboards.db", create=True)
    yield c
    c.close()


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

