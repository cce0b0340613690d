"""Merging a parsed vote file into a board: every check first, then short writes, one flip.

:func:`merge` is the body of :func:`rater.exchange.votes.import_votes`. It holds the database's import
turn (one import at a time), deletes what an import that died left behind, checks the whole file
against one read snapshot (no write lock held), then writes the new rows in chunks of about
:data:`BUDGET_SECONDS` of work, each its own short write transaction, into a pending batch that
no reader sees; one small final transaction makes the batch visible. A vote cast by a rater meanwhile waits
for one chunk at most, never for the whole import; an import that fails or is killed at any
point leaves nothing visible (its pending rows are deleted then, or by the next import).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rater.exchange.file import ExchangeError, ParsedFile, header_host
from rater.store import benchmarks, catalog, exchange
from rater.store.store import Store

__all__ = ["BUDGET_SECONDS", "ImportConflictError", "Merged", "MissingMediaError", "merge"]

BUDGET_SECONDS = 0.008  # aimed-for write-lock hold per chunk of rows
_MIN_ROWS, _MAX_ROWS = 20, 5_000
_PAUSE = 0.002  # seconds between chunks, so a waiting writer gets its turn
_SHOWN = 10  # offending items named in an error message


class MissingMediaError(ExchangeError):
    """The file has votes on media the target board does not have."""


class ImportConflictError(ExchangeError):
    """An id in the file already exists on the target with different content."""


@dataclass(frozen=True)
class Merged:
    """Counts of what :func:`merge` added and found already present."""

    matchups_added: int
    votes_added: int
    matchups_present: int
    votes_present: int


@dataclass(frozen=True)
class _Plan:
    matchups: list[tuple[Any, ...]]
    votes: list[tuple[Any, ...]]
    raters: set[tuple[str, str]]


def short(items: list[str]) -> str:
    """The first few items, comma-separated, and how many more there are."""
    shown = ", ".join(items[:_SHOWN])
    return shown + (f", ... ({len(items) - _SHOWN} more)" if len(items) > _SHOWN else "")


def merge(store: Store, parsed: ParsedFile, board_id: str, path: Any) -> Merged:
    """Check ``parsed`` against the board and add what is new, all or nothing (see the module
    docstring). Raises an :class:`ExchangeError` subclass naming the problem."""
    with exchange.import_turn(store.conn, store.path) as ours:
        if not ours:
            raise ExchangeError(f"another import into {store.location} is running: try again when it "
                                "has finished; nothing was imported")
        with store.write() as conn:
            abandoned = exchange.pending_batches(conn)
        for batch in abandoned:
            _discard(store, batch)
        with exchange.read_snapshot(store.conn) as conn:
            plan = _plan(conn, parsed, board_id, path)
        _stage(store, plan)
    added_matchups, added_votes = len(plan.matchups), len(plan.votes)
    return Merged(added_matchups, added_votes, len(parsed.matchups) - added_matchups,
                  len(parsed.votes) - added_votes)


def _stage(store: Store, plan: _Plan) -> None:
    if not plan.matchups and not plan.votes:
        return  # nothing new: the database stays exactly as it was
    with store.write() as conn:
        batch = exchange.begin_batch(conn)
    try:
        with exchange.staging(store.conn):
            for rows, write in ((plan.matchups, exchange.stage_matchups), (plan.votes, exchange.stage_votes)):
                chunk = _Chunks(store)
                start = 0
                while start < len(rows):
                    part = rows[start : start + chunk.rows]
                    with store.write() as conn:
                        began = time.perf_counter()
                        write(conn, batch, part)
                    chunk.took(len(part), time.perf_counter() - began)
                    start += len(part)
        with store.write() as conn:  # synced: makes the whole batch durable, then visible
            exchange.commit_batch(conn, batch, plan.raters)
    except BaseException:
        _discard(store, batch)
        raise


class _Chunks:
    """How many rows to write per transaction: sized from the last ones so that each holds the
    write lock for about :data:`BUDGET_SECONDS` on this machine at its current load; then a
    short pause lets a waiting writer (a rater's vote) take its turn."""

    def __init__(self, store: Store) -> None:
        self.rows = 200
        self.store = store

    def took(self, rows: int, seconds: float) -> None:
        fitted = rows * BUDGET_SECONDS / max(seconds, 1e-4)
        self.rows = int(min(_MAX_ROWS, max(_MIN_ROWS, (self.rows + fitted) / 2)))
        exchange.checkpoint(self.store.conn)  # outside the write lock
        time.sleep(_PAUSE)


def _discard(store: Store, batch: int) -> None:
    chunk = _Chunks(store)
    with exchange.staging(store.conn):  # deleting invisible rows: a lost delete is redone
        while True:
            with store.write() as conn:
                began = time.perf_counter()
                deleted = exchange.discard_some(conn, batch, chunk.rows)
            if not deleted:
                return
            chunk.took(deleted, time.perf_counter() - began)


def prompt_field(parsed: ParsedFile) -> str:
    """What names a matchup's prompt across hosts: its identifier (format version 3), else its
    text (older files, written when a board's identifiers were its prompt texts)."""
    return "identifier" if parsed.header.get("version", 0) >= 3 else "prompt"


def _check_participants(conn: Any, parsed: ParsedFile, media: dict[tuple[str, str, str], Any],
                        board_id: str, path: Any) -> None:
    """Every participant the file's votes involve is rated on the board here."""
    rated = {model for model, _, _ in media}
    absent = sorted({m[side]["model"] for m in parsed.matchups for side in ("left", "right")} - rated)
    if absent:
        status = {r["name"]: r["status"] for r in
                  benchmarks.participants(conn, catalog.board_benchmark(conn, board_id))}
        listed = [f"{name!r} ({status.get(name, 'unknown')} here)" for name in absent]
        raise MissingMediaError(
            f"refused: {len(absent)} participant(s) the votes in {path} involve are not on "
            f"leaderboard {board_id} (add, run or enable them first; nothing was imported): "
            f"{short(listed)}")


def _plan(conn: Any, parsed: ParsedFile, board_id: str, path: Any) -> _Plan:
    """Every check, against one snapshot; the rows to write."""
    field = prompt_field(parsed)
    media = exchange.board_media(conn, board_id, "identifier" if field == "identifier" else "text")
    if field == "identifier":
        _check_participants(conn, parsed, media, board_id, path)
    missing: dict[tuple[str, str, str], None] = {}
    for item in parsed.matchups:
        for side in ("left", "right"):
            key = (item[side]["model"], item[field], item[side]["sha256"])
            if key not in media:
                missing[key] = None
    if missing:
        what = "prompt identifier" if field == "identifier" else "prompt"
        listed = [f"{m!r} on {what} {p!r} (sha256 {s[:12]})" for m, p, s in missing]
        raise MissingMediaError(
            f"refused: {len(missing)} media in {path} are not on leaderboard {board_id}; add "
            f"them with the same model names and files first: {short(listed)}"
        )
    stored = exchange.existing_matchups(conn, [m["id"] for m in parsed.matchups])
    conflicts = [m["id"] for m in parsed.matchups
                 if m["id"] in stored and not _same_matchup(stored[m["id"]], m, board_id, field)]
    if conflicts:
        raise ImportConflictError(
            f"refused: {len(conflicts)} matchup ids in {path} already exist here with "
            f"different content (nothing was imported): {short(conflicts)}"
        )
    _check_repeats(conn, parsed, stored, board_id, path, field)
    known = set(stored) | {m["id"] for m in parsed.matchups}
    orphans = [v["matchup"] for v in parsed.votes if v["matchup"] not in known]
    if orphans:
        raise ExchangeError(f"{path} refers to matchups it does not contain: {short(orphans)}")
    rater_of = {m["id"]: m["rater"] for m in parsed.matchups}
    wrong = [v["matchup"] for v in parsed.votes if rater_of.get(v["matchup"], v["rater"]) != v["rater"]]
    if wrong:
        raise ExchangeError(
            f"{path} has votes from a rater the matchup was not served to: {short(wrong)}"
        )
    present_votes = exchange.existing_votes(conn, [v["matchup"] for v in parsed.votes])
    vote_conflicts = [
        v["matchup"] for v in parsed.votes if v["matchup"] in present_votes
        and _vote_key(present_votes[v["matchup"]]) != _vote_key(v, "matchup")
    ]
    if vote_conflicts:
        raise ImportConflictError(
            f"refused: {len(vote_conflicts)} matchups in {path} already have a different vote "
            f"here (nothing was imported): {short(vote_conflicts)}"
        )
    waiting = [v["matchup"] for v in parsed.votes
               if v["matchup"] in stored and v["matchup"] not in present_votes]
    if waiting:  # only this host can collect that vote: a rater may be looking at the pair now
        raise ImportConflictError(
            f"refused: {path} has votes on {len(waiting)} matchups this host served and is still "
            f"waiting for (nothing was imported): {short(waiting)}"
        )
    rows = []
    for item in parsed.matchups:
        if item["id"] in stored:
            continue
        left = media[(item["left"]["model"], item[field], item["left"]["sha256"])]
        right = media[(item["right"]["model"], item[field], item["right"]["sha256"])]
        if left["model_id"] == right["model_id"]:
            raise ExchangeError(f"{path}: matchup {item['id']} pits model "
                                f"{item['left']['model']!r} against itself")
        rows.append((item["id"], board_id, left["prompt_id"], left["id"], left["model_id"],
                     right["id"], right["model_id"], item["rater"], float(item["served_at"]),
                     item.get("repeat_of")))
    origin = header_host(parsed.header)
    new_votes = [(v["matchup"], v["rater"], v["choice"], float(v["voted_at"]), v.get("origin") or origin)
                 for v in parsed.votes if v["matchup"] not in present_votes]
    return _Plan(rows, new_votes, {(board_id, row[7]) for row in rows})


def _same_matchup(stored: dict[str, Any], item: dict[str, Any], board_id: str, field: str) -> bool:
    return (
        stored["leaderboard_id"] == board_id
        and _pair(stored, field) == _pair(item, field)
        and stored["rater"] == item["rater"]
        and stored["served_at"] == item["served_at"]
        and stored["repeat_of"] == item.get("repeat_of")
    )


def _pair(m: dict[str, Any], field: str) -> tuple[Any, ...]:
    """``(prompt, (left model, sha256), (right model, sha256))`` of a file line or a stored
    matchup (export form); the prompt is named by ``field`` (see :func:`prompt_field`)."""
    if "left" in m:
        left, right = m["left"], m["right"]
        return m[field], (left["model"], left["sha256"]), (right["model"], right["sha256"])
    return m[field], (m["left_model"], m["left_sha256"]), (m["right_model"], m["right_sha256"])


def _check_repeats(
    conn: Any, parsed: ParsedFile, stored: dict[str, dict[str, Any]], board_id: str, path: Any, field: str
) -> None:
    """A repeat must be a later matchup of the same rater on the same board and media pair,
    sides swapped; its original earlier in the file or stored here. Anything else would let a
    file set a rater's agreement at will."""
    in_file = {m["id"]: m for m in parsed.matchups}
    wanted = [m["repeat_of"] for m in parsed.matchups
              if m.get("repeat_of") and m["repeat_of"] not in in_file]
    here = {**exchange.existing_matchups(conn, wanted), **stored}
    for m in parsed.matchups:
        of = m.get("repeat_of")
        if not of:
            continue
        line = parsed.line_of[m["id"]]
        original = in_file.get(of) or here.get(of)
        if original is None:
            raise ExchangeError(f"{path}, line {line}: matchup {m['id']} repeats matchup {of}, "
                                "which is neither in the file nor here; nothing was imported")
        reason = _repeat_problem(m, original, board_id, parsed.line_of, field)
        if reason:
            raise ExchangeError(
                f"{path}, line {line}: matchup {m['id']} is not a valid quality-control repeat "
                f"of {of}: {reason} (a repeat is a later matchup of the same rater on the same "
                "board and media pair, sides swapped); nothing was imported"
            )


def _repeat_problem(m: dict[str, Any], o: dict[str, Any], board_id: str, line_of: dict[str, int],
                    field: str) -> str:
    if o["id"] == m["id"]:
        return "it names itself as its original"
    if "leaderboard_id" in o and o["leaderboard_id"] != board_id:
        return "its original is a matchup on another leaderboard"
    if o["id"] in line_of and line_of[o["id"]] > line_of[m["id"]]:
        return "its original comes after it in the file"
    if o["rater"] != m["rater"]:
        return "its original was served to another rater"
    prompt, left, right = _pair(m, field)
    if _pair(o, field) != (prompt, right, left):
        return "it is not its original's media pair with sides swapped"
    if not float(o["served_at"]) < float(m["served_at"]):
        return "it was not served after its original"
    return ""


def _vote_key(row: dict[str, Any], id_field: str = "matchup_id") -> tuple[Any, ...]:
    """What makes two records the same vote (``origin`` is bookkeeping, not content)."""
    return (row[id_field], row["rater"], row["choice"], float(row["voted_at"]))
