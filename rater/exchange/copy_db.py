"""Copying a whole database into a new one, SQLite or PostgreSQL either way (``rater copy-db``).

Every row of every table moves with its ids (the same host id too: it is the same database,
moved), and so do the media: from an SQLite source's ``media/`` folder or a server's
``blob_data`` into the destination's. The source is read in one consistent snapshot (one read
transaction), so raters may keep voting while it is copied; the copy holds every vote up to
that moment.

All or nothing. An SQLite destination is written under a temporary name in its folder (its
media in a temporary folder beside it) and gets its name only when complete; a PostgreSQL one
is filled in one transaction. A failure, or a killed process, leaves no destination: a server
rolls back, and the temporary files of a copy that died are removed by the next copy to the
same name. The destination must be new (no file; a server database without tables): a copy
never replaces data. An SQLite source at an older schema version is refused, since opening it
would migrate it and a copy leaves its source as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rater.errors import DatabaseError, DatabaseNotFound, MediaError, SchemaTooNewError
from rater.intake.media import make_preview
from rater.store import SCHEMA_VERSION, Store, connect, copying, open_store, transaction
from rater.store.dialect import is_database_url
from rater.store.exchange import read_snapshot
from rater.store.integrity import check_integrity
from rater.store.files import blob_file, missing_database
from rater.store.postgres import display_url, install_schema, open_connection

__all__ = ["CopyResult", "copy_database", "copy_to_file"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CopyResult:
    """What one copy wrote."""

    dest: str
    #: Rows copied, by table.
    rows: Mapping[str, int]
    #: Media files written (a file already in the destination's media folder is not rewritten).
    media_copied: int
    seconds: float
    #: Media the database refers to whose bytes the source lacks (not copied; the rows are).
    media_missing: tuple[Path, ...] = field(default=())


def copy_database(src: str | os.PathLike[str], dest: str | os.PathLike[str], *,
                  progress: Progress | None = None) -> CopyResult:
    """Copy the whole database at ``src`` into the new database ``dest`` (each an SQLite file
    or a ``postgresql://`` URL).

    :param progress: called with one line per table copied, and for the media.
    :raises DatabaseNotFound: there is no database at ``src``.
    :raises DatabaseError: ``dest`` exists (a file, or a server database with tables),
        ``src`` has an older schema version (open it once to migrate it), or the copy failed;
        nothing is left at ``dest`` then.
    """
    say = progress or (lambda _line: None)
    if not is_database_url(dest):
        _check_new_file(Path(dest))
    source = _open_source(src)
    try:
        if is_database_url(dest):
            return _copy_to_server(source, str(dest), say)
        return copy_to_file(source, Path(dest), progress=say)
    finally:
        source.close()


@dataclass
class _FileSource:
    """An SQLite source, opened read-only (what a copy needs of a :class:`Store`)."""

    conn: sqlite3.Connection
    location: str
    media_dir: Path

    def close(self) -> None:
        self.conn.close()


#: What a copy reads: a store (an open server database; the database being backed up) or a file.
Source = Store | _FileSource


def _open_source(src: str | os.PathLike[str]) -> Source:
    if is_database_url(src):
        store = open_store(src)
        store.require()  # a missing or empty server database: refused before anything is made at dest
        return store
    path = Path(src)
    if not path.is_file():
        raise DatabaseError(f"{path} is a directory, not a database file") if path.is_dir() else missing_database(path)
    version = copying.sqlite_schema_version(path)
    if version == 0:
        raise DatabaseError(f"{path} is not a rater database (no schema version): nothing was copied")
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(f"{path} has schema version {version}, newer than this tool's "
                                f"{SCHEMA_VERSION}: upgrade rater to copy it")
    if version < SCHEMA_VERSION:
        raise DatabaseError(f"{path} has schema version {version}, older than {SCHEMA_VERSION}: copy-db "
                            f"leaves its source as it is, so open it once first to migrate it "
                            f"(e.g. `rater --db {path} list`), then copy it")
    return _FileSource(copying.open_read_only(path), str(path), path.parent / "media")


def _check_new_file(target: Path) -> None:
    if target.is_dir():
        raise DatabaseError(f"copy destination {target} is a directory: give a new file name")
    for name in (target, Path(f"{target}-wal"), Path(f"{target}-journal")):
        if os.path.lexists(name):
            raise DatabaseError(f"copy destination {name} already exists: copy-db writes only a new "
                                "database; choose a new name (nothing was changed)")


def _fill(source: Source, src: Any, dest: Any, dest_name: str, put: _Media | None,
          say: Progress) -> tuple[dict[str, int], int, list[Path]]:
    """Copy every row of ``src`` into the fresh schema of ``dest`` and the media into ``put``,
    in the callers' transactions."""
    copying.check_tables(src, source.location)
    copying.clear_singletons(dest)
    rules = copying.set_rules_aside(dest)
    rows = {}
    for table, key in copying.COPY_TABLES:
        rows[table] = copying.copy_table(src, dest, table, key, dest_name)
        say(f"{table}: {rows[table]:,} rows")
    copying.restore_rules(dest, rules)
    copying.set_identities(dest)
    copied, missing = 0, []
    if put is not None:
        blobs = copying.blob_list(src)
        # A server's bytes, in the same order (none on SQLite); closed even on an error, since
        # the connection serves nothing else until then.
        with contextlib.closing(copying.kept_blobs(src)) as kept:
            pending = next(kept, None)
            for sha256, ext, kind in blobs:
                while pending is not None and pending[0] < sha256:
                    pending = next(kept, None)
                if not put.wanted(sha256, ext):
                    continue
                data, path = _blob(source, sha256, ext, pending[1] if pending and pending[0] == sha256 else None)
                if data is None:
                    missing.append(path)
                    continue
                put.add(sha256, ext, kind, data)
                copied += 1
        say(f"media: {copied:,} files copied" + (f", {len(missing):,} missing" if missing else ""))
    return rows, copied, missing


def _blob(source: Source, sha256: str, ext: str, kept: bytes | None) -> tuple[bytes | None, Path]:
    """The blob's bytes (``kept`` by a server, else the source's media file, on a server the
    host's cache) and that file."""
    path = blob_file(source.media_dir, sha256, ext)
    data = kept
    if data is None:
        if not path.is_file():
            return None, path
        data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise MediaError(f"the stored bytes of medium {sha256} in {source.location} do not match its "
                         "hash (damaged): nothing was copied")
    return data, path


class _Media:
    """Where the copied media go."""

    def wanted(self, sha256: str, ext: str) -> bool:
        return True

    def add(self, sha256: str, ext: str, kind: str, data: bytes) -> None:
        raise NotImplementedError


class _ServerMedia(_Media):
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def add(self, sha256: str, ext: str, kind: str, data: bytes) -> None:
        copying.keep_blob(self.conn, sha256, data)


class _StagedFiles(_Media):
    """Blob files written into a staging folder (previews made as at upload), for
    :func:`_move_into` to move beside the new database once it is complete."""

    def __init__(self, staging: Path, final: Path) -> None:
        self.staging, self.final = staging, final

    def wanted(self, sha256: str, ext: str) -> bool:
        return not blob_file(self.final, sha256, ext).exists()  # content-addressed: already there

    def add(self, sha256: str, ext: str, kind: str, data: bytes) -> None:
        path = blob_file(self.staging, sha256, ext)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if kind == "image":
            with contextlib.suppress(OSError, ValueError, SyntaxError):
                make_preview(path)  # as intake does; the app falls back to the original


def _copy_to_server(source: Source, url: str, say: Progress) -> CopyResult:
    started = time.perf_counter()
    shown = display_url(url)
    try:
        conn = open_connection(url)
    except DatabaseNotFound:
        raise DatabaseNotFound(f"no database at {shown}: create an empty one first (createdb), "
                               "then copy into it") from None
    try:
        with read_snapshot(source.conn) as src, transaction(conn):  # writers' lock, then a look
            tables = copying.table_count(conn)
            if tables:
                raise DatabaseError(f"copy destination {shown} is not empty ({tables} tables): copy-db "
                                    "writes only into an empty database; create a new one (createdb) "
                                    "and copy into it (nothing was changed)")
            install_schema(conn)
            rows, copied, missing = _fill(source, src, conn, shown, _ServerMedia(conn), say)
    except sqlite3.Error as exc:
        raise DatabaseError(f"copy of {source.location} to {shown} failed ({exc}): nothing was written") from None
    finally:
        conn.close()
    return CopyResult(shown, rows, copied, time.perf_counter() - started, tuple(missing))


def copy_to_file(source: Source, target: Path, *, media: bool = True,
                 progress: Progress | None = None) -> CopyResult:
    """Copy the open ``source`` into the SQLite file ``target`` (replacing one that exists:
    the caller checks), in one snapshot of ``source``; its media go to ``media/`` beside it.

    :param media: also copy the media files (a file already in that folder is kept).
    :raises DatabaseError: the copy failed (``target`` is then as it was, and every file and
        folder the copy made is gone).
    """
    say = progress or (lambda _line: None)
    started = time.perf_counter()
    folder = target.parent
    made = [d for d in reversed((folder, *folder.parents)) if not d.exists()]  # in creation order
    folder.mkdir(parents=True, exist_ok=True)
    try:
        _sweep_leftovers(target)
        with _partial(target) as partial:
            staging = Path(f"{partial}.media")
            try:
                rows, copied, missing = _write_file(source, partial, str(target), staging if media else None, say)
                moved = _move_into(staging, folder / "media")
                try:
                    os.replace(partial, target)
                except BaseException:
                    _remove(moved)
                    raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)
                for name in (Path(f"{partial}-wal"), Path(f"{partial}-journal"), Path(f"{partial}-shm")):
                    name.unlink(missing_ok=True)
    except BaseException as exc:
        _remove(made)
        if isinstance(exc, sqlite3.Error):
            raise DatabaseError(f"copy of {source.location} to {target} failed ({exc}): "
                                "nothing was written") from None
        raise
    with contextlib.suppress(OSError):
        _fsync(folder)  # the rename itself
    return CopyResult(str(target), rows, copied, time.perf_counter() - started, tuple(missing))


