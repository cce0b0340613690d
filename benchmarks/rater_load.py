"""How many raters one ``rater serve`` holds: K simulated raters, each as a browser on the Rate page.

Builds a temporary board that never settles (random votes, no pair-vote cap), starts
``rater serve`` (``--workers N`` for several processes behind nginx), and for each K connects K
simulated raters (``benchmarks/ws_rater.py``: no browser per rater; each loads the page, keeps
the websocket open, fetches each medium once, the prepared pair's ahead, and answers with
``POST /_rater/answer``), each voting after a think time of about 4 s. It prints, per K:
votes/s, click-to-next-pair p50/p99 (the request sent to the reply parsed and the next pair's
images loaded), server CPU ms per vote (from /proc/<pid>/stat of the app processes), the
server's RSS, how many replies asked for the page to be drawn anew over the websocket, and the
generator's own CPU (near 100% of its core, it and not the server would be the limit).
``--baseline K`` also runs K raters on the Rate page drawn with Streamlit's buttons
(``benchmarks/rater_button_page.py``: each vote a script rerun, the same rating work) and prints
the ratios. Beside it: the browser figure for K = 1 (``benchmarks/rater_latency.py``) and
start-up times of ``rater --help`` / ``rater list`` against ``python -c pass``.

On a machine with two or more cores the server is pinned to core 0 and this generator to
core 1 (the output says so). Loopback only; every loop and wait is bounded.
Targets: 300 raters with p99 <= 1 s and <= 10 ms server CPU per vote, on one core.

    python benchmarks/rater_load.py [--raters 25,50,100,200,300] [--duration 40] [--workers 1]
    python benchmarks/rater_load.py --raters 300 --workers 1,2     # votes/s for 1 and 2 processes
    python benchmarks/rater_load.py --raters 100 --duration 1800    # the RSS soak
    python benchmarks/rater_load.py --raters 100 --baseline 100     # beside the Streamlit-button page
    python benchmarks/rater_load.py --raters 300 --profile /tmp/prof  # py-spy samples of the app
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ws_rater import ButtonRater, WsRater  # noqa: E402

from rater import Client  # noqa: E402
from rater.app.serve import ASGI_PATH  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


def make_board(folder: Path, models: int = 16, prompts: int = 60, size: int = 128) -> tuple[Path, str]:
    """A board of ``models`` x ``prompts`` distinct small PNGs that random votes never settle."""
    rng = random.Random(0)
    db = folder / "load.db"
    with Client(db) as client:
        texts = [f"Prompt {i}" for i in range(prompts)]
        lb = client.mri.create_new_leaderboard("Load benchmark", "Which image is better?", texts,
                                               repeat_share=0.0, max_pair_votes=10**9)
        (folder / "src").mkdir()
        for m in range(models):
            files = []
            for p in range(prompts):
                path = folder / "src" / f"m{m}-p{p}.png"
                img = Image.new("RGB", (size, size), (rng.randrange(256), 20 * m % 256, 4 * p % 256))
                img.putpixel((0, 0), (m, p, 7))
                img.save(path)
                files.append(path)
            lb.evaluate_model(f"model-{m}", files, texts)
        return db, lb.id


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(db: Path, port: int, workers: int, cores: set[int] | None,
                 baseline: bool = False) -> subprocess.Popen:
    """``rater serve`` on ``db`` (or, with ``baseline``, ``benchmarks/rater_button_page.py``, the
    Rate page drawn with Streamlit's buttons, on the same database), once it answers."""
    env = {k: v for k, v in os.environ.items() if k not in ("RATER_PASSCODE", "RATER_ADMIN_PASSCODE")}
    command = [sys.executable, "-m", "rater", "--db", str(db), "serve", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    if baseline:
        from rater.app.serve import streamlit_command

        command = streamlit_command(port)
        command[command.index(str(ASGI_PATH))] = str(ROOT / "benchmarks" / "rater_button_page.py")
        env["RATER_DB"] = str(db)
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if cores else None)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"rater serve exited with {proc.returncode}")
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not answer its health check within 120 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc/<pid>/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                todo += [int(c) for c in task.read_text().split()]
            except OSError:
                pass
    return found


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes (fields 14 and 15 of /proc/<pid>/stat)."""
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def rss_mb(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{p}/status").read_text())
        except OSError:
            continue
        total += int(match.group(1)) if match else 0
    return total / 1024


async def drive(url: str, board_id: str, raters: int, duration: float, think: float,
                pids: list[int], kind: type[WsRater] = WsRater) -> dict[str, float]:
    """K raters: connect over a ramp, then vote every ``think`` s (+-50%) until the end; figures
    are taken over the last ``duration`` seconds (after every rater has connected)."""
    ramp = min(0.05 * raters, 15.0)
    start = time.monotonic()
    measure_from, end = start + ramp + think, start + ramp + think + duration
    results: list[tuple[float, float]] = []
    errors: list[str] = []
    reruns: list[int] = []

    async def one(k: int) -> None:
        await asyncio.sleep(ramp * k / raters)
        rater = kind(url, board_id, f"load-{k}", seed=k, local_ip=f"127.0.{k // 250}.{1 + k % 250}")
        try:
            await rater.open()
            rng = random.Random(k)
            while True:
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))
                if time.monotonic() >= end:
                    return
                clicked = time.monotonic()
                ms, _ = await rater.vote()
                results.append((clicked, ms))
        except Exception as exc:  # noqa: BLE001  (reported, not hidden)
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            reruns.append(rater.reruns)
            await rater.close()

    tasks = [asyncio.create_task(one(k)) for k in range(raters)]
    await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
    cpu0, rss0, t0 = cpu_seconds(pids), rss_mb(pids), time.monotonic()
    gen0 = sum(os.times()[:2])  # this generator's own CPU: a saturated generator would cap the figures
    await asyncio.sleep(max(0.0, end - time.monotonic()))
    cpu1, rss1, t1 = cpu_seconds(pids), rss_mb(pids), time.monotonic()
    gen1 = sum(os.times()[:2])
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
    window = [ms for clicked, ms in results if t0 <= clicked < t1]
    if not window:
        raise SystemExit(f"no votes in the window ({len(errors)} errors: {errors[:3]})")
    cuts = statistics.quantiles(window, n=100)
    return {"raters": raters, "votes_s": len(window) / (t1 - t0), "p50": statistics.median(window),
            "p99": cuts[98], "cpu_ms": 1000 * (cpu1 - cpu0) / len(window), "rss": rss1,
            "rss_growth": rss1 - rss0, "errors": len(errors), "votes": len(results),
            "gen_cpu": 100 * (gen1 - gen0) / (t1 - t0),
            "reruns": sum(reruns), "first_errors": errors[:3]}


def stored_votes(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM votes").fetchone()[0]


def startup_times(db: Path, rounds: int = 5) -> list[tuple[str, float]]:
    rows = []
    for name, args in (("python -c pass (baseline)", ["-c", "pass"]),
                       ("rater --help", ["-m", "rater", "--help"]),
                       ("rater list", ["-m", "rater", "--db", str(db), "list"])):
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            subprocess.run([sys.executable, *args], capture_output=True, check=True, timeout=60)
            times.append(time.perf_counter() - t)
        rows.append((name, statistics.median(times)))
    return rows


def browser_k1(clicks: int) -> str:
    """The "vote (click)" row of benchmarks/rater_latency.py (real Chromium), or why not."""
    if clicks <= 0 or not Path("/usr/bin/chromium").exists():
        return "not run"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "rater_latency.py"),
                           "--clicks", str(clicks), "--size", "128"],
                          capture_output=True, text=True, timeout=600)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("vote (click)")), None)
    if line is None:
        return f"failed: {done.stderr.strip().splitlines()[-1:]}"
    _, n, median, p90, _ = line.rsplit(None, 4)
    return f"median {median} ms, p90 {p90} ms ({n} clicks)"


def measure(db: Path, board_id: str, k: int, workers: int, args: argparse.Namespace,
            baseline: bool = False) -> tuple[bool, dict]:
    """One server, K raters; (whether the server was pinned to core 0, the row)."""
    pinned = len(os.sched_getaffinity(0)) >= 2 and workers == 1
    port = free_port()
    server = start_server(db, port, workers, {0} if pinned else None, baseline=baseline)
    if pinned:
        os.sched_setaffinity(0, {1})
    profiler = None
    try:
        pids = process_tree(server.pid)
        if args.profile:  # the measured window's samples (after the ramp and one think time)
            wait = min(0.05 * k, 15.0) + args.think
            profiler = subprocess.Popen(
                ["sh", "-c", f'sleep {wait} && exec py-spy record --nonblocking --format raw --rate 100 --duration '
                             f'{int(args.duration)} --output "$0" --pid "$1"',
                 f"{args.profile}-{'buttons' if baseline else 'component'}-{k}.txt", str(pids[-1])],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        before = stored_votes(db)
        row = asyncio.run(drive(f"http://127.0.0.1:{port}/", board_id, k, args.duration, args.think,
                                pids, ButtonRater if baseline else WsRater))
        row["lost"] = row["votes"] - (stored_votes(db) - before)
    finally:
        if profiler is not None:
            profiler.wait(timeout=120)
        stop_server(server)
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    print(f"  K={k} workers={workers}{' (buttons)' if baseline else ''}: done"
          f"{'; errors: ' + '; '.join(row['first_errors']) if row['errors'] else ''}", file=sys.stderr, flush=True)
    return pinned, row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raters", default="25,50,100,200,300", help="comma-separated Ks")
    parser.add_argument("--workers", default="1", help="comma-separated app process counts")
    parser.add_argument("--duration", type=float, default=40.0, help="measured seconds per K")
    parser.add_argument("--think", type=float, default=4.0, help="mean seconds between votes")
    parser.add_argument("--browser-clicks", type=int, default=10, help="0 skips the Chromium row")
    parser.add_argument("--baseline", type=int, default=0, metavar="K",
                        help="also K raters on the Rate page drawn with Streamlit's buttons (a vote reruns the script)")
    parser.add_argument("--profile", metavar="PREFIX",
                        help="record the app process with py-spy over each measured window (PREFIX-component-K.txt)")
    args = parser.parse_args()
    ks = [int(k) for k in args.raters.split(",")]
    worker_counts = [int(w) for w in args.workers.split(",")]
    if not (0 < args.duration <= 7200 and all(0 < k <= 1000 for k in [*ks, args.baseline or 1])):
        raise SystemExit("--duration must be in (0, 7200] s and each K in 1..1000")
    if args.profile and shutil.which("py-spy") is None:
        raise SystemExit("--profile needs py-spy on the PATH (pip install py-spy)")
    with tempfile.TemporaryDirectory() as tmp:
        db, board_id = make_board(Path(tmp))
        startup = startup_times(db)
        rows = [(workers, *measure(db, board_id, k, workers, args)) for workers in worker_counts for k in ks]
        if args.baseline:
            rows.append(("buttons", *measure(db, board_id, args.baseline, 1, args, baseline=True)))
        browser = browser_k1(args.browser_clicks)
    load = os.getloadavg()
    print(f"rater load: {os.cpu_count()} cores (load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}: "
          f"shared with other work), think time {args.think:g} s +-50%, {args.duration:g} s measured per K, "
          "128 px PNGs")
    print(f"{'procs':>7} {'K':>4} {'votes/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/vote':>11} "
          f"{'RSS MB':>7} {'RSS +MB':>7} {'errors':>6} {'lost':>4} {'reruns':>6} {'gen CPU':>7}  cores")
    for workers, pinned, r in rows:
        where = "server core 0, generator core 1" if pinned else "not pinned (shared)"
        if workers == "buttons":
            where += "; baseline: the Rate page drawn with Streamlit's buttons (rater_button_page.py)"
        print(f"{workers:>7} {r['raters']:>4} {r['votes_s']:>8.1f} {r['p50']:>7.0f} {r['p99']:>7.0f} "
              f"{r['cpu_ms']:>11.1f} {r['rss']:>7.0f} {r['rss_growth']:>7.1f} {r['errors']:>6} "
              f"{r['lost']:>4} {r['reruns']:>6} {r['gen_cpu']:>6.0f}%  {where}")
    for _, _, base in (row for row in rows if row[0] == "buttons"):
        for _, _, r in (row for row in rows if row[0] == 1 and row[2]["raters"] == base["raters"]):
            print(f"component page / button page, K={r['raters']}: CPU a vote {r['cpu_ms']:.1f} / "
                  f"{base['cpu_ms']:.1f} ms = {r['cpu_ms'] / base['cpu_ms']:.2f}x; p50 {r['p50'] / base['p50']:.2f}x; "
                  f"p99 {r['p99'] / base['p99']:.2f}x; votes/s {r['votes_s'] / base['votes_s']:.2f}x")
    print(f"K=1 in real Chromium (benchmarks/rater_latency.py): {browser}")
    base = startup[0][1]
    print(f"{'start-up':<28}{'s':>7}{'vs python -c pass':>19}")
    for name, seconds in startup:
        print(f"{name:<28}{seconds:>7.2f}{seconds / base:>18.1f}x")
    for workers, _, r in rows:
        if workers == 1 and r["raters"] >= 300:
            ok = r["p99"] <= 1000 and r["cpu_ms"] <= 10
            print(f"target (300 raters, p99 <= 1 s, <= 10 ms CPU a vote): {'met' if ok else 'NOT met'}")
    print(f"target (start-up <= 0.5 s): {'met' if max(s for _, s in startup[1:]) <= 0.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
