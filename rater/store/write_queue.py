"""A queue for writers: an ``flock`` on a lock file beside the database, taken around every write
transaction that goes through :meth:`rater.store.store.Store.write`.

SQLite makes a writer that finds the database locked sleep and retry (1, 2, 5, ... 100 ms
apart), so under many concurrent writers a waiter sleeps through the moments the lock is free
and an unlucky one starves: measured with 8 writer processes on 2 cores
(``benchmarks/vote_load.py``), most votes were fast but the slowest took 2 to 3 seconds. Waiting
on ``flock`` instead, the kernel wakes the next writer the moment the holder lets go: every vote
waits its turn, the slowest about 30 to 100 ms on the same (busy) machine, at about 1,700 votes
per second.

The queue is a courtesy among this package's writers, not what keeps the data safe: SQLite's own
locking still guards every transaction, so other programs writing the file stay correct. Where
the lock file cannot be made (a read-only folder, no ``fcntl``), writes simply go without it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["WriteQueue", "lock_path"]


def lock_path(db_path: Path) -> Path:
    """The lock file of a database: ``<db>-lock`` beside it (like ``-wal`` and ``-shm``)."""
    return Path(f"{db_path}-lock")


class WriteQueue:
    """One thread's place in the queue (``flock`` locks belong to an open file, so each thread
    opens its own and threads of one process queue like processes do)."""

    def __init__(self, db_path: Path) -> None:
        self._path = lock_path(db_path)
        self._fd: int | None = None
        if fcntl is not None:
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError:
                self._fd = None

    def acquire(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for our turn; False when it did not come. Without a
        lock file this returns True at once: SQLite's own busy timeout then does the waiting."""
        fd = self._fd
        if fd is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        # A blocking flock cannot time out, so a helper thread blocks in it while we wait on an
        # event that can; if we give up, the helper releases the lock as soon as it gets it.
        got, lock = threading.Event(), threading.Lock()
        abandoned = [False]

        def wait() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with lock:
                if abandoned[0]:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)  # the helper owned this file once it was abandoned
                    return
                got.set()

        threading.Thread(target=wait, name="rater-write-queue", daemon=True).start()
        if got.wait(timeout):
            return True
        with lock:
            if got.is_set():
                return True
            abandoned[0] = True
        # The abandoned helper keeps the old file; later writes queue on a fresh one.
        try:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:
            self._fd = None
        return False

    def release(self) -> None:
        """Let the next writer go."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the lock file (releasing our place, if held)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