def _write_file(source: Source, partial: Path, name: str, staging: Path | None,
                say: Progress) -> tuple[dict[str, int], int, list[Path]]:
    """Fill the new SQLite file ``partial`` (to be ``name``; its media into ``staging``),
    checked and synced."""
    dest = connect(partial, create=True)
    try:
        dest.execute("PRAGMA synchronous = OFF")  # synced once below, before the rename
        dest.execute("PRAGMA cache_size = -262144")  # up to 256 MB: indexes fill in random order
        put = None if staging is None else _StagedFiles(staging, partial.parent / "media")
        with read_snapshot(source.conn) as src, transaction(dest):
            filled = _fill(source, src, dest, name, put, say)
        problems = check_integrity(dest)
        if problems:
            raise DatabaseError(f"the copy failed its checks: {'; '.join(problems[:5])}")
        dest.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    finally:
        dest.close()
    _fsync(partial)
    return filled


def _remove(paths: list[Path]) -> None:
    """Delete these files and (empty) folders, last first."""
    for path in reversed(paths):
        with contextlib.suppress(OSError):
            path.rmdir() if path.is_dir() else path.unlink()


_PARTIAL = ".copying-"  # a copy's temporary files: .<name>.copying-XXXX (+ .media), flock'ed


@contextlib.contextmanager
def _partial(target: Path) -> Iterator[Path]:
    """A temporary file beside ``target``, locked (``flock``) while the copy runs, so that a
    later copy can tell one left by a killed process (:func:`_sweep_leftovers`); removed at the
    end unless renamed."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}{_PARTIAL}")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        umask = os.umask(0o022)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # as a new database file gets, not mkstemp's 0600
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)
        os.close(fd)


def _sweep_leftovers(target: Path) -> None:
    """Remove the temporary files of copies to ``target`` whose process died."""
    for leftover in target.parent.glob(f".{target.name}{_PARTIAL}*"):
        if leftover.name.endswith((".media", "-wal", "-journal", "-shm")):
            continue
        try:
            fd = os.open(leftover, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a copy is running
        finally:
            os.close(fd)
        shutil.rmtree(f"{leftover}.media", ignore_errors=True)
        for suffix in ("-wal", "-journal", "-shm", ""):
            Path(f"{leftover}{suffix}").unlink(missing_ok=True)


def _move_into(staging: Path, media_dir: Path) -> list[Path]:
    """Move the staged files into ``media_dir``; return what was created there (folders
    included, in creation order), for undoing."""
    created: list[Path] = []
    if not staging.is_dir():
        return created
    try:
        for path in sorted(staging.rglob("*")):
            if not path.is_file():
                continue
            final = media_dir / path.relative_to(staging)
            for directory in (media_dir, final.parent):
                if not directory.exists():
                    directory.mkdir()
                    created.append(directory)
            if not final.exists():
                os.replace(path, final)
                created.append(final)
    except BaseException:
        _remove(created)
        raise
    return created


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
