"""``rater backup``, ``rater copy-db``, ``rater export-votes`` and ``rater import-votes``: click wiring only."""

from __future__ import annotations

from pathlib import Path

import click

from rater.cli.support import friendly_errors, open_client, refuse_password

__all__ = ["COMMANDS", "backup", "copy_db", "export_votes", "import_votes"]


@click.command()
@click.argument("dest")  # text: a Path would turn a postgresql:// URL into a folder "postgresql:"
@click.option("--no-media", is_flag=True, help="Copy the database only, not the media files.")
@click.option("--force", is_flag=True, help="Replace DEST if it exists.")
@friendly_errors
def backup(dest: str, no_media: bool, force: bool) -> None:
    """Copy the database to DEST while raters keep voting (SQLite's online backup).

    The copy is one consistent moment of the database, checked before it gets its name; the
    media it refers to are copied into a media/ folder beside DEST. A PostgreSQL database is
    backed up the same way, as an SQLite file with its media/ folder (the copy of copy-db).

    Example:

        rater backup backups/leaderboards-2025-06-01.db
    """
    result = open_client().backup(dest, media=not no_media, overwrite=force)
    click.echo(f"backed up {result.votes} votes and {result.matchups} matchups to {result.path} "
               f"({result.bytes:,} bytes, {result.media_copied} media files copied, "
               f"{result.seconds:.1f} s)")
    _warn_missing(result.media_missing)


def _warn_missing(missing: tuple[Path, ...]) -> None:
    if missing:
        shown = "\n  ".join(str(p) for p in missing[:20])
        more = f"\n  ... and {len(missing) - 20} more" if len(missing) > 20 else ""
        click.echo(f"warning: {len(missing)} media files the database refers to are "
                   f"missing here and were not copied (the votes were):\n  {shown}{more}", err=True)


@click.command(name="copy-db")
@click.argument("src")
@click.argument("dest")
@friendly_errors
def copy_db(src: str, dest: str) -> None:
    """Copy the whole database SRC into the new database DEST: SQLite and PostgreSQL, either way.

    SRC and DEST are each an SQLite file or a postgresql://user@host/db URL (--db plays no
    part; a password goes in ~/.pgpass or PGPASSWORD, never on the command line). Every
    row moves with its ids and settings (the host id too: it is the same database, moved), and
    so do the media (a media/ folder beside an SQLite file; inside a server database).
    Standings are identical afterwards.

    DEST must be new: a file that does not exist, or an empty server database (createdb);
    anything else is refused and left as it is. All or nothing: a failed or killed copy leaves
    no DEST. SRC is read in one snapshot, so raters may keep voting meanwhile, and is never
    modified: an SQLite file at an older schema version is refused until it has been opened
    once (e.g. `rater --db SRC list` migrates it).

    Example:

    \b
        createdb leaderboards
        rater copy-db data/leaderboards.db postgresql://rater@db.example.org/leaderboards
        rater copy-db postgresql://rater@db.example.org/leaderboards backups/copy.db
    """
    from rater.exchange.copy_db import copy_database

    for url in (src, dest):
        refuse_password(url, "SRC or DEST", "leave it out and use ~/.pgpass or PGPASSWORD (nothing was copied)")
    result = copy_database(src, dest, progress=lambda line: click.echo(line, err=True))
    click.echo(f"copied {sum(result.rows.values()):,} rows of {len(result.rows)} tables "
               f"({result.rows['votes']:,} votes) and {result.media_copied:,} media files "
               f"to {result.dest} ({result.seconds:.1f} s)")
    _warn_missing(result.media_missing)


@click.command(name="export-votes")
@click.argument("leaderboard_id")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@friendly_errors
def export_votes(leaderboard_id: str, file: Path) -> None:
    """Write a leaderboard's matchups and votes to FILE (JSON Lines) for another host.

    Matchups keep their ids and name media by participant, prompt identifier and content hash,
    and the file names the benchmark, the leaderboard and its participants (format version 3;
    a board made alone with `rater create` is written as version 2, which older rater versions
    read), so it can be merged into the same leaderboard created on another machine with
    import-votes.

    Example:

        rater export-votes k7gq2mxa votes-laptop.jsonl
    """
    lb = open_client().mri.get_leaderboard_by_id(leaderboard_id)
    result = lb.export_votes(file)
    click.echo(f"exported {result.votes} votes on {result.matchups} matchups of {lb.id} "
               f"to {result.path}")


@click.command(name="import-votes")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--into", "into", metavar="ID",
              help="The target leaderboard (default: the file's board id, else the leaderboard "
                   "of the file's name in the benchmark of its id or name; version 2 files: the "
                   "one with the file's name and prompts).")
@click.option("--allow-different-instruction", is_flag=True,
              help="Merge although the target words its instruction differently (same direction).")
@friendly_errors
def import_votes(file: Path, into: str | None, allow_different_instruction: bool) -> None:
    """Merge votes exported on another host (export-votes) into this database.

    All or nothing; importing the same file twice adds nothing. Votes involving a participant
    not rated on the target, or on media this host lacks, are refused with a list of what is
    missing; an id that exists here with different content
    is an error, never an overwrite. The target must ask the file's question, also with --into:
    a board ranking the other way (inverse ranking) is always refused, a differently worded
    instruction unless --allow-different-instruction. Files from older rater versions do not
    record the question; they are imported with a warning that it could not be verified.
    A quality-control repeat that is not a later, sides-swapped matchup of the same rater and
    media pair, or a time before 2000 or more than a day ahead, refuses the file. Raters can
    keep voting while it imports: nothing of the file shows until all of it does.

    Example:

        rater import-votes votes-laptop.jsonl --into k7gq2mxa
    """
    result = open_client().import_votes(file, into=into,
                        allow_instruction_mismatch=allow_different_instruction)
    click.echo(f"imported {result.votes_added} votes and {result.matchups_added} matchups into "
               f"{result.leaderboard_id} ({result.votes_present} votes were already here)")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


COMMANDS = [backup, copy_db, export_votes, import_votes]
