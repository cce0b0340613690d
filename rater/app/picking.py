"""Choosing what to rate: a leaderboard, or a benchmark and then one of its criteria.

A benchmark with one leaderboard (every board made by ``create_new_leaderboard``) is offered as
that board, as before benchmarks existed; a benchmark with several is offered as the benchmark,
and the rater then picks the criterion (leaderboard) whose instruction they will answer. A link
may name the board (``?leaderboard=ID``) or the benchmark (``?benchmark=ID``: its criteria are
offered). Plain functions: the Streamlit glue is in :mod:`rater.app.views.common`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rater.api.settings import BenchmarkNotFound

from .session import board_label

if TYPE_CHECKING:
    from rater.api.client import Client
    from rater.api.leaderboard import Leaderboard

__all__ = ["Choice", "benchmark_from_query", "board_choices", "choice_label", "criterion_label"]


@dataclass(frozen=True)
class Choice:
    """One option of the first picker: a benchmark's boards (one board: the board itself)."""

    benchmark_id: str
    benchmark_name: str
    boards: tuple[Leaderboard, ...]

    @property
    def key(self) -> str:
        """The picker's value: the board's id for a single board, else the benchmark's."""
        return self.boards[0].id if len(self.boards) == 1 else self.benchmark_id


def board_choices(client: Client, boards: Sequence[Leaderboard] | None = None) -> list[Choice]:
    """Every board grouped by benchmark, in the order of each benchmark's oldest board;
    benchmarks without a leaderboard are left out (there is nothing to rate on them)."""
    grouped: dict[str, list[Leaderboard]] = {}
    for board in client.mri.list_leaderboards() if boards is None else boards:
        grouped.setdefault(board.benchmark_id or board.id, []).append(board)
    out = []
    for bench_id, members in grouped.items():
        name = members[0].name
        if len(members) > 1:
            name = client.mri.get_benchmark_by_id(bench_id).name
        out.append(Choice(bench_id, name, tuple(members)))
    return out


def choice_label(choice: Choice) -> str:
    """How an option of the first picker is named: "Board (id)" for a single board, else
    "Benchmark (id): N criteria"."""
    if len(choice.boards) == 1:
        return board_label(choice.boards[0])
    return f"{choice.benchmark_name} ({choice.benchmark_id}): {len(choice.boards)} criteria"


def criterion_label(board: Leaderboard) -> str:
    """How a criterion is named in the criterion picker: its name and instruction."""
    return f"{board.name}: {board.instruction}"


def benchmark_from_query(client: Client, value: object) -> tuple[Choice | None, str | None]:
    """The benchmark named by ``?benchmark=ID`` with its boards, or None and a message saying
    what is wrong (unknown id, or no leaderboard yet)."""
    if value is None or value == "":
        return None, None
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    given = str(value).strip()
    try:
        bench = client.mri.get_benchmark_by_id(given)
    except BenchmarkNotFound:
        return None, f"No benchmark has the id {str(value)!r}: pick one below."
    boards = tuple(bench.leaderboards)
    if not boards:
        return None, f"The benchmark {bench.name!r} has no leaderboard to rate yet: pick one below."
    return Choice(bench.id, bench.name, boards), None
