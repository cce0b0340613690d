"""A benchmark's criteria as its pages show them (see :mod:`site_builder.benchmark`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rater import Leaderboard

from .context import board_folder

__all__ = ["Criterion", "benchmark_folder", "model_criteria"]


@dataclass(frozen=True)
class Criterion:
    """One leaderboard of a benchmark as its pages show it: each model's figures by name
    (:func:`site_builder.context.criterion_entries`), or the error that kept it from building."""

    board: Leaderboard
    entries: dict[str, dict[str, Any]] | None
    error: str = ""

    @property
    def folder(self) -> str:
        return f"boards/{board_folder(self.board.id)}"


def benchmark_folder(benchmark_id: str) -> str:
    """The benchmark page's folder, relative to the site root."""
    return f"benchmarks/{board_folder(benchmark_id)}"


def model_criteria(criteria: list[Criterion], name: str) -> list[dict[str, Any]]:
    """A model on every criterion: the board, its page and the model's page there (hrefs
    relative to the site root), and its figures (None where it is not rated)."""
    out = []
    for c in criteria:
        entry = (c.entries or {}).get(name)
        out.append({"board": c.board, "href": f"{c.folder}/index.html", "error": c.error,
                    "model_href": f"{c.folder}/{entry['href']}" if entry else None,
                    "entry": entry})
    return out
