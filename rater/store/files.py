"""The database file itself: is it there, is it still the same file, does it look like SQLite.

Checked before SQLite touches a file, so a file that is not a database (or not there) is
refused without a byte changed, and a missing one is never created by accident.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DatabaseError, DatabaseNotFound

__all__ = ["blob_file", "check_header", "file_identity", "is_read_only", "missing_database"]


def blob_file(media_dir: Path, sha256: str, ext: str) -> Path:
    """Where a stored medium lives: ``<media_dir>/<sha[:2]>/<sha256>.<ext>`` (content-addressed)."""
    return media_dir / sha256[:2] / f"{sha256}.{ext}"


def missing_database(path: Path | str) -> DatabaseNotFound:
    """The error for a database file that does not exist (and was not to be created)."""
    return DatabaseNotFound(
        f"no database at {path}: check the path (--db, $RATER_DB) or create one with "
        "`rater init` (`rater create` and `rater demo` create one too)"
    )


def file_identity(path: Path | str) -> tuple[int, int] | None:
    """``(device, inode)`` of the file at ``path`` (links followed), or None when there is none."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


def is_read_only(path: Path) -> bool:
    """No write permission bit, or no write access: ``os.access`` alone says yes to root, who
    would then silently write to a file its owner marked read-only."""
    return not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222


def check_header(path: Path) -> None:
    size = path.stat().st_size
    if size == 0:
        return  # an empty file is a valid, empty SQLite database
    with open(path, "rb") as fh:
        header = fh.read(100)
    if not header.startswith(b"SQLite format 3\x00"):
        raise DatabaseError(f"{path} is not an SQLite database (refusing to touch it)")
    if len(header) < 100:
        raise DatabaseError(f"{path} is truncated ({size} bytes): not a usable SQLite database")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if page_size and pages and size < page_size * pages and not Path(f"{path}-wal").exists():
        raise DatabaseError(
            f"{path} is truncated: {size} bytes where its header promises {page_size * pages}"
        )
