"""Several rater hosts, one leaderboard: exporting votes from one host and merging them into another.

When one machine is not enough (raters in several places, a laptop offline at an event), each
host runs its own copy of the leaderboard: the same name, prompts, models and media, created
independently, so local row ids differ. What crosses hosts is a JSON Lines file:

* line 1, the header: ``{"format": "rater-votes", "version": 2, "leaderboard": {"id", "name",
  "fingerprint", "prompts", "instruction", "inverse_ranking"}, "counts": {"matchups", "votes"},
  "host", "exported_at"}``;
* one ``{"type": "matchup", "id", "prompt", "left": {"model", "sha256"}, "right": {...},
  "rater", "served_at", "repeat_of"}`` line per voted matchup (and per matchup a voted one
  repeats), originals before their repeats;
* one ``{"type": "vote", "matchup", "rater", "choice", "voted_at", "origin"}`` line per vote.

Matchup ids are uuid4 hex, so they are the same on every host; a media is identified by
``(model name, prompt text, sha256 of its bytes)``. The target board is the one given by id, or
else the only board whose fingerprint (name + set of prompts) matches the file's.

A vote means something only with its board's question, so the header carries the instruction
and ``inverse_ranking``, and the target must agree, also when given by id: an opposite direction
is always refused (the votes would rank the board backwards); a different instruction (ignoring
case and whitespace) is refused unless ``allow_instruction_mismatch=True``
(``--allow-different-instruction``). Version 1 files, written before the header had these
fields, still import: their direction cannot be verified, which :attr:`ImportResult.warnings`
(and the CLI) says.

Importing is all or nothing, in one transaction. Importing the same file twice adds nothing;
votes on media the target does not have are refused with the list of what is missing; an id that
exists with different content is a conflict and an error, never an overwrite.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import LeaderboardNotFound
from .exchange_file import (
    FORMAT,
    FORMAT_VERSION,
    BoardMismatchError,
    ExchangeError,
    ParsedFile,
    board_fingerprint,
    check_meaning,
    header_host,
    read_file,
    write_file,
)
from .store import exchange, votes

if TYPE_CHECKING:
    from .client import Client
    from .leaderboard import Leaderboard

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

_SHOWN = 10  # offending items named in an error message


class MissingMediaError(ExchangeError):
    """The file has votes on media the target board does not have."""


class ImportConflictError(ExchangeError):
    """An id in the file already exists on the target with different content."""


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


def _short(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f", ... ({len(items) - _SHOWN} more)" if len(items) > _SHOWN else "")


# -- export ---------------------------------------------------------------------------------------


def export_votes(board: Leaderboard, path: str | os.PathLike[str]) -> ExportResult:
    """Write the board's votes, the matchups they were cast on and a header to ``path``.

    The file is written to a temporary name and renamed, so a reader never sees half of it.
    """
    conn = board._client.store.conn
    with exchange.read_snapshot(conn):
        matchups = exchange.exported_matchups(conn, board.id)
        vote_rows = exchange.exported_votes(conn, board.id)
        host = exchange.host_id(conn)
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "leaderboard": {
            "id": board.id,
            "name": board.name,
            "fingerprint": board_fingerprint(board.name, board.prompts),
            "prompts": len(board.prompts),
            "instruction": board.instruction,
            "inverse_ranking": board.inverse_ranking,
        },
        "counts": {"matchups": len(matchups), "votes": len(vote_rows)},
        "host": host,
        "exported_at": time.time(),
    }
    lines = [header]
    lines += [
        {
            "type": "matchup", "id": m["id"], "prompt": m["prompt"],
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


def _target(client: Client, header: dict[str, Any], into: str | None) -> Leaderboard:
    if into is not None:
        return client.mri.get_leaderboard_by_id(into)
    fingerprint = header["leaderboard"]["fingerprint"]
    matches = [b for b in client.mri.list_leaderboards()
               if board_fingerprint(b.name, b.prompts) == fingerprint]
    name = header["leaderboard"]["name"]
    if not matches:
        raise LeaderboardNotFound(
            f"no leaderboard here matches the file's board {name!r} (same name and prompts): "
            "create it with the same name and prompts, or name the target with --into ID"
        )
    if len(matches) > 1:
        raise ExchangeError(
            f"{len(matches)} leaderboards here match the file's board {name!r} "
            f"({', '.join(b.id for b in matches)}): choose one with --into ID"
        )
    return matches[0]


def _same_matchup(stored: dict[str, Any], item: dict[str, Any], board_id: str) -> bool:
    return (
        stored["leaderboard_id"] == board_id
        and stored["prompt"] == item["prompt"]
        and (stored["left_model"], stored["left_sha256"]) == (item["left"]["model"], item["left"]["sha256"])
        and (stored["right_model"], stored["right_sha256"]) == (item["right"]["model"], item["right"]["sha256"])
        and stored["rater"] == item["rater"]
        and stored["served_at"] == item["served_at"]
        and stored["repeat_of"] == item.get("repeat_of")
    )


def import_votes(
    client: Client, path: str | os.PathLike[str], into: str | None = None,
    *, allow_instruction_mismatch: bool = False,
) -> ImportResult:
    """Merge a file written by :func:`export_votes` (on this host or another) into this database.

    :param into: the target leaderboard's id; by default the one board whose name and prompts
        match the file's header. The board's question is checked either way.
    :param allow_instruction_mismatch: merge although the target's instruction is worded
        differently (same direction); the result's ``warnings`` names both.
    :raises ExchangeError: the file is malformed or incomplete.
    :raises BoardMismatchError: the target ranks the other way (``inverse_ranking`` differs;
        never overridable) or, unless allowed, asks a different instruction. A version 1 file
        (no instruction / direction in its header) is imported with a warning instead.
    :raises LeaderboardNotFound: no (or no given) target board.
    :raises MissingMediaError: votes on media the target does not have (all are listed).
    :raises ImportConflictError: an id exists here with different content.
    """
    parsed = read_file(Path(path))
    board = _target(client, parsed.header, into)
    warnings = check_meaning(parsed.header, board, path, allow_instruction_mismatch)
    try:
        return replace(_merge(client, parsed, board, path), warnings=tuple(warnings))
    except sqlite3.IntegrityError as exc:  # a last line of defence: the checks above come first
        raise ExchangeError(f"{path} was refused by the database's constraints ({exc}); "
                            "nothing was imported") from None


def _merge(client: Client, parsed: ParsedFile, board: Leaderboard, path: Any) -> ImportResult:
    """Check everything, then insert what is new, in one transaction."""
    store = client.store
    with store.write() as conn:
        media = exchange.board_media(conn, board.id)
        missing: dict[tuple[str, str, str], None] = {}
        for item in parsed.matchups:
            for side in ("left", "right"):
                key = (item[side]["model"], item["prompt"], item[side]["sha256"])
                if key not in media:
                    missing[key] = None
        if missing:
            listed = [f"{m!r} on prompt {p!r} (sha256 {s[:12]})" for m, p, s in missing]
            raise MissingMediaError(
                f"refused: {len(missing)} media in {path} are not on leaderboard {board.id}; add "
                f"them with the same model names and files first: {_short(listed)}"
            )
        stored = exchange.existing_matchups(conn, [m["id"] for m in parsed.matchups])
        conflicts = [m["id"] for m in parsed.matchups
                     if m["id"] in stored and not _same_matchup(stored[m["id"]], m, board.id)]
        if conflicts:
            raise ImportConflictError(
                f"refused: {len(conflicts)} matchup ids in {path} already exist here with "
                f"different content (nothing was imported): {_short(conflicts)}"
            )
        known = set(stored) | {m["id"] for m in parsed.matchups}
        # Repeats of matchups the file does not carry: their originals must be stored here,
        # on this board.
        outside = {m["id"]: m["repeat_of"] for m in parsed.matchups
                   if m.get("repeat_of") and m["repeat_of"] not in known}
        originals = exchange.existing_matchups(conn, outside.values())
        dangling = [i for i, o in outside.items() if o not in originals]
        elsewhere = [i for i, o in outside.items()
                     if o in originals and originals[o]["leaderboard_id"] != board.id]
        if elsewhere:
            raise ExchangeError(
                f"{path} has quality-control repeats of matchups on another leaderboard (nothing "
                f"was imported): {_short(elsewhere)}"
            )
        orphans = [v["matchup"] for v in parsed.votes if v["matchup"] not in known]
        if dangling or orphans:
            raise ExchangeError(
                f"{path} refers to matchups it does not contain: {_short(dangling + orphans)}"
            )
        rater_of = {m["id"]: m["rater"] for m in parsed.matchups}
        wrong = [v["matchup"] for v in parsed.votes if rater_of.get(v["matchup"], v["rater"]) != v["rater"]]
        if wrong:
            raise ExchangeError(
                f"{path} has votes from a rater the matchup was not served to: {_short(wrong)}"
            )
        present_votes = exchange.existing_votes(conn, [v["matchup"] for v in parsed.votes])
        vote_conflicts = [
            v["matchup"] for v in parsed.votes if v["matchup"] in present_votes
            and _vote_key(present_votes[v["matchup"]]) != _vote_key(v, "matchup")
        ]
        if vote_conflicts:
            raise ImportConflictError(
                f"refused: {len(vote_conflicts)} matchups in {path} already have a different vote "
                f"here (nothing was imported): {_short(vote_conflicts)}"
            )
        added_matchups = 0
        for item in parsed.matchups:
            if item["id"] in stored:
                continue
            left = media[(item["left"]["model"], item["prompt"], item["left"]["sha256"])]
            right = media[(item["right"]["model"], item["prompt"], item["right"]["sha256"])]
            if left["model_id"] == right["model_id"]:
                raise ExchangeError(f"{path}: matchup {item['id']} pits model "
                                    f"{item['left']['model']!r} against itself")
            votes.insert_matchup(conn, {
                "id": item["id"], "leaderboard_id": board.id, "prompt_id": left["prompt_id"],
                "left_media": left["id"], "left_model": left["model_id"],
                "right_media": right["id"], "right_model": right["model_id"],
                "rater": item["rater"], "served_at": float(item["served_at"]),
                "repeat_of": item.get("repeat_of"),
            })
            added_matchups += 1
        added_votes = 0
        for v in parsed.votes:
            if v["matchup"] in present_votes:
                continue
            exchange.insert_imported_vote(
                conn, v["matchup"], v["rater"], v["choice"], float(v["voted_at"]),
                v.get("origin") or header_host(parsed.header),
            )
            added_votes += 1
    return ImportResult(
        board.id, added_matchups, added_votes,
        len(parsed.matchups) - added_matchups, len(parsed.votes) - added_votes,
    )


def _vote_key(row: dict[str, Any], id_field: str = "matchup_id") -> tuple[Any, ...]:
    """What makes two records the same vote (``origin`` is bookkeeping, not content)."""
    return (row[id_field], row["rater"], row["choice"], float(row["voted_at"]))
