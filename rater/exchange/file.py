"""The vote exchange file: JSON Lines written by ``rater export-votes`` and read by ``import-votes``.

See :mod:`rater.exchange.votes` for the format and what importing does; this module writes the lines
atomically and reads them back, refusing anything malformed with the file and line named.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rater.errors import LeaderboardError, ValidationError
from rater.formats import json_objects, text_lines
from rater.store.votes import check_time
from rater.intake.validation import check_name, check_text

__all__ = [
    "BoardHeader",
    "FORMAT",
    "FORMAT_VERSION",
    "BoardMismatchError",
    "ExchangeError",
    "ParsedFile",
    "board_fingerprint",
    "check_meaning",
    "header_host",
    "read_file",
    "same_words",
    "write_file",
]

FORMAT = "rater-votes"
# 2 added the board's instruction and inverse_ranking to the header; 3 the benchmark, the
# board's settings, the participants and each matchup's prompt identifier
FORMAT_VERSION = 3
_READABLE = (1, 2, 3)  # version 1 files (no instruction / inverse_ranking) still import, unverified
_AGGREGATIONS = ("all", "majority")
_CHOICES = ("left", "right", "tie")
_HOST_ID = re.compile(r"[0-9a-f]{32}")


class BoardHeader(Protocol):
    """What the exchange reads of a board (a :class:`rater.Leaderboard` has all of it)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def prompts(self) -> list[str]: ...
    @property
    def instruction(self) -> str: ...
    @property
    def inverse_ranking(self) -> bool: ...
    @property
    def benchmark_id(self) -> str: ...
    @property
    def included_tags(self) -> list[str]: ...
    @property
    def excluded_tags(self) -> list[str]: ...
    @property
    def vote_aggregation(self) -> str: ...
    @property
    def min_responses_per_matchup(self) -> int: ...


class ExchangeError(LeaderboardError):
    """A vote file cannot be written or imported (malformed, wrong board, ...)."""


class BoardMismatchError(ExchangeError):
    """The file's votes answer another question than the target board asks (the opposite
    direction, or, unless allowed, a different instruction)."""


