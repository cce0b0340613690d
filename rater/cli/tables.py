"""Plain-text tables for the terminal: a header line, then aligned rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["STANDINGS_COLUMNS", "format_table", "standings_rows"]

# (header, right-aligned?) for ``rater standings --format table``; the model name comes last
# because names vary most in length.
STANDINGS_COLUMNS = (("rank", True), ("range", True), ("score", True), ("95% interval", False),
                     ("votes", True), ("win rate", True), ("model", False))


def format_table(columns: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]]) -> list[str]:
    """The header line and one line per row, each column as wide as its widest cell.

    :param columns: (header, right-aligned) pairs.
    """
    widths = [max([len(header), *(len(row[i]) for row in rows)]) for i, (header, _) in enumerate(columns)]
    lines = []
    for cells in [[header for header, _ in columns], *rows]:
        parts = [cell.rjust(w) if right else cell.ljust(w)
                 for cell, w, (_, right) in zip(cells, widths, columns)]
        lines.append("  ".join(parts).rstrip())
    return lines


def standings_rows(records: Sequence[Any]) -> list[list[str]]:
    """Cells for :data:`STANDINGS_COLUMNS` from standings rows (``DataFrame.itertuples()``).

    A model without votes gets no rank, score or interval ("not rated yet"); a rated row whose
    ``preliminary`` field is true (when the standings carry one) is marked after the name.
    """
    cells = []
    for row in records:
        if row.total_matches == 0:  # unrated: no rank, score, interval or win rate to show
            cells.append(["-", "-", "-", "not rated yet", "0", "-", row.name])
            continue
        name = row.name + ("  (preliminary)" if getattr(row, "preliminary", False) else "")
        ranks = f"{row.rank_low}-{row.rank_high}" if row.rank_low != row.rank_high else str(row.rank)
        cells.append([str(row.rank), ranks, f"{row.score:.1f}", f"[{row.ci_low:.1f}, {row.ci_high:.1f}]",
                      str(row.total_matches), f"{row.win_rate:.1%}", name])
    return cells
