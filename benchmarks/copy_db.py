"""How long ``rater copy-db`` takes, for the demo database and for a board of ``--votes`` votes.

For each database, every direction of the copy (SQLite to SQLite, SQLite to PostgreSQL,
PostgreSQL to PostgreSQL, PostgreSQL to SQLite, which is also what ``rater backup`` of a server
database does), against the baseline measured in the same run: ``rater backup`` of the SQLite
file (SQLite's page-by-page backup API, which copies no row one by one). The big board's rows
are synthetic (benchmarks/matchmaking_speed.py's ``build``: matchups, votes, media rows whose
files were never written, so its copies count them as missing media and copy the rows).
The server is a throwaway cluster started here (``fsync`` on), unless ``--db`` names an empty
server database to use for the first copy into PostgreSQL.

    python benchmarks/copy_db.py [--votes 100000]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from postgres_server import PostgresServer  # noqa: E402  (tests/ is not a package)

from rater import Client  # noqa: E402
from rater.api.demo import load_demo  # noqa: E402
from rater.exchange.copy_db import copy_database  # noqa: E402


def _big(path: Path, votes: int) -> None:
    spec = importlib.util.spec_from_file_location("matchmaking_speed", ROOT / "benchmarks" / "matchmaking_speed.py")
    speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed)  # type: ignore[union-attr]
    with Client(path, create=True) as client:
        client.store.set_synchronous("OFF")
        speed.build(client, models=20, prompts=50, media_per=1, n_votes=votes, raters=200)


def _demo(path: Path) -> None:
    with Client(path, create=True) as client:
        for _ in load_demo(client):
            pass


def _timed(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=100_000)
    parser.add_argument("--db", help="an empty PostgreSQL database for the first copy into the server")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, PostgresServer(durable=True) as server:
        root = Path(tmp)
        for label, make in (("demo", _demo), (f"{args.votes:,} votes", lambda p: _big(p, args.votes))):
            folder = root / label.split()[0]
            source = folder / "src" / "lb.db"
            make(source)
            with Client(source) as client:
                baseline = _timed(lambda: client.backup(folder / "backup" / "lb.db"))
            first = args.db if args.db and label != "demo" else server.create_database(f"copy_{label.split()[0]}")
            second = server.create_database(f"copy_{label.split()[0]}_2")
            steps = (
                ("SQLite -> SQLite", lambda: copy_database(source, folder / "copy" / "lb.db")),
                ("SQLite -> PostgreSQL", lambda: copy_database(source, first)),
                ("PostgreSQL -> PostgreSQL", lambda: copy_database(first, second)),
                ("PostgreSQL -> SQLite", lambda: copy_database(first, folder / "back" / "lb.db")),
            )
            rows.append((label, "rater backup (SQLite backup API)", baseline, 1.0))
            for name, step in steps:
                seconds = _timed(step)
                rows.append((label, f"copy-db {name}", seconds, seconds / baseline))
    print(f"{'database':<16} {'copy':<36} {'seconds':>8} {'x backup':>9}")
    for label, name, seconds, ratio in rows:
        print(f"{label:<16} {name:<36} {seconds:>8.2f} {ratio:>9.1f}")


if __name__ == "__main__":
    main()
