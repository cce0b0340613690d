"""Which boards a build publishes, and what the published site's ``build.json`` recorded.

A build never drops a published board by accident: ``--leaderboard`` builds the boards named
and keeps the others as they are; only ``--only`` publishes exactly the boards chosen. A
database that lacks boards the site publishes (another database, or an empty one) is refused.

The leaderboards of a benchmark with several of them are published together: its page shows
them side by side and each participant's page shows every criterion, so naming one of them
builds them all (and ``--only`` keeps them all).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rater import Client, Leaderboard
from rater.results import reader

from .publish import SiteError

__all__ = ["Plan", "benchmark_boards", "choose_boards", "failures", "read_build", "with_siblings"]


def read_build(out: Path) -> dict[str, Any]:
    """The published site's ``build.json`` ({} when missing or unreadable)."""
    try:
        document = json.loads((out / "build.json").read_text(encoding="utf-8"))
        return document if isinstance(document, dict) else {}
    except (OSError, ValueError):
        return {}


@dataclass(frozen=True)
class Plan:
    """Which boards a build publishes: ``boards`` are built (or reused when unchanged),
    ``kept`` are published boards not asked for, carried over as they are."""

    boards: list[Leaderboard]
    kept: dict[str, Any]  # id -> its record in the published build.json
    order: list[str]  # every board id of the database, oldest first (the index's order)


def choose_boards(client: Client, ids: Sequence[str] | None, only: bool, out: Path,
                  previous: dict[str, Any], db: Path | str) -> Plan:
    """Choose the boards; refuse to drop published boards unless ``only``.

    :raises SiteError: the site publishes boards the database does not have.
    """
    order = reader.leaderboard_ids(client.store)
    boards = ([client.mri.get_leaderboard_by_id(i) for i in dict.fromkeys(ids)] if ids
              else [client.mri.get_leaderboard_by_id(i) for i in order])
    if ids:
        boards = with_siblings(client, boards, order)
    records = previous.get("leaderboards")
    records = records if isinstance(records, dict) else {}
    published = list(records)
    if only:
        return Plan(boards, {}, order)
    known = set(order)
    missing = [i for i in published if i not in known]
    if missing and not order:
        raise SiteError(f"{db} has no leaderboards and --out {out} publishes {len(published)}: "
                        "refusing to replace the site with an empty one (pass --only to do that)")
    if missing:
        raise SiteError(f"--out {out} publishes {len(missing)} board(s) that {db} does not have "
                        f"({', '.join(missing[:3])}): use the --db they were built from, or pass "
                        "--only to publish just this database's boards")
    chosen = {b.id for b in boards}
    return Plan(boards, {i: r for i, r in records.items() if i not in chosen}, order)


def benchmark_boards(client: Client, boards: Sequence[Leaderboard]) -> dict[str, list[str]]:
    """The benchmarks of ``boards`` that have two leaderboards or more: id -> their board ids,
    oldest first (a benchmark of one board, as ``create_new_leaderboard`` makes, has no page)."""
    found: dict[str, list[str]] = {}
    for bench_id in dict.fromkeys(b.benchmark_id for b in boards if b.benchmark_id):
        ids = reader.benchmark_leaderboard_ids(client.store, bench_id)
        if len(ids) > 1:
            found[bench_id] = ids
    return found


def with_siblings(client: Client, boards: list[Leaderboard], order: list[str]) -> list[Leaderboard]:
    """``boards`` and the other leaderboards of their benchmarks (those with a page), each
    once: a benchmark's boards together, in its order, where the first of them was asked."""
    groups = benchmark_boards(client, boards)
    out: dict[str, Leaderboard] = {}
    for board in boards:
        for board_id in groups.get(board.benchmark_id, [board.id]):
            if board_id not in out:
                out[board_id] = board if board_id == board.id else client.mri.get_leaderboard_by_id(board_id)
    return list(out.values())


def failures(records: Any, boards: Any) -> dict[str, str]:
    """The boards among ``boards`` whose recorded card says they failed."""
    records = records if isinstance(records, dict) else {}
    return {i: str(r["card"]["error"]) for i, r in records.items()
            if i in boards and isinstance(r, dict) and isinstance(r.get("card"), dict)
            and r["card"].get("error")}
