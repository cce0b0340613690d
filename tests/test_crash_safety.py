"""A writer killed with SIGKILL at random moments never costs an acknowledged vote.

Each of the 50 runs forks a child that serves pairs and records votes as fast as it can through
the public API. Only AFTER ``record_vote`` has returned does the child write the matchup id to a
pipe (one unbuffered ``os.write`` per line, atomic for lines this short), so every id the parent
reads was acknowledged. The parent kills the child with SIGKILL after a random delay, 50 times,
then checks that the database is sound (``integrity.check_integrity``: ``PRAGMA integrity_check``
and ``foreign_key_check`` on SQLite, invalid indexes and dangling foreign keys on PostgreSQL) and
that every acknowledged vote is stored. The seed is printed so a failing run can be replayed.
It runs on both backends: on PostgreSQL the killed writer is a client of a real server, which
must roll back whatever the child had in flight and free its write lock.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time
from pathlib import Path

import pytest
from conftest import make_png

import rater.matchmaking.service  # noqa: F401  (imported before forking, so children start warm)
from rater import Client
from rater.store import integrity

RUNS = 50
PROMPTS = [f"prompt {i}" for i in range(6)]
MODELS = 8  # C(8, 2) * 6 = 168 distinct pairs per rater, more than a run can vote on
#: The longest a child votes before it is killed: a vote costs several server round trips on
#: PostgreSQL, so its children get longer to vote as often.
LONGEST_DELAY = {"sqlite": 0.25, "postgresql": 0.75}

pytestmark = [pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork and SIGKILL"),
              pytest.mark.both_backends]


def _board(db: str, tmp_path: Path) -> tuple[str, str]:
    with Client(db, create=True) as client:
        lb = client.mri.create_new_leaderboard("Crash", "Which?", PROMPTS, False, strategy="uniform")
        for m in range(MODELS):
            files = [make_png(tmp_path / "src" / f"{m}-{p}.png", 100 * m + p) for p in range(len(PROMPTS))]
            lb.evaluate_model(f"model-{m}", files, PROMPTS)
        return db, lb.id


def _child(db: str, board_id: str, rater: str, out: int) -> None:
    client = Client(db)
    lb = client.mri.get_leaderboard_by_id(board_id)
    os.write(out, b"ready\n")
    choices = ("left", "right", "tie")
    i = 0
    while True:
        matchup = lb.next_matchup(rater, continue_when_settled=True)
        if matchup is None:
            break
        lb.record_vote(matchup.id, choices[i % 3], rater)
        os.write(out, f"{matchup.id}\n".encode())  # only now is the vote acknowledged
        i += 1
    os.write(out, b"exhausted\n")
    time.sleep(60)  # wait to be killed like the others


def _run_once(db: str, board_id: str, rater: str, delay: float) -> list[str]:
    """Fork a voting child, kill it ``delay`` seconds after it is ready, return its acks."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 0
        try:
            os.close(read_end)
            _child(db, board_id, rater, write_end)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    buffer = b""
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while b"ready\n" not in buffer:
            chunk = pipe.read(4096)
            if not chunk:
                break
            buffer += chunk
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        while chunk := pipe.read(65536):
            buffer += chunk
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, "child died on its own"
    lines = buffer.decode().split("\n")
    assert lines[-1] == "", "a torn line: writes of one short line must be atomic"
    return [line for line in lines[:-1] if line not in ("ready", "exhausted")]


def test_sigkill_never_loses_an_acknowledged_vote(db_location: str, backend: str, tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED", random.randrange(2**32)))
    print(f"CRASH_SEED={seed}", file=sys.stderr)
    rng = random.Random(seed)
    db, board_id = _board(db_location, tmp_path)
    acknowledged: list[str] = []
    started = time.monotonic()
    for run in range(RUNS):
        delay = rng.choice([0.0, 0.001, 0.01]) if run % 5 == 0 else rng.uniform(0.0, LONGEST_DELAY[backend])
        acknowledged += _run_once(db, board_id, f"rater-{run}", delay)
        if run % 10 == 9:  # the next child must cope with whatever the last one left behind
            with Client(db) as client:
                assert integrity.check_integrity(client.store.conn) == []
    elapsed = time.monotonic() - started
    with Client(db) as client:
        conn = client.store.conn
        assert integrity.check_integrity(conn) == []
        stored = integrity.voted_matchup_ids(conn)
        lost = [m for m in acknowledged if m not in stored]
        assert not lost, f"{len(lost)} acknowledged votes lost (seed {seed}): {lost[:5]}"
        lb = client.mri.get_leaderboard_by_id(board_id)
        assert lb.summary()["votes"] == len(stored)
    assert len(acknowledged) > RUNS, "the children hardly voted: the test proved nothing"
    print(f"{RUNS} SIGKILLs, {len(acknowledged)} acknowledged votes all present, "
          f"{len(stored) - len(acknowledged)} unacknowledged ones stored too, {elapsed:.1f} s",
          file=sys.stderr)
