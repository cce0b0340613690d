"""Click-to-next-pair latency of the rating app, in real Chromium.

Builds a temporary board of synthetic PNGs, starts ``rater serve`` on a free port, rates in
headless Chromium (Playwright) and prints one row per action: median and p90 milliseconds from
the click (or key press) to the next pair's two images being loaded on screen, and the ratio to
a plain page reload measured in the same run (navigation start to the app's first screen).
Target: a vote shows the next pair in at most 500 ms.

    python benchmarks/rater_latency.py [--clicks 30] [--size 1024] [--think-ms 800]

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` Python package.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from rater import Client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rater_load import free_port, start_server, stop_server  # noqa: E402  (one server launcher)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
IMAGES = ".rater-pair .rater-side img.rater-media"  # the pair component's A and B
#: The pair component's answer buttons (``rater/app/pair.js``).
BUTTON = ".rater-pair button[data-choice={}]"

# The component draws each pair anew (new <img> elements); the pair's key is its two URLs (a
# rater is never served the same pair twice). Resolves, once a new pair's two images are loaded,
# with the milliseconds since the last click or key press.
_READY = """([selector, previousKey]) => {
    const imgs = [...document.querySelectorAll(selector)];
    if (imgs.length !== 2) return false;
    const key = imgs.map(i => i.getAttribute("src")).join(" ");
    if (key !== previousKey && imgs.every(i => i.complete && i.naturalWidth > 0)) {
        return {key: key, ms: performance.now() - window.__clickedAt};
    }
    return false;
}"""
_ARM = """() => {
    if (!window.__armed) {
        for (const type of ["mousedown", "keydown"]) {
            document.addEventListener(type, () => { window.__clickedAt = performance.now(); },
                                      {capture: true});
        }
        window.__armed = true;
    }
}"""


def make_board(folder: Path, models: int, prompts: int, size: int) -> tuple[Path, str]:
    """A database with one board of ``models`` x ``prompts`` smooth, noisy PNGs."""
    rng = np.random.default_rng(0)
    client = Client(folder / "bench.db")
    texts = [f"Prompt number {i}" for i in range(prompts)]
    lb = client.mri.create_new_leaderboard("Latency benchmark", "Which image is better?", texts,
                                           show_prompt=True)
    ramp = np.linspace(0, 255, size)
    for m in range(models):
        files = []
        for p in range(prompts):
            base = np.stack([np.add.outer(ramp * (c + 1) / 3, ramp[::-1] / 2) % 256 for c in range(3)], -1)
            pixels = np.clip(base + rng.normal(0, 12, base.shape) + 20 * m + 5 * p, 0, 255)
            path = folder / "src" / f"m{m}-p{p}.png"
            path.parent.mkdir(exist_ok=True)
            Image.fromarray(pixels.astype(np.uint8)).save(path)
            files.append(path)
        lb.evaluate_model(f"model-{m}", files, texts)
    client.close()
    return folder / "bench.db", lb.id


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def measure(page, action, rounds: int, think_ms: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Run ``action(k)`` ``rounds`` times; the time from input to the next loaded pair, in ms."""
    times = []
    key = page.wait_for_function(_READY, arg=[IMAGES, None], timeout=30_000).json_value()["key"]
    for k in range(rounds):
        page.evaluate(_ARM)
        action(k)
        ready = page.wait_for_function(_READY, arg=[IMAGES, key], timeout=30_000).json_value()
        times.append(float(ready["ms"]))
        key = ready["key"]
        page.wait_for_timeout(think_ms)  # a rater looks before answering
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=30, help="clicks per measured action")
    parser.add_argument("--size", type=int, default=1024, help="image width and height in pixels")
    parser.add_argument("--models", type=int, default=6)
    parser.add_argument("--prompts", type=int, default=10)
    parser.add_argument("--think-ms", type=int, default=800,
                        help="pause between a pair appearing and the next answer (a fast rater)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        db, board_id = make_board(Path(tmp), args.models, args.prompts, args.size)
        port = free_port()
        server = start_server(db, port, workers=1, cores=None)
        url = f"http://127.0.0.1:{port}/?leaderboard={board_id}"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 860})
                reloads = []
                page.goto(url)
                for _ in range(max(5, args.clicks // 3)):
                    page.reload()
                    page.get_by_text("Rate generative models").wait_for(timeout=30_000)
                    reloads.append(page.evaluate("performance.now()"))
                page.get_by_label("Your name").fill("benchmark")
                page.get_by_role("button", name="Start rating").click()
                page.wait_for_selector(IMAGES)  # the first pair
                answer = [BUTTON.format("left"), BUTTON.format("right")]
                measure(page, lambda k: page.click(answer[k % 2]), 3, args.think_ms)
                rows = [
                    ("vote (click) -> next pair", measure(
                        page, lambda k: page.click(answer[k % 2]), args.clicks, args.think_ms)),
                    ("vote (arrow key) -> next pair", measure(
                        page, lambda k: page.keyboard.press(["ArrowLeft", "ArrowRight"][k % 2]), args.clicks, args.think_ms)),
                    ("skip (click) -> next pair", measure(
                        page, lambda k: page.click(BUTTON.format("skip")), args.clicks // 2, args.think_ms)),
                ]
                browser.close()
        finally:
            stop_server(server)
    base = statistics.median(reloads)
    print(f"rater app latency: {args.models} models x {args.prompts} prompts, {args.size}x{args.size} "
          f"PNGs, {args.clicks} clicks per row, headless Chromium, {os.cpu_count()} cores")
    print(f"{'action':<32}{'n':>4}{'median ms':>11}{'p90 ms':>9}{'vs reload':>11}")
    for name, values in [("page reload (baseline)", reloads), *rows]:
        median = statistics.median(values)
        print(f"{name:<32}{len(values):>4}{median:>11.0f}{percentile(values, 90):>9.0f}"
              f"{median / base:>10.2f}x")
    worst = max(statistics.median(v) for _, v in rows)
    print(f"target: next pair within 500 ms of a vote: {'met' if worst <= 500 else 'NOT met'}")


if __name__ == "__main__":
    main()
