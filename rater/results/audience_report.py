"""The payment report of an audience: one row per member, what an owner uploads to a crowd
platform (or a spreadsheet) to approve payments.

``votes``, ``median_seconds``, ``agreement``, ``gold_accuracy`` (on gold pairs), ``excluded``
and its ``reason`` are the member's
:class:`rater.results.quality.RaterStats` on their board. ``active_minutes`` adds up the time
each vote took (from the pair shown, or the previous vote, to the vote) with any one gap counted
as at most :data:`IDLE_CAP_SECONDS`, so a rater who left the tab open over lunch is not paid
for lunch.
"""

from __future__ import annotations

import csv
import io
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from rater.store import votes

from .csv_cells import safe_cell
from .quality import rater_stats

if TYPE_CHECKING:
    from rater.store import Store

__all__ = ["IDLE_CAP_SECONDS", "ReportRow", "audience_report", "report_csv"]

#: A gap longer than this between two votes counts as this long (the rater was away).
IDLE_CAP_SECONDS = 300.0


@dataclass(frozen=True)
class ReportRow:
    """One member of an audience and what they did on their board."""

    rater: str
    source: str
    leaderboard_id: str
    votes: int
    active_minutes: float
    median_seconds: float | None
    agreement: float | None
    gold_accuracy: float | None
    excluded: bool
    reason: str
    completion_code: str
    completed_at: str
    revoked: bool
    platform_params: str


def _active_minutes(rows: Sequence[tuple[Any, ...]]) -> dict[str, float]:
    """Per rater, the capped seconds between pair shown (or previous vote) and vote, in minutes."""
    by_rater: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for rater, _vote_id, voted_at, served_at, _choice, _agrees in rows:
        by_rater[rater].append((float(voted_at), float(served_at)))
    out = {}
    for rater, times in by_rater.items():
        times.sort()
        previous = float("-inf")
        total = 0.0
        for voted_at, served_at in times:
            total += min(max(voted_at - max(served_at, previous), 0.0), IDLE_CAP_SECONDS)
            previous = voted_at
        out[rater] = round(total / 60.0, 1)
    return out


def _when(value: float | None) -> str:
    return "" if value is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(value))


def audience_report(store: Store, members: Sequence[dict[str, Any]]) -> list[ReportRow]:
    """The report rows for these members (rows of :func:`rater.store.audiences.members`)."""
    boards = sorted({m["leaderboard_id"] for m in members if m["leaderboard_id"]})
    stats = {b: {s.name: s for s in rater_stats(store, b)} for b in boards}
    minutes = {b: _active_minutes(votes.rater_vote_rows(store.conn, b)) for b in boards}
    out = []
    for m in members:
        board = m["leaderboard_id"] or ""
        s = stats.get(board, {}).get(m["rater"])
        out.append(ReportRow(
            rater=m["rater"], source=m["source"], leaderboard_id=board, votes=s.votes if s else 0,
            active_minutes=minutes.get(board, {}).get(m["rater"], 0.0),
            median_seconds=None if s is None or s.median_seconds is None else round(s.median_seconds, 1),
            agreement=None if s is None or s.agreement is None else round(s.agreement, 3),
            gold_accuracy=None if s is None or s.gold_accuracy is None else round(s.gold_accuracy, 3),
            excluded=bool(s and s.excluded), reason=(s.reason or "") if s else "", completion_code=m["completion_code"] or "",
            completed_at=_when(m["completed_at"]), revoked=m["revoked_at"] is not None,
            platform_params=" ".join(f"{k}={v}" for k, v in sorted(m["params"].items())),
        ))
    return out


def report_csv(rows: Sequence[ReportRow]) -> str:
    """The rows as CSV (a header line first), every text cell neutralised for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([f.name for f in fields(ReportRow)])
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in asdict(row).values()])
    return buffer.getvalue()
