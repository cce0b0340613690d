"""Several rater hosts, one leaderboard: exporting votes from one host and merging them into another.

When one machine is not enough (raters in several places, a laptop offline at an event), each
host runs its own copy of the leaderboard: the same name, prompts, models and media, created
independently, so local row ids differ. What crosses hosts is a JSON Lines file:

* line 1, the header: ``{"format": "rater-votes", "version": 3, "benchmark": {"id", "name",
  "prompts"}, "leaderboard": {"id", "name", "fingerprint", "prompts", "instruction",
  "inverse_ranking", "included_tags", "excluded_tags", "vote_aggregation",
  "min_responses_per_matchup"}, "participants": [names], "counts": {"matchups", "votes"},
  "host", "exported_at"}``;
* one ``{"type": "matchup", "id", "prompt", "identifier", "left": {"model", "sha256"},
  "right": {...}, "rater", "served_at", "repeat_of"}`` line per voted matchup (and per matchup
  a voted one repeats), originals before their repeats;
* one ``{"type": "vote", "matchup", "rater", "choice", "voted_at", "origin"}`` line per vote.

Matchup ids are uuid4 hex, so they are the same on every host; a media is identified by
``(participant name, prompt identifier, sha256 of its bytes)`` (a prompt's text may repeat in a
benchmark; its identifier may not). The target board is the one given by id (``into``), else
the board here with the file's board id, else, in the benchmark with the file's benchmark id
(or else its name), the leaderboard with the file's board name (several: the one whose
instruction, direction and tag scope also match). Every participant the votes involve must be
rated on the target, or the whole file is refused naming them.

Version 2 and 1 files (one board, no benchmark) still import: their media are identified by
``(model name, prompt text, sha256)`` and their target is the one given by id, or else the only
board whose fingerprint (name + set of prompt texts) matches the file's. A board that version 2
describes fully (made alone by ``create_new_leaderboard``: the one leaderboard of its benchmark,
identifiers equal to texts, no tag scope) is still written as version 2, so that hosts not yet
upgraded read its files.

A vote means something only with its board's question, so the header carries the instruction
and ``inverse_ranking``, and the target must agree, also when given by id: an opposite direction
is always refused (the votes would rank the board backwards); a different instruction (ignoring
case and whitespace) is refused unless ``allow_instruction_mismatch=True``
(``--allow-different-instruction``). Version 1 files, written before the header had these
fields, still import: their direction cannot be verified, which :attr:`ImportResult.warnings`
(and the CLI) says.

Importing is all or nothing, yet never holds the write lock for long (see
:mod:`rater.exchange.merge`: short chunks into a pending batch no reader sees, one small final
commit). A quality-control repeat must be a later matchup of the same rater on the same board
and media pair with sides swapped. Every time must be plausible (2000-01-01 to a day from now).
Importing the same file twice adds nothing;
votes on media the target does not have are refused with the list of what is missing; an id that
exists with different content is a conflict and an error, never an overwrite.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rater.errors import LeaderboardNotFound
from rater.exchange.file import (
    FORMAT,
    FORMAT_VERSION,
    BoardHeader,
    BoardMismatchError,
    ExchangeError,
    board_fingerprint,
    check_meaning,
    read_file,
    same_words,
    write_file,
)
from rater.exchange.merge import ImportConflictError, MissingMediaError, merge
from rater.store import benchmarks, catalog, exchange

if TYPE_CHECKING:
    from rater.store import Store

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "BoardMismatchError",
    "ExchangeError",
    "ExportResult",
    "ImportConflictError",
    "ImportResult",
    "MissingMediaError",
    "board_fingerprint",
    "export_votes",
    "import_votes",
]

@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_votes` wrote."""

    path: Path
    leaderboard_id: str
    matchups: int
    votes: int


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_votes` merged: new rows added, rows already present (skipped), and
    warnings (a version 1 file whose direction could not be verified, an allowed instruction
    mismatch)."""

    leaderboard_id: str
    matchups_added: int
    votes_added: int
    matchups_present: int
    votes_present: int
    warnings: tuple[str, ...] = ()


# -- export ---------------------------------------------------------------------------------------


def _oldest_version(conn: Any, board: BoardHeader) -> int:
    """2 for a board that a version 2 file describes fully (every board made by
    ``create_new_leaderboard``: the one leaderboard of a benchmark of its own id, identifiers
    equal to the texts, no tag scope), so that hosts not yet upgraded still read its files;
    else 3."""
    plain = (board.benchmark_id in ("", board.id) and not board.included_tags and not board.excluded_tags
             and len(catalog.benchmark_leaderboards(conn, board.id)) == 1
             and all(p["identifier"] == p["text"] for p in benchmarks.benchmark_prompts(conn, board.id)))
    return 2 if plain else FORMAT_VERSION


def _identities(conn: Any, board: BoardHeader, matchups: list[dict[str, Any]]) -> dict[str, Any]:
    """What a version 3 header adds: the benchmark, the board's settings, the participants."""
    bench = benchmarks.get_benchmark(conn, board.benchmark_id)
    aggregation = board.vote_aggregation
    return {
        "benchmark": {"id": board.benchmark_id, "name": bench["name"] if bench else board.name,
                      "prompts": len(benchmarks.benchmark_prompts(conn, board.benchmark_id))},
        "leaderboard": {
            "included_tags": list(board.included_tags),
            "excluded_tags": list(board.excluded_tags),
            "vote_aggregation": str(getattr(aggregation, "value", aggregation)),
            "min_responses_per_matchup": int(board.min_responses_per_matchup),
        },
        "participants": sorted({m[f"{side}_model"] for m in matchups for side in ("left", "right")}),
    }


def export_votes(store: Store, board: BoardHeader, path: str | os.PathLike[str]) -> ExportResult:
    """Write the board's votes, the matchups they were cast on and a header to ``path``:
    format version 3, or 2 for a board a version 2 file describes fully (see the module
    docstring).

    The file is written to a temporary name and renamed, so a reader never sees half of it.
    """
    conn = store.conn
    with exchange.read_snapshot(conn):
        matchups = exchange.exported_matchups(conn, board.id)
        vote_rows = exchange.exported_votes(conn, board.id)
        host = exchange.host_id(conn)
        version = _oldest_version(conn, board)
        extra = _identities(conn, board, matchups) if version >= 3 else {"leaderboard": {}}
    header = {
        "format": FORMAT,
        "version": version,
        **{k: v for k, v in extra.items() if k != "leaderboard"},
        "leaderboard": {
            "id": board.id,
            "name": board.name,
            "fingerprint": board_fingerprint(board.name, board.prompts),
            "prompts": len(board.prompts),
            "instruction": board.instruction,
            "inverse_ranking": board.inverse_ranking,
            **extra["leaderboard"],
        },
        "counts": {"matchups": len(matchups), "votes": len(vote_rows)},
        "host": host,
        "exported_at": time.time(),
    }
    lines = [header]
    lines += [
        {
            "type": "matchup", "id": m["id"], "prompt": m["prompt"],
            **({"identifier": m["identifier"]} if version >= 3 else {}),
            "left": {"model": m["left_model"], "sha256": m["left_sha256"]},
            "right": {"model": m["right_model"], "sha256": m["right_sha256"]},
            "rater": m["rater"], "served_at": m["served_at"], "repeat_of": m["repeat_of"],
        }
        for m in matchups
    ]
    lines += [
        {"type": "vote", "matchup": v["matchup_id"], "rater": v["rater"], "choice": v["choice"],
         "voted_at": v["voted_at"], "origin": v["origin"]}
        for v in vote_rows
    ]
    target = Path(path)
    write_file(target, lines)
    return ExportResult(target, board.id, len(matchups), len(vote_rows))


# -- import ---------------------------------------------------------------------------------------


def _same_question(board: BoardHeader, file_board: dict[str, Any]) -> bool:
    return (same_words(board.instruction, file_board["instruction"])
            and board.inverse_ranking == file_board["inverse_ranking"]
            and sorted(board.included_tags) == sorted(file_board["included_tags"])
            and sorted(board.excluded_tags) == sorted(file_board["excluded_tags"]))


def _only(found: Sequence[Any], ids: Sequence[str], missing: str, several: str) -> Any:
    """The one item of ``found``; :class:`LeaderboardNotFound` (``missing``) for none, an
    :class:`ExchangeError` naming them (``several``) for more."""
    if not found:
        raise LeaderboardNotFound(f"{missing}, or name the target with --into ID")
    if len(found) > 1:
        raise ExchangeError(f"{len(found)} {several} ({', '.join(ids)}): choose one with --into ID")
    return found[0]


def _benchmark_target(store: Store, everything: Sequence[BoardHeader], header: dict[str, Any]) -> BoardHeader:
    """The target of a version 3 file (see the module docstring)."""
    file_bench, file_board = header["benchmark"], header["leaderboard"]
    for board in everything:
        if board.id == file_board["id"]:
            return board
    bench_ids = exchange.benchmarks_named(store.conn, file_bench["id"], file_bench["name"])
    bench = f"benchmark {file_bench['name']!r} (id {file_bench['id']})"
    bench_id = _only(bench_ids, bench_ids, f"no benchmark here matches the file's {bench}: create it "
                     "with the same name", f"benchmarks here are named like the file's {bench}")
    named = [b for b in everything if b.benchmark_id == bench_id and b.name == file_board["name"]]
    if len(named) > 1:
        named = [b for b in named if _same_question(b, file_board)]
    where = f"leaderboard named {file_board['name']!r} in benchmark {bench_id}"
    return _only(named, [b.id for b in named], f"no {where} matches the file's: create it",  # type: ignore[no-any-return]
                 f"leaderboards match the file's ({where})")


def _target(store: Store, boards: Callable[[str | None], Sequence[BoardHeader]], header: dict[str, Any],
            into: str | None) -> BoardHeader:
    if into is not None:
        return boards(into)[0]
    if header["version"] >= 3:
        return _benchmark_target(store, boards(None), header)
    fingerprint = header["leaderboard"]["fingerprint"]
    matches = [b for b in boards(None)
               if board_fingerprint(b.name, b.prompts) == fingerprint]
    name = header["leaderboard"]["name"]
    return _only(matches, [b.id for b in matches],  # type: ignore[no-any-return]
                 f"no leaderboard here matches the file's board {name!r} (same name and prompts): "
                 "create it with the same name and prompts", f"leaderboards here match the file's board {name!r}")


def import_votes(
    store: Store, boards: Callable[[str | None], Sequence[BoardHeader]],
    path: str | os.PathLike[str], into: str | None = None,
    *, allow_instruction_mismatch: bool = False,
) -> ImportResult:
    """Merge a file written by :func:`export_votes` (on this host or another) into this database.

    :param boards: the candidate target boards: ``boards(id)`` is ``[that board]`` (or raises
        :class:`LeaderboardNotFound`), ``boards(None)`` every board of the database.
    :param into: the target leaderboard's id; by default the file's board found by its
        identity (version 3: board id, else benchmark and board name; older files: the one board
        whose name and prompt texts match). The board's question is checked either way.
    :param allow_instruction_mismatch: merge although the target's instruction is worded
        differently (same direction); the result's ``warnings`` names both.
    :raises ExchangeError: the file is malformed or incomplete.
    :raises BoardMismatchError: the target ranks the other way (``inverse_ranking`` differs;
        never overridable) or, unless allowed, asks a different instruction. A version 1 file
        (no instruction / direction in its header) is imported with a warning instead.
    :raises LeaderboardNotFound: no (or no given) target board.
    :raises MissingMediaError: votes involving participants not rated on the target, or on
        media it does not have (all are listed).
    :raises ImportConflictError: an id exists here with different content.
    """
    parsed = read_file(Path(path))
    board = _target(store, boards, parsed.header, into)
    warnings = check_meaning(parsed.header, board, path, allow_instruction_mismatch)
    try:
        merged = merge(store, parsed, board.id, path)
    except sqlite3.IntegrityError as exc:  # a last line of defence: the checks above come first
        raise ExchangeError(f"{path} was refused by the database's constraints ({exc}); "
                            "nothing was imported") from None
    return ImportResult(board.id, merged.matchups_added, merged.votes_added,
                        merged.matchups_present, merged.votes_present, tuple(warnings))
