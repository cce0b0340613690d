"""Standings and rater quality, computed from the stored votes with :mod:`ranking`.

``standings`` turns stored votes into :class:`ranking.VoteArrays` and standings, ``quality``
gives per-rater figures, ``csv_cells`` neutralises spreadsheet formulas in exported names.

This package is also the documented read-only interface of ``site_builder``: the names below
(with the public API in :mod:`rater`) are all it uses to read boards; each takes ``client.store``.
"""

from rater.results.csv_cells import csv_field, safe_cell
from rater.results.reader import change_marker, leaderboard_ids, media_path, media_rows, prompt_rows
from rater.results.standings import load_votes, tag_mask

__all__ = [
    "change_marker",
    "csv_field",
    "leaderboard_ids",
    "load_votes",
    "media_path",
    "media_rows",
    "prompt_rows",
    "safe_cell",
    "tag_mask",
]
