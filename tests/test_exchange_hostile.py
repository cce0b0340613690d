"""Crafted vote files: quality-control repeats that are not repeats, implausible times, and
files built to break the reader (deep nesting, endless or blocking files, huge lines).

Each is refused whole with a one-line error naming the line and field, and the database is
left exactly as it was; the CLI cases run the real ``rater`` command on a real database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_exchange import _dump, _rewrite, built, hosts  # noqa: F401  (fixtures)

from rater import ValidationError
from rater.cli import cli
from rater.exchange.votes import ExchangeError
from rater.store import catalog, votes

ROOT = Path(__file__).resolve().parents[1]
YEAR_3000 = 32_503_680_000.0

pytestmark = pytest.mark.both_backends  # the hosts on SQLite, then on PostgreSQL


def _matchups(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [x for x in lines if x.get("type") == "matchup"]


def _add_repeat(lines: list[dict[str, Any]], **change: Any) -> dict[str, Any]:
    """Append a valid repeat of the first matchup (later, same rater, sides swapped) with its
    vote, then apply ``change`` to the repeat's line."""
    original = _matchups(lines)[0]
    repeat = {**original, "id": uuid.uuid4().hex, "left": original["right"], "right": original["left"],
              "served_at": original["served_at"] + 60.0, "repeat_of": original["id"]}
    repeat.update(change)
    vote = {"type": "vote", "matchup": repeat["id"], "rater": repeat["rater"], "choice": "left",
            "voted_at": repeat["served_at"] + 5.0, "origin": None}
    lines.insert(1 + len(_matchups(lines)), repeat)
    lines.append(vote)
    lines[0]["counts"]["matchups"] += 1
    lines[0]["counts"]["votes"] += 1
    return repeat


def _other_rater(lines: list[dict[str, Any]]) -> None:
    first = _matchups(lines)[0]
    other = next(m for m in _matchups(lines) if m["rater"] != first["rater"])
    _add_repeat(lines, rater=other["rater"])


def _same_sides(lines: list[dict[str, Any]]) -> None:
    first = _matchups(lines)[0]
    _add_repeat(lines, left=first["left"], right=first["right"])


def _other_pair(lines: list[dict[str, Any]]) -> None:
    first = _matchups(lines)[0]
    other = next(m for m in _matchups(lines) if m["rater"] == first["rater"]
                 and (m["left"], m["right"]) not in ((first["left"], first["right"]), (first["right"], first["left"])))
    _add_repeat(lines, prompt=other["prompt"], left=other["right"], right=other["left"])


def _itself(lines: list[dict[str, Any]]) -> None:
    repeat = _add_repeat(lines)
    repeat["repeat_of"] = repeat["id"]


def _earlier(lines: list[dict[str, Any]]) -> None:
    first = _matchups(lines)[0]
    _add_repeat(lines, served_at=first["served_at"] - 1.0)


BAD_REPEATS = [
    ("repeat of itself", _itself, "it names itself as its original"),
    ("another rater's matchup", _other_rater, "its original was served to another rater"),
    ("sides not swapped", _same_sides, "not its original's media pair with sides swapped"),
    ("a different media pair", _other_pair, "not its original's media pair with sides swapped"),
    ("served before its original", _earlier, "it was not served after its original"),
]


def test_a_real_repeat_imports(hosts) -> None:
    tmp, _, (_, a), (b_client, b) = hosts
    a.export_votes(path := tmp / "a.jsonl")
    good = _rewrite(path, tmp / "good.jsonl", _add_repeat)
    repeats = sum(1 for x in good.read_text().split("\n") if x and json.loads(x).get("repeat_of"))

    def agreements() -> int:
        return sum(r[5] is not None for r in votes.rater_vote_rows(b_client.store.conn, b.id))

    before = agreements()
    result = b_client.import_votes(good)
    assert (result.matchups_added, result.votes_added) == (41, 41)
    assert agreements() - before == repeats >= 1  # ours among them: it counts for agreement


@pytest.mark.parametrize("label, change, reason", BAD_REPEATS, ids=[c[0] for c in BAD_REPEATS])
def test_crafted_repeats_refuse_the_whole_file(hosts, label: str, change, reason: str) -> None:
    tmp, _, (_, a), (b_client, _) = hosts
    a.export_votes(path := tmp / "a.jsonl")
    bad = _rewrite(path, tmp / "bad.jsonl", change)
    line = 1 + sum(1 for x in bad.read_text().split("\n") if '"type": "matchup"' in x)  # ours: last
    before = _dump(b_client)
    with pytest.raises(ExchangeError) as caught:
        b_client.import_votes(bad)
    message = str(caught.value)
    assert f"{bad}, line {line}: matchup " in message and reason in message
    assert "nothing was imported" in message and "\n" not in message
    assert _dump(b_client) == before


def _row(client, board, rater: str, original: dict[str, Any] | None = None, **change: Any) -> dict[str, Any]:
    media = catalog.list_media(client.store.conn, board.id)
    left, right = media[0], next(m for m in media if m["model_id"] != media[0]["model_id"]
                                 and m["prompt_id"] == media[0]["prompt_id"])
    row = {"id": uuid.uuid4().hex, "leaderboard_id": board.id, "prompt_id": left["prompt_id"],
           "left_media": left["id"], "left_model": left["model_id"], "right_media": right["id"],
           "right_model": right["model_id"], "rater": rater, "served_at": 1.75e9, "repeat_of": None}
    if original is not None:  # a valid repeat of ``original``
        row.update(left_media=original["right_media"], left_model=original["right_model"],
                   right_media=original["left_media"], right_model=original["left_model"],
                   served_at=original["served_at"] + 1, repeat_of=original["id"])
    row.update(change)
    return row


