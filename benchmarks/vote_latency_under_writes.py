"""Vote latency while big writes run: does a rater's vote wait behind an import or an add-model?

A separate voter process calls ``record_vote`` through the public API at a steady pace (one vote
every ``--interval`` seconds, default 10 ms) on pairs served to it beforehand, and times each call.
It runs three times on the same database in one run:

* **baseline**: nothing else running;
* **import-votes**: while ``rater import-votes`` merges a file of ``--votes`` votes (320,000 by
  default), exported from a second host with the same board;
* **add-model**: while ``rater add-model`` adds ``--files`` media files (100 by default) of about
  ``--megabytes`` MB each (3 by default).

Usage::

    python benchmarks/vote_latency_under_writes.py            # full size
    python benchmarks/vote_latency_under_writes.py --quick    # 20,000 votes, 10 files of 1 MB

Prints one row per scenario: votes timed, ``record_vote`` p50 / p99 / max in ms, the p99 as a
ratio of the baseline's, and how long the big write took. Target (issue 17): p99 <= 50 ms while
either big write runs. ``tests/test_exchange_crash.py`` imports :func:`make_vote_file`.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import vote_load  # noqa: E402  (benchmarks/ is not a package)
from PIL import Image  # noqa: E402

from rater import Client  # noqa: E402

from rater.store import catalog, votes  # noqa: E402

TARGET_P99_MS = 50.0


def make_vote_file(root: Path, n_votes: int, models: int = 16, prompts: int = 12) -> tuple[Path, str, Path]:
    """Two hosts with the same board; host A gets ``n_votes`` voted matchups (bulk-stored, as
    raters would have left them) and exports them. Returns host B's database, its board id and
    the exported file."""
    a_db, b_db = root / "host-a" / "lb.db", root / "host-b" / "lb.db"
    a_id = vote_load.prepare_board(a_db, models, prompts)
    b_id = vote_load.prepare_board(b_db, models, prompts)  # same names, prompts and media bytes
    rng = random.Random(17)
    start = time.time() - 30 * 86_400
    with Client(a_db) as client:
        client.store.set_synchronous("OFF")  # a throwaway source database
        by_prompt: dict[int, list[dict]] = {}
        for media in catalog.list_media(client.store.conn, a_id):
            by_prompt.setdefault(media["prompt_id"], []).append(media)
        groups = list(by_prompt.values())
        for first in range(0, n_votes, 50_000):
            matchup_rows, vote_rows = [], []
            for i in range(first, min(n_votes, first + 50_000)):
                left, right = rng.sample(rng.choice(groups), 2)
                matchup_id, rater, at = uuid.uuid4().hex, f"rater-{i % 500:03d}", start + i * 0.5
                matchup_rows.append((matchup_id, a_id, left["prompt_id"], left["id"], left["model_id"],
                                     right["id"], right["model_id"], rater, at))
                vote_rows.append((matchup_id, rater, rng.choice(("left", "right", "tie")), at + 3.0))
            with client.store.write() as conn:
                votes.insert_voted_matchups(conn, matchup_rows, vote_rows)
        path = root / "votes.jsonl"
        client.mri.get_leaderboard_by_id(a_id).export_votes(path)
    return b_db, b_id, path


def _voter(db: str, board_id: str, served: list[str], interval: float, ready, stop, results) -> None:
    """Vote on ``served`` one every ``interval`` seconds until ``stop`` is set; put the latencies."""
    latencies: list[float] = []
    errors: list[str] = []
    with Client(db) as client:
        lb = client.mri.get_leaderboard_by_id(board_id)
        ready.set()
        tick = time.perf_counter()
        for i, matchup_id in enumerate(served):
            if stop.is_set():
                break
            started = time.perf_counter()
            try:
                lb.record_vote(matchup_id, ("left", "right", "tie")[i % 3], "voter")
                latencies.append(time.perf_counter() - started)
            except Exception as exc:  # counted and reported, never hidden
                errors.append(f"{type(exc).__name__}: {exc}")
            tick += interval
            time.sleep(max(0.0, tick - time.perf_counter()))
    results.put((latencies, errors))


@dataclass(frozen=True)
class Row:
    """One scenario's measurements."""

    name: str
    latencies: list[float]
    errors: list[str]
    work_seconds: float

    def ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def measure(name: str, db: Path, board_id: str, served: list[str], interval: float, work) -> Row:
    """Run the voter around ``work()`` (a callable that returns when the big write is done)."""
    ctx = mp.get_context("fork")
    ready, stop, results = ctx.Event(), ctx.Event(), ctx.Queue()
    voter = ctx.Process(target=_voter, args=(str(db), board_id, served, interval, ready, stop, results))
    voter.start()
    ready.wait(60)
    time.sleep(0.3)
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    stop.set()
    latencies, errors = results.get(timeout=120)
    voter.join(60)
    del served[: len(latencies) + len(errors)]
    return Row(name, latencies, errors, seconds)


