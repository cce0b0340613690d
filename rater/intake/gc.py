"""Cleaning up what interrupted work left in the media folder (``rater gc``).

An upload (``evaluate_model``, a prompt asset, a backup's media copy) writes each file under a
temporary name, ``.incoming-*``, and renames it into place; a process killed mid-write leaves
that temporary file behind. A process killed after a blob was renamed into place but before its
database transaction committed leaves a blob file that no row knows. Neither is ever read again.

What is removed, and what never is:

- ``.incoming-*`` files older than :data:`GRACE_SECONDS` (younger ones may be an upload that is
  being written right now);
- blob rows no row refers to (see :mod:`rater.store.blobs`), with their files;
- files named like blobs (``<media>/<ab>/<ab...64 hex>.<ext>``) that have no blob row, older
  than the grace period, and the previews made beside blobs (``<sha256>.preview-N.<ext>``)
  whose blob is unused or has no row.

A blob that any row uses is never touched, nor a file whose name is not ours. The decision is
made again while holding the database's write lock, so an upload that commits meanwhile keeps
its files.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rater.store import blobs

if TYPE_CHECKING:
    from rater.store import Store

__all__ = ["GRACE_SECONDS", "GcResult", "Leftover", "collect_garbage", "remove_stale_temp_files"]

#: Temporary and row-less files younger than this (by modification time) are left alone.
GRACE_SECONDS = 3600.0

TEMP_PREFIX = ".incoming-"
# A blob, ``<sha256>.<ext>``, or the preview made beside it, ``<sha256>.preview-1460.<ext>``.
_BLOB_NAME = re.compile(r"^([0-9a-f]{64})\.(preview-[0-9]+\.)?([a-z0-9]{1,8})$")


@dataclass(frozen=True)
class Leftover:
    """One file that nothing uses."""

    path: Path
    size: int
    age: float  # seconds since it was last modified
    reason: str  # "unfinished upload", "no database row", "unused blob"


@dataclass(frozen=True)
class GcResult:
    """What :func:`collect_garbage` found (and removed, when ``deleted``)."""

    leftovers: tuple[Leftover, ...]
    unused_rows: int  # blob rows no row refers to (their files are among ``leftovers``)
    deleted: bool

    @property
    def bytes(self) -> int:
        """The leftovers' total size."""
        return sum(item.size for item in self.leftovers)


def _files(media_dir: Path) -> list[tuple[Path, os.stat_result]]:
    """Regular files in the media folder and its sub-folders (one level, as the store lays
    them out), with their stat."""
    found: list[tuple[Path, os.stat_result]] = []
    folders = [media_dir]
    try:
        with os.scandir(media_dir) as entries:
            folders += [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return found
    for folder in folders:
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_file(follow_symlinks=False):
                        found.append((Path(entry.path), entry.stat(follow_symlinks=False)))
        except FileNotFoundError:  # removed meanwhile (by another upload's undo, say)
            continue
    return found


def _judge(
    media_dir: Path, path: Path, st: os.stat_result, rows: dict[str, str], used: set[str],
    grace: float, now: float,
) -> Leftover | None:
    """The file as a leftover, or None when it is (or may be) in use, or not ours."""
    age = now - st.st_mtime
    if path.name.startswith(TEMP_PREFIX):
        return Leftover(path, st.st_size, age, "unfinished upload") if age > grace else None
    match = _BLOB_NAME.match(path.name)
    if match is None or path.parent.name != match[1][:2] or path.parent.parent != media_dir:
        return None  # not a name we give: not ours to judge
    sha, preview, ext = match[1], match[2], match[3]
    if sha not in rows or not preview and rows[sha] != ext:
        return Leftover(path, st.st_size, age, "no database row") if age > grace else None
    return None if sha in used else Leftover(path, st.st_size, age, "unused blob")


def _recheck(media_dir: Path, found: list[Leftover], rows: dict[str, str], used: set[str],
             grace: float, now: float) -> list[Leftover]:
    out = []
    for item in found:
        try:
            st = item.path.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        judged = _judge(media_dir, item.path, st, rows, used, grace, now)
        if judged is not None:
            out.append(judged)
    return out


def collect_garbage(
    store: Store, *, delete: bool = False, grace: float = GRACE_SECONDS, now: float | None = None
) -> GcResult:
    """Find (and with ``delete``, remove) leftovers in the store's media folder.

    The media folder is scanned without holding any lock; with ``delete``, what was found is
    judged again inside one write transaction (so no upload is between writing a blob and
    committing its row) and only what is still unused is removed, with the unused blob rows.

    :param delete: remove what was found; by default only report it.
    :param grace: temporary and row-less files younger than this many seconds are kept.
    :param now: the current time (default: the clock).
    :raises DatabaseNotFound: there is no database (a media folder alone is not judged).
    """
    store.require()
    now = time.time() if now is None else now
    media_dir = store.media_dir
    rows, used = blobs.all_blobs(store.conn), blobs.used_blobs(store.conn)
    found = [item for path, st in _files(media_dir)
             if (item := _judge(media_dir, path, st, rows, used, grace, now)) is not None]
    if not delete:
        return GcResult(tuple(found), len(rows.keys() - used), False)
    with store.write() as conn:
        rows, used = blobs.all_blobs(conn), blobs.used_blobs(conn)
        unused = sorted(rows.keys() - used)
        gone = _recheck(media_dir, found, rows, used, grace, now)
        blobs.delete_blobs(conn, unused)
        for item in gone:
            item.path.unlink(missing_ok=True)
    return GcResult(tuple(gone), len(unused), True)


def remove_stale_temp_files(media_dir: Path, grace: float = GRACE_SECONDS) -> int:
    """Delete ``.incoming-*`` files older than ``grace`` seconds; return how many.

    Called at the start of every upload, so a killed upload's temporary files do not pile up.
    """
    now = time.time()
    removed = 0
    for path, st in _files(media_dir):
        if path.name.startswith(TEMP_PREFIX) and now - st.st_mtime > grace:
            try:
                path.unlink()
                removed += 1
            except OSError:
                pass
    return removed
