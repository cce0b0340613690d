"""Hostile database files: refused with a clear error, and never "repaired", migrated or
overwritten. They are compared as raw bytes (with every file beside them) before and after.

The rest of the hostile-input table is in ``test_hostile_input.py``.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import make_png

from rater import Client, DatabaseError, SchemaTooNewError
from rater.cli import cli

PROMPTS = ["A red sun over blue mountains", "A sailboat on calm water"]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _not_sqlite(path: Path) -> None:
    path.write_bytes(b"name,score\nalpha,1\n" * 20)


def _truncated_db(path: Path) -> None:
    with Client(path) as client:
        client.mri.create_new_leaderboard("B", "Which?", [f"p{i} " + "x" * 500 for i in range(40)], False)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _newer_schema(path: Path) -> None:
    with Client(path) as client:
        client.mri.create_new_leaderboard("B", "Which?", ["p"], False)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("PRAGMA user_version = 999")
    conn.close()


def _someone_elses_db(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.commit()
    conn.close()


def _header_only(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + bytes(20))


DB_CASES = [
    ("not SQLite", _not_sqlite, DatabaseError, r"is not an SQLite database"),
    ("truncated", _truncated_db, DatabaseError, r"is truncated"),
    ("only a header", _header_only, DatabaseError, r"is truncated"),
    ("newer schema version", _newer_schema, SchemaTooNewError, r"schema version 999, newer than this tool's"),
    ("another application's SQLite", _someone_elses_db, DatabaseError, r"database of something else"),
]


def _folder(path: Path) -> dict[str, str]:
    return {p.name: _sha(p.read_bytes()) for p in sorted(path.parent.iterdir()) if p.is_file()}


@pytest.mark.parametrize("label, make, error, message", DB_CASES, ids=[c[0] for c in DB_CASES])
def test_bad_database_files_are_refused_untouched(tmp_path: Path, label, make, error, message) -> None:
    path = tmp_path / "lb.db"
    make(path)
    before = _folder(path)
    with pytest.raises(error, match=message):
        Client(path)
    assert _folder(path) == before, "the file was modified"
    result = CliRunner().invoke(cli, ["--db", str(path), "list"])
    assert result.exit_code == 1 and re.search(message, result.output)
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert _folder(path) == before


def test_database_path_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="is a directory, not a database file"):
        Client(tmp_path)


def test_read_only_database_reads_but_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "lb.db"
    with Client(path) as client:
        lb = client.mri.create_new_leaderboard("B", "Which?", PROMPTS, False)
    os.chmod(path, 0o444)  # root ignores permission bits; the store must not
    before = _sha(path.read_bytes())
    try:
        with Client(path) as client:
            board = client.mri.get_leaderboard_by_id(lb.id)
            assert board.prompts == PROMPTS
            with pytest.raises(DatabaseError, match="is read-only"):
                board.evaluate_model("m", [make_png(tmp_path / "x.png", 1)], [PROMPTS[0]])
            with pytest.raises(DatabaseError, match="is read-only"):
                client.mri.create_new_leaderboard("C", "Which?", ["p"], False)
        assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*.png"))
        result = CliRunner().invoke(cli, ["--db", str(path), "create", "--name", "C",
                                          "--instruction", "Which?", "--prompt", "p"])
        assert result.exit_code == 1 and "is read-only" in result.output
        assert _sha(path.read_bytes()) == before
    finally:
        os.chmod(path, 0o644)
