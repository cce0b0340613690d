"""Read-only access to a database's boards for the static site (``site_builder``).

Each function takes the :class:`~rater.store.Store` of a :class:`rater.Client` (``client.store``)
and only reads; the site builder uses these (with :func:`load_votes`, :func:`board_votes` (the votes a board's
standings count), :func:`mark_preliminary` and :func:`tag_mask` from :mod:`rater.results.standings`) and the public API, never ``rater.store`` modules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rater.results.standings import board_votes, load_votes, mark_preliminary, tag_mask
from rater.store import Store, catalog, votes

__all__ = [
    "benchmark_leaderboard_ids", "board_votes", "change_marker", "leaderboard_ids", "load_votes", "mark_preliminary", "media_path", "media_rows",
    "prompt_rows", "tag_mask",
]


def leaderboard_ids(store: Store) -> list[str]:
    """Every leaderboard id, oldest first."""
    return catalog.leaderboard_ids(store.conn)


def benchmark_leaderboard_ids(store: Store, benchmark_id: str) -> list[str]:
    """The ids of the benchmark's leaderboards, oldest first (cheaper than
    :attr:`rater.Benchmark.leaderboards`, which builds each board)."""
    return [r["id"] for r in catalog.benchmark_leaderboards(store.conn, benchmark_id)]


def media_rows(store: Store, leaderboard_id: str) -> list[dict[str, Any]]:
    """The board's media with their model, prompt and blob (``sha256, ext, kind, mime`` ...),
    ordered by model, prompt position and id."""
    return catalog.list_media(store.conn, leaderboard_id)


def prompt_rows(store: Store, leaderboard_id: str) -> list[dict[str, Any]]:
    """The board's prompts in order: ``id, position, text, tags, asset_sha256, asset_ext,
    asset_kind, asset_mime``."""
    return catalog.list_prompts(store.conn, leaderboard_id)


def media_path(store: Store, sha256: str, ext: str) -> Path:
    """The stored file with this content hash and extension, on this host (see
    :meth:`rater.store.Store.media_file`: on PostgreSQL it is copied out of the database on
    first use)."""
    return store.media_file(sha256, ext)


def change_marker(store: Store) -> tuple[int, int, str, int, int, int, int]:
    """A cheap probe of the whole vote log that changes whenever a vote is stored, a rater
    is excluded or included, or a model or medium is added (see ``rater.store.votes``)."""
    return votes.change_marker(store.conn)
