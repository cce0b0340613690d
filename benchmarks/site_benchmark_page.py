"""Benchmark of ``build-site`` on a benchmark of several leaderboards (criteria): what its page
and the one-unit rebuild cost.

    python benchmarks/site_benchmark_page.py [--models 20] [--prompts 100] [--votes 100000]
                                             [--criteria 2] [--keep DIR]

A benchmark of ``--criteria`` leaderboards over one prompt set, every participant rated on
each, ``--votes`` Bradley-Terry votes per criterion (its own strengths per criterion). The
baseline, measured in the same run, is the irreducible ranking work of a build: per criterion
``load_votes`` + ``compute_standings``, plus ``Benchmark.get_overall_standings``, with the
build's settings. The database is cached in DIR, so reruns skip the setup.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

import ranking
from rater import Client
from rater.results.standings import load_votes
from rater.store import catalog, votes as vote_store
from site_builder import Settings, build_site


def _png(rng: np.random.Generator, folder: Path, name: str) -> Path:
    pixels = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    path = folder / f"{name}.png"
    buf = io.BytesIO()
    Image.fromarray(pixels).resize((32, 32), Image.NEAREST).save(buf, "PNG")
    path.write_bytes(buf.getvalue())
    return path


def _votes(client: Client, board_id: str, n_votes: int, rng: np.random.Generator, tag: str) -> None:
    """``n_votes`` Bradley-Terry votes on the board, stored in bulk (strengths per criterion)."""
    rows = catalog.list_media(client.store.conn, board_id)
    models = sorted({r["model_id"] for r in rows})
    prompts = sorted({r["prompt_id"] for r in rows})
    media = {(r["model_id"], r["prompt_id"]): r["id"] for r in rows}
    strength = rng.permutation(np.linspace(1.5, -1.5, len(models)))
    a = rng.integers(0, len(models), n_votes)
    b = (a + rng.integers(1, len(models), n_votes)) % len(models)
    p = rng.integers(0, len(prompts), n_votes)
    win = rng.random(n_votes) < 1 / (1 + np.exp(strength[b] - strength[a]))
    choice = np.where(rng.random(n_votes) < 0.08, "tie", np.where(win, "left", "right"))
    raters = rng.integers(0, 300, n_votes)
    start = time.time() - 30 * 86400
    served = start + np.sort(rng.random(n_votes)) * 30 * 86400
    for lo in range(0, n_votes, 200_000):
        span = range(lo, min(lo + 200_000, n_votes))
        matchups = [(f"{tag}{i}", board_id, prompts[p[i]], media[models[a[i]], prompts[p[i]]], models[a[i]],
                     media[models[b[i]], prompts[p[i]]], models[b[i]], f"rater-{raters[i]}", float(served[i]))
                    for i in span]
        votes = [(f"{tag}{i}", f"rater-{raters[i]}", str(choice[i]), float(served[i]) + 4.0) for i in span]
        with client.store.write() as conn:
            vote_store.insert_voted_matchups(conn, matchups, votes)


def make_database(path: Path, n_models: int, n_prompts: int, n_votes: int, n_criteria: int) -> None:
    rng = np.random.default_rng(11)
    client = Client(path, create=True)
    identifiers = [f"p{p}" for p in range(n_prompts)]
    bench = client.mri.create_new_benchmark("Benchmark of criteria", identifiers=identifiers,
                                            prompts=[f"synthetic prompt {p}" for p in range(n_prompts)])
    boards = [bench.create_leaderboard(f"Criterion {k + 1}", f"Which is better on criterion {k + 1}?")
              for k in range(n_criteria)]
    with tempfile.TemporaryDirectory() as tmp:
        for m in range(n_models):
            files = [_png(rng, Path(tmp), f"m{m}-{p}") for p in range(n_prompts)]
            bench.evaluate_model(f"model-{m:02d}", files, identifiers=identifiers)
    for k, board in enumerate(boards):
        _votes(client, board.id, n_votes, rng, f"c{k}-")
    client.close()


def add_one_vote(path: Path, board_id: str) -> None:
    client = Client(path)
    _votes(client, board_id, 1, np.random.default_rng(int(time.time())), f"extra-{time.time()}-")
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--prompts", type=int, default=100)
    parser.add_argument("--votes", type=int, default=100_000)
    parser.add_argument("--criteria", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()) / "rater-site-bench")
    args = parser.parse_args()
    work = args.keep / f"bench-m{args.models}-p{args.prompts}-v{args.votes}-c{args.criteria}"
    db = work / "bench.db"
    if not db.exists():
        print(f"creating {db} (once) ...", file=sys.stderr)
        work.mkdir(parents=True, exist_ok=True)
        make_database(db, args.models, args.prompts, args.votes, args.criteria)
    settings = Settings()
    client = Client(db)
    bench = client.mri.list_benchmarks()[0]
    boards = bench.leaderboards
    t = time.perf_counter()
    for board in boards:
        ranking.compute_standings(load_votes(client.store, board.id), **settings.standings_options())
    t_boards = time.perf_counter() - t
    t = time.perf_counter()
    bench.get_overall_standings(**settings.standings_options())
    t_overall = time.perf_counter() - t
    client.close()
    baseline = t_boards + t_overall

    site = work / "site"
    shutil.rmtree(site, ignore_errors=True)
    t = time.perf_counter()
    build_site(db, site, settings=settings, progress=None)
    cold = time.perf_counter() - t
    t = time.perf_counter()
    assert build_site(db, site, settings=settings, progress=None).skipped
    warm = time.perf_counter() - t
    add_one_vote(db, boards[0].id)
    t = time.perf_counter()
    result = build_site(db, site, settings=settings, progress=None)
    one_vote = time.perf_counter() - t
    page = next((site / "benchmarks").iterdir()) / "index.html"

    rows = [
        (f"baseline: {len(boards)} x (load_votes + compute_standings) + overall", baseline),
        ("  of which get_overall_standings", t_overall),
        ("cold build (empty --out)", cold),
        ("rebuild, nothing changed", warm),
        (f"rebuild after one vote on criterion 1 ({len(result.rebuilt)} boards)", one_vote),
    ]
    print(f"\n{len(boards)} criteria, {args.models} models x {args.prompts} prompts, "
          f"{args.votes:,} votes per criterion\n")
    print(f"{'step':62} {'seconds':>8} {'x baseline':>11}")
    for name, seconds in rows:
        print(f"{name:62} {seconds:8.2f} {seconds / baseline:11.2f}")
    print(f"\nbenchmark page (HTML + CSS + JS, no media): "
          f"{(page.stat().st_size + sum(f.stat().st_size for f in (site / 'static').iterdir())) / 1024:.0f} KB")


if __name__ == "__main__":
    main()
