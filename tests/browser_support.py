"""Helpers for the tests of ``rater serve`` in real Chromium: the browser, a served board, and
waiting for the Rate page's pair component (``rater/app/pair.js``) to show a pair.

Needs Debian's ``chromium`` package (``/usr/bin/chromium``); the tests skip without it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from app_support import ROOT
from test_app_serve import free_port, start_server, stop_server, wait_healthy

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"  # screenshots for a human to look at (git-ignored)
NO_PASSCODES = {"RATER_PASSCODE": "", "RATER_ADMIN_PASSCODE": ""}
#: The answers of the pair component, by label.
CHOICE = {"A is better": "left", "B is better": "right", "Can't decide": "tie", "Skip": "skip"}

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"),
]


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextmanager
def served(db_path: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[tuple[Any, str]]:
    """``rater serve`` on a free port until the block ends: (the process, its base URL)."""
    port = free_port()
    proc = start_server(db_path, port, *extra, env=NO_PASSCODES if env is None else env)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/", proc)
        yield proc, f"http://127.0.0.1:{port}/"
    finally:
        proc.output = stop_server(proc)


_PAIR_READY = """([previous]) => {
    const root = document.querySelector('[data-testid="stMain"] .rater-pair');
    if (!root || !root.dataset.matchup || root.dataset.matchup === previous) return false;
    const buttons = [...root.querySelectorAll('button.rater-button')];
    if (buttons.length !== 4 || buttons.some(b => b.getAttribute('aria-disabled') === 'true')) return false;
    const media = [...root.querySelectorAll('.rater-sides .rater-media, .rater-sides .rater-text')];
    const loaded = m => m.tagName === 'IMG' ? m.complete && m.naturalWidth > 0
        : m.tagName === 'AUDIO' || m.tagName === 'VIDEO' ? m.readyState > 0 : true;
    return media.length === 2 && media.every(loaded)
        && {matchup: root.dataset.matchup, srcs: media.map(m => m.currentSrc || m.src || null),
            kinds: media.map(m => m.tagName === 'DIV' ? 'text' : m.tagName.toLowerCase())};
}"""


def pair_ready(page, previous: str | None, timeout: float = 30_000) -> tuple[str, list[str | None]]:
    """Wait for a pair other than ``previous`` (a matchup id): its two media loaded and its
    answers usable. Return its matchup id and its media's URLs (None for a text)."""
    from playwright.sync_api import TimeoutError as Timeout

    try:
        ready = page.wait_for_function(_PAIR_READY, arg=[previous], timeout=timeout).json_value()
    except Timeout:
        shown = page.evaluate("""() => [...document.querySelectorAll('.rater-pair')].map(r => r.outerHTML)
            .join('\\n') || document.querySelector('[data-testid="stMain"]')?.innerText""")
        raise AssertionError(f"no new pair (previous {previous}) in {timeout / 1000:g} s: {shown[:3000]}") from None
    return ready["matchup"], ready["srcs"]


def pair_kinds(page) -> list[str]:
    """The element kinds of the shown pair's two sides: "img", "video", "audio" or "text"."""
    return page.wait_for_function(_PAIR_READY, arg=[None]).json_value()["kinds"]


def answer_button(page, label: str):
    """The pair component's answer button with this label."""
    return page.locator(f'.rater-pair button.rater-button[data-choice="{CHOICE[label]}"]')


def votes_in(db_path: Path) -> int:
    """How many votes the database holds (read with a fresh connection)."""
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT count(*) FROM votes").fetchone()[0]
    finally:
        conn.close()
