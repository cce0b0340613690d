"""Running the ``rater`` CLI in-process on a database, for the CLI tests."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from rater.cli import cli

__all__ = ["fails", "ok", "run"]


def run(db: Path | str, *args: str) -> Result:
    """``rater --db DB ARGS...`` through click's runner (exceptions propagate)."""
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def ok(db: Path | str, *args: str) -> str:
    """The command's stdout, after checking it exited 0."""
    result = run(db, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def fails(db: Path | str, *args: str, message: str) -> None:
    """The command exits 1 with ``message`` in one line on stderr and nothing on stdout."""
    result = run(db, *args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stdout == ""