def board_fingerprint(name: str, prompts: list[str]) -> str:
    """A hash of a board's name and set of prompts: what "the same leaderboard" means across
    hosts (prompt order is a display choice and does not count)."""
    payload = json.dumps([name, sorted(prompts)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def write_file(path: Path, lines: list[dict[str, Any]]) -> None:
    """Write one JSON object per line to a temporary name, then rename: a reader never sees
    half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=".export-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for line in lines:
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class ParsedFile:
    """A vote file's header, matchup and vote lines, and the line number of each matchup."""

    header: dict[str, Any]
    matchups: list[dict[str, Any]]
    votes: list[dict[str, Any]]
    line_of: dict[str, int]


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    yield from json_objects(text_lines(path, "vote file", ExchangeError), str(path), ExchangeError)


def _time(item: dict[str, Any], key: str, where: str) -> None:
    try:
        check_time(item[key], f"field {key!r}")
    except ValidationError as exc:
        raise ExchangeError(f"{where}: {exc}; nothing was imported") from None


def _need(item: dict[str, Any], where: str, **fields: type | tuple[type, ...]) -> None:
    for key, kind in fields.items():
        if key not in item:
            raise ExchangeError(f"{where}: missing field {key!r}")
        value = item[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise ExchangeError(f"{where}: field {key!r} has the wrong type ({value!r})")
        if isinstance(value, float) and not math.isfinite(value):
            raise ExchangeError(f"{where}: field {key!r} is not a finite number ({value!r})")
        if key in ("id", "matchup", "rater", "model"):
            try:
                check_name(value, f"field {key!r}", max_length=200)
            except ValidationError as exc:
                raise ExchangeError(f"{where}: {exc}") from None


def _side(item: dict[str, Any], key: str, where: str) -> None:
    side = item.get(key)
    if not isinstance(side, dict):
        raise ExchangeError(f"{where}: field {key!r} must be an object with model and sha256")
    _need(side, f"{where}, {key}", model=str, sha256=str)


def read_file(path: Path) -> ParsedFile:
    lines = _lines(path)
    first = next(lines, None)
    if first is None:
        raise ExchangeError(f"{path} is empty: expected a {FORMAT} header line")
    _, header = first
    if header.get("format") != FORMAT:
        raise ExchangeError(f"{path} is not a rater vote export (its first line has no "
                            f"\"format\": \"{FORMAT}\" header)")
    version = header.get("version")
    if isinstance(version, bool) or version not in _READABLE:
        raise ExchangeError(f"{path} has format version {version!r}; this tool reads versions "
                            f"{_READABLE[0]} to {FORMAT_VERSION}: upgrade rater to import it")
    board = header.get("leaderboard")
    counts = header.get("counts")
    if not isinstance(board, dict) or not isinstance(counts, dict):
        raise ExchangeError(f"{path}, line 1: header lacks 'leaderboard' or 'counts'")
    _need(board, f"{path}, line 1, leaderboard", id=str, name=str, fingerprint=str)
    meaning = {"instruction": str, "inverse_ranking": bool}
    if version >= 2:  # what gives a vote its meaning; version 1 files did not record it
        _need(board, f"{path}, line 1, leaderboard", **meaning)  # type: ignore[arg-type]
    else:  # checked only if a version 1 file happens to carry them
        _need(board, f"{path}, line 1, leaderboard", **{k: v for k, v in meaning.items() if k in board})
    participants = _identities(header, path) if version >= 3 else None
    parsed = ParsedFile(header, [], [], {})
    seen_matchups: set[str] = set()
    seen_votes: set[str] = set()
    for number, item in lines:
        where = f"{path}, line {number}"
        kind = item.get("type")
        if kind == "matchup":
            _need(item, where, id=str, prompt=str, rater=str, served_at=(int, float))
            _time(item, "served_at", where)
            _side(item, "left", where)
            _side(item, "right", where)
            if participants is not None:
                _prompt_identity(item, participants, where)
            if item.get("repeat_of") is not None and not isinstance(item["repeat_of"], str):
                raise ExchangeError(f"{where}: field 'repeat_of' must be a matchup id or null")
            if item["id"] in seen_matchups:
                raise ExchangeError(f"{where}: matchup {item['id']} appears twice in the file")
            seen_matchups.add(item["id"])
            parsed.line_of[item["id"]] = number
            parsed.matchups.append(item)
        elif kind == "vote":
            _need(item, where, matchup=str, rater=str, choice=str, voted_at=(int, float))
            _time(item, "voted_at", where)
            if item["choice"] not in _CHOICES:
                raise ExchangeError(f"{where}: choice {item['choice']!r} is not one of "
                                    f"{', '.join(_CHOICES)}")
            origin = item.get("origin")
            if origin not in (None, "") and not (isinstance(origin, str) and _HOST_ID.fullmatch(origin)):
                raise ExchangeError(f"{where}: origin {origin!r} is not a host id (32 hex digits)")
            if item["matchup"] in seen_votes:
                raise ExchangeError(f"{where}: a second vote on matchup {item['matchup']}")
            seen_votes.add(item["matchup"])
            parsed.votes.append(item)
        else:
            raise ExchangeError(f"{where}: unknown line type {kind!r} (expected matchup or vote)")
    found = {"matchups": len(parsed.matchups), "votes": len(parsed.votes)}
    if {k: counts.get(k) for k in found} != found:
        raise ExchangeError(
            f"{path} is incomplete or altered: its header announces {counts.get('matchups')} "
            f"matchups and {counts.get('votes')} votes, the file has {found['matchups']} and "
            f"{found['votes']}"
        )
    return parsed


def _tags(value: object, where: str) -> None:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise ExchangeError(f"{where} must be a list of tag texts ({value!r})")


def _identities(header: dict[str, Any], path: Path) -> set[str]:
    """Check a version 3 header's benchmark, board settings and participants; the participants'
    names (every matchup's models must be among them)."""
    where = f"{path}, line 1"
    bench = header.get("benchmark")
    if not isinstance(bench, dict):
        raise ExchangeError(f"{where}: header lacks 'benchmark' (format version 3)")
    _need(bench, f"{where}, benchmark", id=str, name=str)
    board = header["leaderboard"]
    _need(board, f"{where}, leaderboard", vote_aggregation=str, min_responses_per_matchup=int)
    for key in ("included_tags", "excluded_tags"):
        _tags(board.get(key), f"{where}, leaderboard, field {key!r}")
    if board["vote_aggregation"] not in _AGGREGATIONS:
        raise ExchangeError(f"{where}, leaderboard: vote_aggregation {board['vote_aggregation']!r} "
                            f"is not one of {', '.join(_AGGREGATIONS)}")
    names = header.get("participants")
    if not isinstance(names, list):
        raise ExchangeError(f"{where}: header lacks the 'participants' list (format version 3)")
    for name in names:
        try:
            check_name(name, "a participant's name", max_length=200)
        except ValidationError as exc:
            raise ExchangeError(f"{where}, participants: {exc}") from None
    if len(set(names)) != len(names):
        raise ExchangeError(f"{where}: a participant is listed twice")
    return set(names)


def _prompt_identity(item: dict[str, Any], participants: set[str], where: str) -> None:
    """A version 3 matchup: its prompt identifier, and models the header lists."""
    try:
        check_text(item.get("identifier"), "field 'identifier'")
    except ValidationError as exc:
        raise ExchangeError(f"{where}: {exc}") from None
    for side in ("left", "right"):
        model = item[side]["model"]
        if model not in participants:
            raise ExchangeError(f"{where}: participant {model!r} is not in the header's "
                                "participants list")


def header_host(header: dict[str, Any]) -> str:
    """The header's host id, or ``""`` when it has none (or a malformed one)."""
    host = header.get("host")
    return host if isinstance(host, str) and _HOST_ID.fullmatch(host) else ""


def _direction(inverse: bool) -> str:
    return "inverse ranking: the chosen one ranks lower" if inverse else "the chosen one ranks higher"


def same_words(a: str, b: str) -> bool:
    """Whether two instructions are the same words (case and runs of whitespace aside)."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def check_meaning(
    header: dict[str, Any], board: BoardHeader, path: Any, allow_instruction_mismatch: bool = False
) -> list[str]:
    """Check that the file's votes answer the question ``board`` asks; return warnings.

    * ``inverse_ranking`` differs: :class:`BoardMismatchError`, always (the votes would rank the
      board backwards);
    * the instruction differs (ignoring case and runs of whitespace) in the same direction:
      :class:`BoardMismatchError` unless ``allow_instruction_mismatch``, then a warning;
    * a version 1 file records neither: a warning that the direction could not be verified.
    """
    file_board = header["leaderboard"]
    where = f"{path}: the file's votes (leaderboard {file_board['id']})"
    target = f"leaderboard {board.id}"
    warnings: list[str] = []
    inverse = file_board.get("inverse_ranking")
    if inverse is None:
        warnings.append(
            f"{path} was written by an older rater (format version {header.get('version')}) that "
            f"does not record the board's question or direction: could not verify that its votes "
            f"answer {board.instruction!r} ({_direction(board.inverse_ranking)}) like {target}"
        )
    elif inverse != board.inverse_ranking:
        asked = file_board.get("instruction", "?")
        raise BoardMismatchError(
            f"{where} answer {asked!r} ({_direction(inverse)}) but {target} asks "
            f"{board.instruction!r} ({_direction(board.inverse_ranking)}): refusing to merge, "
            "they would rank the board backwards; nothing was imported"
        )
    instruction = file_board.get("instruction")
    if instruction is not None and not same_words(instruction, board.instruction):
        differ = (f"{where} answer {instruction!r} but {target} asks {board.instruction!r} "
                  f"(both: {_direction(board.inverse_ranking)})")
        if not allow_instruction_mismatch:
            raise BoardMismatchError(
                f"{differ}: refusing to merge votes on a different question; nothing was "
                "imported. If both questions mean the same, pass --allow-different-instruction "
                "(allow_instruction_mismatch=True)"
            )
        warnings.append(f"{differ}: merged anyway (instruction mismatch allowed)")
    return warnings
