"""Online backups: a consistent copy of a live database, taken while raters keep voting.

A backup is an SQLite file with a ``media/`` folder beside it, whatever the source. Of a
PostgreSQL database it is the copy of :func:`rater.exchange.copy_db.copy_to_file` (every row,
read in one ``REPEATABLE READ`` snapshot, and the media bytes written out as files). Of an
SQLite one, SQLite's backup API copies the pages of one committed state (see
:func:`rater.store.integrity.backup_to`), so the copy holds every vote up to some moment and no
vote without its matchup. The copy is written under a temporary name, checked
(``integrity_check``, ``foreign_key_check``) and only then renamed to its final name, so a
half-written backup never looks like a finished one. Media blobs the copy refers to are copied
into a ``media/`` folder beside it, which makes the copy usable as a database on its own.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rater.errors import DatabaseError
from rater.store.files import blob_file
from rater.store import integrity
from rater.store.dialect import is_database_url
from rater.store.postgres import display_url

from .copy_db import copy_to_file

if TYPE_CHECKING:
    from rater.store import Store

__all__ = ["BackupResult", "backup"]


@dataclass(frozen=True)
class BackupResult:
    """What one :func:`backup` produced."""

    path: Path
    bytes: int
    matchups: int
    votes: int
    media_copied: int
    seconds: float
    #: Media the database refers to that were missing from the source's media folder (so not
    #: copied); the votes are backed up all the same, since they are what cannot be redone.
    media_missing: tuple[Path, ...] = ()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _copy_blob(source: Path, target: Path) -> bool:
    if target.exists():
        return False  # content-addressed: same name, same bytes
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def backup(
    store: Store, dest: str | os.PathLike[str], *, media: bool = True, overwrite: bool = False
) -> BackupResult:
    """Copy the store's database to ``dest`` while others may be writing to it.

    :param dest: the new database file. Its media go to ``media/`` beside it.
    :param media: also copy the media blobs the copy refers to (skipped when already there).
    :param overwrite: replace an existing ``dest``; by default an existing file is refused.
    :raises DatabaseNotFound: the database does not exist (nothing is made at ``dest``).
    :raises DatabaseError: ``dest`` is the live database, exists, is a directory, or the copy
        failed its checks (nothing is left at ``dest`` then).

    Media files missing from the source (deleted by hand, a damaged disk) do not stop the
    backup: the database is still copied whole, and :attr:`BackupResult.media_missing` lists
    them. The database copy gets its final name only after the media are copied, so an
    interrupted backup never looks finished.
    """
    started = time.perf_counter()
    store.require()  # a missing source is refused before anything is made at dest
    if is_database_url(dest):  # never a file under a folder named "postgresql:"
        shown = display_url(str(dest))
        if shown == store.location:
            raise DatabaseError(f"backup destination {shown} is the database being backed up")
        raise DatabaseError(f"backup destination {shown} is a server database: a backup is an SQLite "
                            "file (with its media folder); to copy into a server database use `rater copy-db`")
    source = store.path
    target = Path(dest)
    if source is not None and _same_file(source, target):
        raise DatabaseError(f"backup destination {target} is the database being backed up")
    if target.is_dir():
        raise DatabaseError(f"backup destination {target} is a directory: give a file name")
    if target.exists() and not overwrite:
        raise DatabaseError(f"backup destination {target} already exists: choose a new name "
                            "or pass --force to replace it")
    for suffix in ("-wal", "-journal"):
        side = Path(f"{target}{suffix}")
        if side.exists():
            if not overwrite:
                raise DatabaseError(f"{side} exists beside the backup destination: a database is "
                                    "(or was) open there; choose another name")
            side.unlink()
    if source is None:  # a server database: copied row by row, in one snapshot
        copy = copy_to_file(store, target, media=media)
        return BackupResult(
            path=target, bytes=target.stat().st_size, matchups=copy.rows["matchups"],
            votes=copy.rows["votes"], media_copied=copy.media_copied,
            seconds=time.perf_counter() - started, media_missing=copy.media_missing,
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.partial-")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        stats = integrity.backup_to(store.conn, tmp)
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise DatabaseError(f"backup of {source} to {target} failed: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    copied, missing = 0, []
    try:
        if media:
            source_media, target_media = store.media_dir, target.parent / "media"
            if not _same_file(source_media, target_media):
                for sha256, ext in stats["blobs"]:
                    source_blob = blob_file(source_media, sha256, ext)
                    if not source_blob.is_file():
                        missing.append(source_blob)
                        continue
                    copied += _copy_blob(source_blob, blob_file(target_media, sha256, ext))
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DatabaseError(f"backup of {source} to {target} failed while copying media: {exc} "
                            "(no backup was written)") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BackupResult(
        path=target, bytes=target.stat().st_size, matchups=int(stats["matchups"]),
        votes=int(stats["votes"]), media_copied=copied, seconds=time.perf_counter() - started,
        media_missing=tuple(missing),
    )
