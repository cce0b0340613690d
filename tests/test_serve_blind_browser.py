"""Blind rating in real Chromium against ``rater serve``: on boards in every state (a newcomer
being placed, ordinary, settled with "Keep rating anyway", a quality-control repeat on screen,
audio, text, video) nothing the browser receives names a model or its source file: page text,
title, URL, every attribute of every element (img alt and src, title, aria-label), every
WebSocket message from the server, and every HTTP response: headers and body (the pair
component's ``/_rater/answer`` replies, the ``/_rater/media`` files, whose URLs are opaque and
whose headers name no file). The models' names, and their files' names, contain
``SECRETMODELNAME``.
"""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import urlparse

import pytest

from app_support import BLIND_STATES, INSTRUCTION, PROMPTS, SECRET, SECRET_MODELS, add_secret_model, blind_board, blind_rater
from browser_support import ARTIFACTS, BROWSER_MARKS, answer_button, browser, pair_kinds, pair_ready, served  # noqa: F401
from media_support import make_video

pytestmark = BROWSER_MARKS

#: The kinds of media boards beside the image and audio ones of BLIND_STATES.
MEDIA_STATES = ("text", "video")
#: What each board's pair is drawn with (.rater-text > pre for a text).
ELEMENTS = {"audio": ["audio", "audio"], "text": ["text", "text"], "video": ["video", "video"]}
MEDIA_URL = re.compile(r"/_rater/media/[A-Za-z0-9_-]{43}/[0-9a-f]{32}\.(png|wav|mp4)")


def media_board(client, tmp_path, kind: str):
    """A board of texts or videos by the secret models, each file named after its model."""
    lb = client.mri.create_new_leaderboard(f"Blind {kind}", INSTRUCTION, PROMPTS,
                                           show_prompt=True, repeat_share=0.0)

    def factory(seed: int, name: str):
        path = tmp_path / "media" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "video":
            return make_video(path, "mp4", "libx264", frames=4 + seed % 1000,  # distinct files
                              size=(32 + 16 * (seed // 1000), 32))
        path.write_text(f"Answer number {seed}: **four**.", encoding="utf-8")
        return path

    for model in SECRET_MODELS:
        add_secret_model(lb, factory, model, "mp4" if kind == "video" else "txt")
    return lb


@pytest.fixture
def blind_server(client, png, wav, tmp_path):
    boards = {state: blind_board(client, png, wav, state) for state in BLIND_STATES}
    boards.update({kind: media_board(client, tmp_path, kind) for kind in MEDIA_STATES})
    with served(client.db_path) as (_, url):
        yield boards, url


class Recorder:
    """Everything the server sent this page: WebSocket messages, and every HTTP response
    (headers and body, read when checked)."""

    def __init__(self, page) -> None:
        self.received: list[bytes] = []
        self.responses: list = []
        self.answers = 0  # /_rater/answer replies checked
        self.media: list[str] = []  # /_rater/media URLs served
        self.sockets: list[str] = []  # WebSockets opened (a second one: Streamlit reconnected)
        page.on("websocket", lambda ws: (self.sockets.append(ws.url), ws.on("framereceived", self._frame)))
        page.on("response", lambda response: self.responses.append(response))

    def _frame(self, payload) -> None:
        self.received.append(payload if isinstance(payload, bytes) else payload.encode())

    def collect(self) -> None:
        """Read the responses that came since the last call (their bodies too)."""
        while self.responses:
            response = self.responses.pop(0)
            path = urlparse(response.url).path
            headers = response.headers
            self.received.append(repr((response.url, headers)).encode())
            try:
                body = response.body()
            except Exception:  # a redirect, or a response the page dropped: no body to read
                body = b""
            if path == "/_rater/answer":
                assert response.json()["session"], body  # a view: the next pair (or a rerun)
                self.answers += 1
            elif path.startswith("/_rater/media/"):
                assert MEDIA_URL.fullmatch(path), path  # an opaque name, only its type
                assert "content-disposition" not in headers, headers  # no file name sent
                assert headers["cache-control"].startswith("private"), headers
                self.media.append(path)
            self.received.append(body)


def check_blind(page, recorder: Recorder) -> None:
    recorder.collect()
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
        assert b"prompt0." not in message  # nor the source files' names (MODEL-promptK.ext)


def is_repeat(db_path, matchup: str) -> bool:
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT repeat_of FROM matchups WHERE id = ?", (matchup,)).fetchone()
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
        key, _ = pair_ready(page, None, timeout=60_000)
        page.get_by_text("Your votes this session: 0").wait_for(timeout=30_000)
        assert pair_kinds(page) == ELEMENTS.get(state, ["img", "img"]), state
        players = {"audio": "audio[controls]", "video": "video[controls][loop]", "text": ".rater-text pre"}
        if state in players:
            assert page.locator(f".rater-sides {players[state]}").count() == 2
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"rater-pair-{state}.png"))
        check_blind(page, recorder)
        repeats = int(is_repeat(client.db_path, key))
        votes = {"repeat": 16, "ordinary": 10}.get(state, 3)
        for vote in range(1, votes + 1):
            answer_button(page, "A is better").click()
            keep = page.get_by_role("button", name="Keep rating anyway")
            page.locator(f'.rater-pair:not([data-matchup="{key}"])').or_(keep).wait_for(timeout=60_000)
            if keep.count():  # the votes settled the board: the page is drawn anew, and again
                check_blind(page, recorder)
                keep.click()
            try:
                key, _ = pair_ready(page, key, timeout=60_000)
            except AssertionError as exc:
                raise AssertionError(f"{state}, vote {vote}, WebSockets {recorder.sockets}: {exc}") from None
            page.get_by_text(f"Your votes this session: {vote}").wait_for(timeout=30_000)
            check_blind(page, recorder)
            repeats += is_repeat(client.db_path, key)
            if repeats and state == "repeat":
                break  # a repeat has been on screen (and answered, if it came first)
        if state == "newcomer":
            assert "Placing a new model" in page.inner_text("body")
        if state == "repeat":
            assert repeats, "no quality-control repeat was served"
        assert recorder.received and recorder.answers >= 1  # the check saw the server's replies
        if state not in MEDIA_STATES[:1]:
            assert recorder.media  # ... and the media (a text comes inside the view)
        page.close()
