"""Benchmark of ``build-site`` on a big board: 50 models x 200 prompts (10,000 small images)
and 1,000,000 votes.

    python benchmarks/site_build.py [--votes 1000000] [--models 50] [--prompts 200] [--keep DIR]

Targets (issue #6): cold build <= 60 s, rebuild with nothing changed <= 5 s, board page
<= 300 KB without media. The baseline, measured in the same run, is the irreducible ranking
work: ``load_votes`` + ``compute_standings`` with the same settings. The database is cached
in DIR (default: a folder in the system temp dir) so reruns skip the slow setup.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

import ranking
from rater import Client
from rater.store.files import blob_file
from rater.results.standings import load_votes
from rater.store import catalog, votes as vote_store
from site_builder import Settings, build_site
from site_builder import charts


def _png(rng: np.random.Generator) -> bytes:
    pixels = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    img = Image.fromarray(pixels).resize((64, 64), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def make_database(path: Path, n_models: int, n_prompts: int, n_votes: int) -> str:
    """A board with synthetic media and Bradley-Terry votes; returns its id."""
    import hashlib

    rng = np.random.default_rng(7)
    client = Client(path)
    tags = [[f"tag-{p % 8}", f"group-{p % 3}"] for p in range(n_prompts)]
    lb = client.mri.create_new_leaderboard(
        "Benchmark board", "Which image is better?",
        [f"synthetic prompt number {p}" for p in range(n_prompts)], show_prompt=True, tags=tags)
    store = client.store
    prompt_ids = [p["id"] for p in catalog.list_prompts(store.conn, lb.id)]
    media_id = np.zeros((n_models, n_prompts), dtype=np.int64)
    model_ids = []
    t = time.perf_counter()
    with store.write() as conn:
        for m in range(n_models):
            model_id = catalog.get_or_create_model(conn, lb.id, f"model-{m:02d}", time.time())
            model_ids.append(model_id)
            for p in range(n_prompts):
                data = _png(rng)
                sha = hashlib.sha256(data).hexdigest()
                target = blob_file(store.media_dir, sha, "png")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                catalog.insert_blob(conn, sha, "image", "image/png", "png", len(data))
                media_id[m, p] = catalog.insert_media(conn, lb.id, model_id, prompt_ids[p], sha,
                                                      f"{m}-{p}.png", time.time())
    print(f"  media: {n_models * n_prompts:,} images in {time.perf_counter() - t:.1f} s",
          file=sys.stderr)
    strength = np.linspace(1.5, -1.5, n_models)
    a = rng.integers(0, n_models, n_votes)
    b = (a + rng.integers(1, n_models, n_votes)) % n_models
    p = rng.integers(0, n_prompts, n_votes)
    win = rng.random(n_votes) < 1 / (1 + np.exp(strength[b] - strength[a]))
    tie = rng.random(n_votes) < 0.08
    choice = np.where(tie, "tie", np.where(win, "left", "right"))
    raters = rng.integers(0, 300, n_votes)
    start = time.time() - 30 * 86400
    served = start + np.sort(rng.random(n_votes)) * 30 * 86400
    t = time.perf_counter()
    chunk = 200_000
    for lo in range(0, n_votes, chunk):
        hi = min(lo + chunk, n_votes)
        matchups = [(f"bm{i}", lb.id, prompt_ids[p[i]], int(media_id[a[i], p[i]]), model_ids[a[i]],
                     int(media_id[b[i], p[i]]), model_ids[b[i]], f"rater-{raters[i]}",
                     float(served[i])) for i in range(lo, hi)]
        votes = [(f"bm{i}", f"rater-{raters[i]}", str(choice[i]), float(served[i]) + 4.0)
                 for i in range(lo, hi)]
        with store.write() as conn:
            vote_store.insert_voted_matchups(conn, matchups, votes)
    print(f"  votes: {n_votes:,} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    client.close()
    return lb.id


def add_one_vote(path: Path, board_id: str) -> None:
    """Store one more vote, as a rater would (so only the vote log changes)."""
    client = Client(path)
    rows = catalog.list_media(client.store.conn, board_id)
    left = rows[0]
    right = next(r for r in rows if r["prompt_id"] == left["prompt_id"]
                 and r["model_id"] != left["model_id"])
    now = time.time()
    with client.store.write() as conn:
        vote_store.insert_voted_matchups(
            conn, [(f"bm-extra-{now}", board_id, left["prompt_id"], left["id"], left["model_id"],
                    right["id"], right["model_id"], "rater-extra", now)],
            [(f"bm-extra-{now}", "rater-extra", "left", now + 1.0)])
    client.close()


def page_weight(site: Path, page: Path) -> int:
    """Bytes of a page plus the local CSS and JS it loads (charts are inline; no media)."""
    return page.stat().st_size + sum(f.stat().st_size for f in (site / "static").iterdir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()) / "rater-site-bench")
    args = parser.parse_args()
    work = args.keep / f"m{args.models}-p{args.prompts}-v{args.votes}"
    db = work / "bench.db"
    if not db.exists():
        print(f"creating {db} (once) ...", file=sys.stderr)
        work.mkdir(parents=True, exist_ok=True)
        make_database(db, args.models, args.prompts, args.votes)
    client = Client(db)
    board = client.mri.list_leaderboards()[0]
    settings = Settings()
    t = time.perf_counter()
    arrays = load_votes(client.store, board.id)
    t_load = time.perf_counter() - t
    t = time.perf_counter()
    ranking.compute_standings(arrays, **settings.standings_options())
    t_rank = time.perf_counter() - t
    client.close()
    baseline = t_load + t_rank

    site = work / "site"
    import shutil

    shutil.rmtree(site, ignore_errors=True)
    quiet = None
    t = time.perf_counter()
    build_site(db, site, settings=settings, progress=quiet)
    cold = time.perf_counter() - t
    chart_times = charts.render_seconds()
    t = time.perf_counter()
    result = build_site(db, site, settings=settings, progress=quiet)
    warm = time.perf_counter() - t
    assert result.skipped
    add_one_vote(db, board.id)
    t = time.perf_counter()
    build_site(db, site, settings=settings, progress=quiet)
    one_vote = time.perf_counter() - t

    folder = next((site / "boards").iterdir())
    board_page = page_weight(site, folder / "index.html")
    prompt_pages = [page_weight(site, p) for p in (folder / "prompts").iterdir()]
    model_pages = [page_weight(site, p) for p in (folder / "models").iterdir()]
    matrix = page_weight(site, folder / "matrix.html") if (folder / "matrix.html").exists() else 0

    rows = [
        ("baseline: load_votes + compute_standings", baseline, None),
        ("  of which load_votes", t_load, None),
        ("cold build (empty --out)", cold, 60.0),
        ("rebuild, nothing changed", warm, 5.0),
        ("rebuild after one new vote", one_vote, None),
    ]
    print(f"\n{args.models} models x {args.prompts} prompts ({args.models * args.prompts:,} images), "
          f"{len(arrays):,} votes\n")
    print(f"{'step':44} {'seconds':>8} {'x baseline':>11} {'target':>8}")
    for name, seconds, target in rows:
        tgt = f"<= {target:g}" if target else ""
        ok = "" if target is None else ("  ok" if seconds <= target else "  MISSED")
        print(f"{name:44} {seconds:8.2f} {seconds / baseline:11.2f} {tgt:>8}{ok}")
    print(f"\n{'page (HTML + CSS + JS, no media)':44} {'KB':>8} {'target':>8}")
    print(f"{'board page':44} {board_page / 1024:8.0f} {'<= 300':>8}"
          f"{'  ok' if board_page <= 300 * 1024 else '  MISSED'}")
    print(f"{'all-pairs matrix page':44} {matrix / 1024:8.0f}")
    print(f"{'prompt page (largest)':44} {max(prompt_pages) / 1024:8.0f}")
    print(f"{'model page (largest)':44} {max(model_pages) / 1024:8.0f}")
    if chart_times:
        print(f"\ncharts: {len(chart_times)} rendered, median {1000 * statistics.median(chart_times):.0f} ms, "
              f"max {1000 * max(chart_times):.0f} ms, total {sum(chart_times):.1f} s (cold build)")


if __name__ == "__main__":
    main()
