"""The content-addressed media store beside the database, and writing rows that use it.

Stored files live at ``<media_dir>/<sha[:2]>/<sha256>.<ext>``: the same bytes are stored once,
and the originals may be deleted after upload. Large images also get a preview beside them
(:mod:`rater.intake.media.previews`).

Files are copied in chunks (memory does not grow with their size) and before the database's
write transaction opens, so a vote never waits for a large upload's copying:
:func:`write_with_blobs` copies, then runs the caller's row inserts in one short transaction.
A crash between the two leaves unreferenced files (``rater gc`` removes them), never a row
without its file. On PostgreSQL the bytes are also sent to the database (``blob_data``) before
that transaction, without its lock (:func:`rater.store.blobs.keep_ahead`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from rater.errors import LeaderboardError, MediaError
from rater.store import Store, blobs
from rater.store.files import blob_file
from .previews import make_preview
from .files import MediaFile

__all__ = ["local_file", "remove_created", "store_blob", "write_with_blobs"]

_CHUNK = 1 << 20




def local_file(store: Store, path: Path) -> Path:
    """The stored medium ``path`` (as :meth:`Store.media_file` named it) on this host, again.

    On PostgreSQL a host's media folder is a cache that may have been emptied since the path
    was handed out: the file is then copied out of the database again. On SQLite, and whenever
    the file is there, this is ``path`` itself.
    """
    if path.is_file():
        return path
    sha256, _, ext = path.name.partition(".")
    return store.media_file(sha256, ext)


def _copy_checked(source: Path, fd: int, sha256: str) -> None:
    """Copy ``source`` into the open file ``fd`` in chunks, and fsync it; refuse the copy if its
    bytes are not the ones that were checked (the file changed since)."""
    digest = hashlib.sha256()
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
        while n := src.readinto(buffer):
            digest.update(view[:n])
            dst.write(view[:n])
        dst.flush()
        os.fsync(dst.fileno())
    if digest.hexdigest() != sha256:
        raise MediaError(f"media file changed while it was being added: {source}; add it again once it is complete")


def store_blob(media_dir: Path, media: MediaFile) -> list[Path]:
    """Copy ``media`` into the store atomically; return what was created (folders, file, preview).

    Nothing is returned when the blob was already stored. A large image's preview is made
    here, once; if that fails the rater app falls back to the original.
    """
    target = blob_file(media_dir, media.sha256, media.ext)
    if target.exists():
        return []
    created = [d for d in (media_dir, target.parent) if not d.exists()]
    tmp = None
    try:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            _copy_checked(media.source, fd, media.sha256)
            os.replace(tmp, target)
        except OSError as exc:
            raise MediaError(
                f"cannot copy media file {media.source} into {media_dir}: {exc.strerror or exc}"
            ) from None
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        remove_created(created)
        raise
    created.append(target)
    if media.kind == "image":
        with contextlib.suppress(OSError, ValueError, SyntaxError):
            if preview := make_preview(target):
                created.append(preview)
    return created


def remove_created(paths: Sequence[Path]) -> None:
    """Undo :func:`store_blob`: delete the files and folders it reported, newest first."""
    for path in reversed(paths):
        with contextlib.suppress(OSError):
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink()


def _discard(store: Store, created: list[Path], rows: Sequence[str] = ()) -> None:
    """Remove what a failed upload created (files, and on PostgreSQL the blob ``rows`` it
    stored ahead), except what a committed row now uses.

    Another upload of the same bytes may have found our copy and committed rows using it;
    checking inside a write transaction orders this against that upload's own check (in
    :func:`write_with_blobs`). If the database cannot be written, the leftovers stay for
    ``rater gc``.
    """
    if not created and not rows:
        return
    with contextlib.suppress(LeaderboardError, sqlite3.Error):
        with store.write() as conn:
            used = blobs.used_blobs(conn)
            blobs.delete_blobs(conn, [sha for sha in rows if sha not in used])
            remove_created([p for p in created if p.name.partition(".")[0] not in used])


@contextlib.contextmanager
def write_with_blobs(store: Store, files: Sequence[MediaFile]) -> Iterator[tuple[sqlite3.Connection, int]]:
    """Copy ``files`` into the media store, then open a write transaction for their rows.

    Yields ``(conn, new_files)``: the transaction's connection and how many blobs were not in
    the store before. Before the commit, any blob removed meanwhile (``rater gc``, or another
    upload's clean-up) is stored again, so no committed row lacks its file. If anything fails,
    no row is written and the files this call created are removed.
    """
    created: list[Path] = []
    ahead: list[str] = []
    try:
        for media in files:
            created.extend(store_blob(store.media_dir, media))
        new_files = sum(p.is_file() and ".preview-" not in p.name for p in created)
        with contextlib.suppress(sqlite3.Error):  # the bytes ahead of the write lock; else under it
            ahead = blobs.keep_ahead(store.conn, [(m.sha256, m.kind, m.mime, m.ext, m.size,
                                                   blob_file(store.media_dir, m.sha256, m.ext)) for m in files])
        with store.write() as conn:
            yield conn, new_files
            for media in files:
                created.extend(store_blob(store.media_dir, media))
                blobs.keep_bytes(conn, media.sha256, blob_file(store.media_dir, media.sha256, media.ext))
    except BaseException:
        _discard(store, created, ahead)
        raise