def _cli(db: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "rater", "--db", str(db), *args],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"rater {' '.join(args)} failed: {done.stderr.strip()}")


def _big_media(folder: Path, files: int, megabytes: float, prompts: list[str]) -> Path:
    """``files`` noise BMPs of about ``megabytes`` MB each and a CSV manifest pairing them with
    the board's prompts in turn."""
    side = int((megabytes * 1e6 / 3) ** 0.5)
    lines = ["media,prompt"]
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(files):
        path = folder / f"big-{k:03d}.bmp"
        Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path, format="BMP")
        lines.append(f"{path.name},{prompts[k % len(prompts)]}")
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=320_000, help="votes in the imported file")
    parser.add_argument("--files", type=int, default=100, help="media files added by add-model")
    parser.add_argument("--megabytes", type=float, default=3.0, help="size of each media file")
    parser.add_argument("--interval", type=float, default=0.01, help="seconds between votes")
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="20,000 votes, 10 files of 1 MB")
    args = parser.parse_args(argv)
    if args.quick:
        args.votes, args.files, args.megabytes, args.baseline_seconds = 20_000, 10, 1.0, 3.0
    with tempfile.TemporaryDirectory(prefix="vote-latency-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        db, board_id, path = make_vote_file(root, args.votes)
        with Client(db) as client:
            prompts = client.mri.get_leaderboard_by_id(board_id).prompts
        manifest = _big_media(root / "big", args.files, args.megabytes, prompts)
        served = vote_load.serve_in_bulk(db, board_id, ["voter"], 60_000)["voter"]
        print(f"set-up {time.perf_counter() - started:.0f} s: {args.votes:,} votes in "
              f"{path.stat().st_size / 1e6:.0f} MB, {args.files} media of {args.megabytes:g} MB")
        rows = [
            measure("baseline (nothing else)", db, board_id, served, args.interval,
                    lambda: time.sleep(args.baseline_seconds)),
            measure(f"import-votes ({args.votes:,} votes)", db, board_id, served, args.interval,
                    lambda: _cli(db, "import-votes", str(path), "--into", board_id)),
            measure(f"add-model ({args.files} x {args.megabytes:g} MB)", db, board_id, served,
                    args.interval, lambda: _cli(db, "add-model", board_id, "--name", "big",
                                                "--manifest", str(manifest))),
        ]
    base = rows[0].ms(0.99)
    print(f"record_vote every {args.interval * 1000:g} ms from a separate process, on "
          f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at the end)")
    print(f"{'scenario':<30} {'votes':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>8} "
          f"{'p99 ratio':>9} {'write s':>8} {'errors':>6}")
    for row in rows:
        print(f"{row.name:<30} {len(row.latencies):>6} {row.ms(0.5):>7.1f} {row.ms(0.99):>7.1f} "
              f"{row.ms(1.0):>8.1f} {row.ms(0.99) / base:>8.1f}x {row.work_seconds:>8.1f} "
              f"{len(row.errors):>6}")
    worst = max(row.ms(0.99) for row in rows[1:])
    print(f"target: p99 <= {TARGET_P99_MS:g} ms during either write: "
          f"{'met' if worst <= TARGET_P99_MS else 'MISSED'} (worst {worst:.1f} ms)")
    for row in rows:
        for error in row.errors[:3]:
            print(f"error ({row.name}): {error}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
