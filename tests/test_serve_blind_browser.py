"""Blind rating in real Chromium against ``rater serve``: on boards in every state (a newcomer
being placed, ordinary, settled with "Keep rating anyway", a quality-control repeat on screen,
audio) nothing the browser receives names a model: page text, title, URL, every attribute of
every element (img alt and src, title, aria-label), every WebSocket message from the server and
every HTTP response header. The models' names contain ``SECRETMODELNAME``.
"""

from __future__ import annotations

import sqlite3

import pytest

from app_support import BLIND_STATES, SECRET, blind_board, blind_rater
from test_app_serve import free_port, start_server, stop_server, wait_healthy
from test_serve_browser import CHROMIUM, browser  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"),
]

MEDIA = '[data-testid="stMain"] [data-testid="stImage"] img, [data-testid="stMain"] audio'


@pytest.fixture
def blind_server(client, png, wav):
    boards = {state: blind_board(client, png, wav, state) for state in BLIND_STATES}
    port = free_port()
    proc = start_server(client.db_path, port, env={"RATER_PASSCODE": "", "RATER_ADMIN_PASSCODE": ""})
    try:
        wait_healthy(f"http://127.0.0.1:{port}/", proc)
        yield boards, f"http://127.0.0.1:{port}/"
    finally:
        stop_server(proc)


class Recorder:
    """Everything the server sent this page: WebSocket messages and HTTP response headers."""

    def __init__(self, page) -> None:
        self.received: list[bytes] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))
        page.on("response", lambda r: self.received.append(repr((r.url, r.headers)).encode()))

    def _frame(self, payload) -> None:
        self.received.append(payload if isinstance(payload, bytes) else payload.encode())


def check_blind(page, recorder: Recorder) -> None:
    everything = "\n".join([
        page.title(), page.url, page.content(), page.inner_text("body"),
        # every attribute of every element, shadow-free DOM (alt, src, title, aria-*, data-*)
        page.evaluate("""() => [...document.querySelectorAll('*')].flatMap(
            e => [...e.attributes].map(a => a.name + '=' + a.value)).join('\\n')"""),
    ])
    assert SECRET.lower() not in everything.lower(), [
        line for line in everything.splitlines() if SECRET.lower() in line.lower()][:5]
    for message in recorder.received:
        assert SECRET.encode() not in message and SECRET.lower().encode() not in message.lower()


def pair_ready(page, previous: str | None) -> str:
    """Wait for a new pair (answer buttons keyed by a new matchup id, two media loaded)."""
    return page.wait_for_function(
        """([selector, previous]) => {
            const buttons = [...document.querySelectorAll('[class*="st-key-left-"]')];
            if (buttons.length !== 1) return false;
            const key = [...buttons[0].classList].find(c => c.startsWith("st-key-left-"));
            const media = [...document.querySelectorAll(selector)];
            const loaded = media.every(m => m.tagName === 'AUDIO' ? m.readyState > 0
                                                                  : m.complete && m.naturalWidth > 0);
            return key !== previous && media.length === 2 && loaded && key;
        }""",
        arg=[MEDIA, previous], timeout=60_000,
    ).json_value()


def is_repeat(db_path, key: str) -> bool:
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT repeat_of FROM matchups WHERE id = ?",
                           (key.removeprefix("st-key-left-"),)).fetchone()
    return row is not None and row[0] is not None


def test_nothing_the_browser_receives_names_a_model(blind_server, browser, client):  # noqa: F811
    boards, url = blind_server
    for state, lb in boards.items():
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        recorder = Recorder(page)
        page.goto(f"{url}?leaderboard={lb.id}&rater={blind_rater(state)}")
        if state == "settled":
            keep = page.get_by_role("button", name="Keep rating anyway")
            keep.wait_for(timeout=30_000)
            check_blind(page, recorder)
            keep.click()
        key = pair_ready(page, None)
        page.get_by_text("Your votes this session: 0").wait_for(timeout=30_000)
        check_blind(page, recorder)
        repeats = int(is_repeat(client.db_path, key))
        for vote in range(1, 17 if state == "repeat" else 4):
            if repeats and state == "repeat":
                break
            page.get_by_role("button", name="A is better").click()
            key = pair_ready(page, key)
            page.get_by_text(f"Your votes this session: {vote}").wait_for(timeout=30_000)
            check_blind(page, recorder)
            repeats += is_repeat(client.db_path, key)
        if state == "newcomer":
            assert "Placing a new model" in page.inner_text("body")
        if state == "repeat":
            assert repeats, "no quality-control repeat was served"
        assert recorder.received  # the check saw the server's messages
        page.close()
