"""SQLite's locks in a process that opens connections on many threads (a server: each route's
worker thread takes its own): opening one must not drop the locks the others hold, or another
process's closing connection deletes the write-ahead log under them and commits are lost."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from rater import Client

#: Another process that reads the database and closes its connection, as `rater standings` does.
READ_AND_CLOSE = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM votes').fetchone(); c.close()"


def test_a_new_threads_connection_keeps_the_process_locks(tmp_path: Path, png) -> None:
    client = Client(str(tmp_path / "leaderboards.db"), create=True)
    board = client.mri.create_new_leaderboard("B", "Which?", ["p"])
    for k in range(3):
        board.evaluate_model(f"m{k}", [png(k)], ["p"])
    conn = client.store.conn
    conn.execute("PRAGMA wal_autocheckpoint = 0")  # the commits stay in the write-ahead log
    pair = board.next_matchup("alice")
    board.record_vote(pair.id, "left", "alice")
    wal = Path(f"{client.db_path}-wal")
    assert wal.stat().st_size > 0
    opened = threading.Thread(target=lambda: client.store.conn.execute("SELECT 1"))  # a new connection
    opened.start()
    opened.join()
    subprocess.run([sys.executable, "-c", READ_AND_CLOSE, str(client.db_path)], check=True)
    assert wal.exists()  # it was not taken for the last connection: the log is still ours
    pair = board.next_matchup("alice")
    board.record_vote(pair.id, "right", "alice")
    seen = subprocess.run([sys.executable, "-c", READ_AND_CLOSE.replace("c.close()", "print(c.execute('SELECT count(*) FROM votes').fetchone()[0])"),
                           str(client.db_path)], check=True, capture_output=True, text=True)
    assert seen.stdout.strip() == "2"  # both acknowledged votes are in the database
    client.close()