def test_the_store_itself_refuses_crafted_repeats(hosts) -> None:
    import sqlite3

    _, _, _, (client, board) = hosts
    with client.store.write() as conn:
        votes.insert_matchup(conn, original := _row(client, board, "ann"))
    bad = {
        "itself": _row(client, board, "ann", original, repeat_of="x" * 32, id="x" * 32),
        "other rater": _row(client, board, "bob", original),
        "sides not swapped": {**_row(client, board, "ann"), "repeat_of": original["id"], "served_at": 1.76e9},
        "earlier": _row(client, board, "ann", original, served_at=1.7e9),
    }
    count = client.store.conn.execute("SELECT count(*) FROM matchups").fetchone()[0]
    for label, row in bad.items():
        with pytest.raises(sqlite3.IntegrityError, match="quality-control repeat must repeat"):
            with client.store.write() as conn:
                votes.insert_matchup(conn, row)
    assert client.store.conn.execute("SELECT count(*) FROM matchups").fetchone()[0] == count
    with client.store.write() as conn:
        votes.insert_matchup(conn, _row(client, board, "ann", original))


# -- implausible times ----------------------------------------------------------------------------

def _first(kind: str, key: str, value: Any):
    def change(lines: list[dict[str, Any]]) -> None:
        next(x for x in lines if x.get("type") == kind)[key] = value
    return change


BAD_TIMES = [
    ("year 3000", "vote", "voted_at", YEAR_3000, "is not a plausible time"),
    ("negative", "vote", "voted_at", -5.0, "is not a plausible time"),
    ("1e300", "matchup", "served_at", 1e300, "is not a plausible time"),
    ("10**400", "matchup", "served_at", 10**400, "is not a plausible time"),
    ("1999", "matchup", "served_at", 915_148_800, "is not a plausible time"),
    ("two days ahead", "vote", "voted_at", "now+2d", "is not a plausible time"),
    ("a bool", "vote", "voted_at", True, "has the wrong type"),
]


@pytest.mark.parametrize("label, kind, key, value, message", BAD_TIMES, ids=[c[0] for c in BAD_TIMES])
def test_implausible_times_are_refused(hosts, label: str, kind: str, key: str, value: Any, message: str) -> None:
    import time

    tmp, _, (_, a), (b_client, _) = hosts
    a.export_votes(path := tmp / "a.jsonl")
    value = time.time() + 2 * 86_400 if value == "now+2d" else value
    bad = _rewrite(path, tmp / "bad.jsonl", _first(kind, key, value))
    before = _dump(b_client)
    result = CliRunner().invoke(cli, ["--db", str(b_client.db_path), "import-votes", str(bad)])
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.count("\n") == 1 and "Traceback" not in result.output, result.output
    assert f"{bad}, line " in result.output and f"field {key!r}" in result.output and message in result.output
    assert _dump(b_client) == before


def test_the_store_refuses_implausible_vote_times(hosts) -> None:
    _, _, _, (client, board) = hosts
    with client.store.write() as conn:
        votes.insert_matchup(conn, row := _row(client, board, "ann"))
    for bad in (YEAR_3000, -1.0, float("nan"), 10**400):
        with pytest.raises(ValidationError, match="voted_at"):
            with client.store.write() as conn:
                votes.insert_vote(conn, row["id"], "ann", "left", bad)
    with pytest.raises(ValidationError, match="served_at 1e\\+300 is not a plausible time"):
        with client.store.write() as conn:
            votes.insert_matchup(conn, _row(client, board, "ann", served_at=1e300))
    assert votes.get_vote(client.store.conn, row["id"]) is None


# -- files built to break the reader --------------------------------------------------------------

def _cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real ``rater`` command in a subprocess, so a hang fails the test instead of the run."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "rater", "--db", str(db), *args], env=env,
                          capture_output=True, text=True, timeout=60)


def _deep(tmp: Path, name: str, first: str = "") -> Path:
    path = tmp / name
    path.write_text(first + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    return path


def _fifo(tmp: Path) -> Path:
    os.mkfifo(path := tmp / "votes.fifo")
    return path


def _long_line(tmp: Path) -> Path:
    path = tmp / "long.jsonl"
    path.write_bytes(b'{"format": "' + b"x" * (2 << 20) + b'"}\n')
    return path


READER_CASES = [
    ("nested 100,000 deep", lambda t: ["import-votes", str(_deep(t, "deep.jsonl"))], "line 1: JSON nested too deeply"),
    ("/dev/zero", lambda t: ["import-votes", "/dev/zero"], "/dev/zero is not a regular file"),
    ("a FIFO", lambda t: ["import-votes", str(_fifo(t))], "votes.fifo is not a regular file"),
    ("a line of 2 MiB", lambda t: ["import-votes", str(_long_line(t))], "line 1 is longer than 1,048,576 bytes"),
    ("an integer of 5,000 digits", lambda t: ["import-votes", str(_deep(t, "big.jsonl", "1" * 5000 + "\n"))],
     "line 1: not valid JSON"),
]


@pytest.mark.parametrize("label, args, message", READER_CASES, ids=[c[0] for c in READER_CASES])
def test_reader_attacks_are_one_line_errors(hosts, label: str, args, message: str) -> None:
    tmp, _, _, (client, _) = hosts
    before = _dump(client)
    result = _cli(client.db_path, *args(tmp))
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert _dump(client) == before


def test_a_manifest_nested_100000_deep_is_one_line(hosts) -> None:
    tmp, _, _, (client, board) = hosts
    before = _dump(client)
    manifest = _deep(tmp, "deep.jsonl")
    result = _cli(client.db_path, "add-model", board.id, "--name", "deep", "--manifest", str(manifest))
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "line 1: JSON nested too deeply" in result.stderr
    assert _dump(client) == before
