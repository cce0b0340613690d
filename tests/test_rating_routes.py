"""The rating routes over real HTTP: ``rater serve`` as a subprocess, sessions opened by real
Chromium (the token is made by the Rate page), then requests sent as a browser or an attacker
would (http.client: paths are sent exactly as written). What is stored is read from the SQLite file.

Needs Debian's ``chromium`` package (``/usr/bin/chromium``); skipped without it.
"""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pytest
from PIL import Image
from app_support import PROMPTS, SECRET, SECRET_MODELS, add_secret_model, make_board
from browser_support import BROWSER_MARKS, NO_PASSCODES, browser, served  # noqa: F401  (browser: the fixture)
from conftest import make_png
from media_support import make_video

from rater import Client
from rater.app.routes import SMALL_FILE

pytestmark = BROWSER_MARKS

#: What the pair component shows, read from the page: the session's token (in its media URLs),
#: the matchup id and the two sides; null until a pair is shown.
VIEW_JS = """(() => {
    const root = document.querySelector('[data-testid="stMain"] .rater-pair');
    const media = root ? [...root.querySelectorAll('.rater-sides .rater-media, .rater-sides .rater-audio')] : [];
    if (!root || !root.dataset.matchup || media.length !== 2) return null;
    const [left, right] = media.map(m => ({kind: m.tagName === 'IMG' ? 'image' : m.tagName.toLowerCase(),
                                           url: new URL(m.src).pathname}));
    return {session: left.url.split('/')[3], pair: {id: root.dataset.matchup, left, right}};
})()"""


class Server:
    """A running ``rater serve`` and what it serves: boards by role, the database file."""

    def __init__(self, db: Path, port: int, boards: dict[str, Any]) -> None:
        self.db, self.port, self.boards = db, port, boards
        self.url = f"http://127.0.0.1:{port}/"

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request, the path sent as written; (status, headers in lower case, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def answer(self, payload: Any) -> tuple[int, dict[str, Any]]:
        status, headers, body = self.request("POST", "/_rater/answer", json.dumps(payload).encode(),
                                             {"Content-Type": "application/json"})
        if headers.get("content-type") != "application/json":
            return status, {"unexpected": body.decode(errors="replace")}
        assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"
        return status, json.loads(body)

    def votes(self) -> list[tuple[str, str, str]]:
        """Every stored vote: (matchup id, rater, choice)."""
        with sqlite3.connect(self.db) as conn:
            return [tuple(r) for r in conn.execute("SELECT matchup_id, rater, choice FROM votes ORDER BY id")]


@contextmanager
def _serve(db: Path, env: dict[str, str]) -> Iterator[int]:
    """``rater serve`` on a free port until the block ends (its output is printed then: pytest
    shows it when a test failed)."""
    proc = None
    try:
        with served(db, env=env) as (proc, url):
            yield int(url.rstrip("/").rsplit(":", 1)[1])
    finally:
        print(getattr(proc, "output", ""))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Boards served by one ``rater serve``: "secret" (models named SECRETMODELNAME-..., source
    files named after them), "other" (images of other files), "video" (MP4 clips)."""
    tmp = tmp_path_factory.mktemp("routes")
    png = lambda seed, name=None: make_png(tmp / "media" / (name or f"img-{seed}.png"), seed)
    with Client(str(tmp / "leaderboards.db"), create=True) as client:
        secret = client.mri.create_new_leaderboard("Blind", "Which image is better?", PROMPTS, repeat_share=0.0)
        for model in SECRET_MODELS:
            add_secret_model(secret, png, model)
        other = make_board(client, png, models=2, prompts=1)
        video = client.mri.create_new_leaderboard("Clips", "Which clip is better?", ["A clip"])
        for k in range(2):
            clip = make_video(tmp / "media" / f"clip-{k}.mp4", "mp4", "libx264", frames=10 + 5 * k)
            video.evaluate_model(f"{SECRET}-video-{k}", [clip], ["A clip"])
        big = client.mri.create_new_leaderboard("Big", "Which image is better?", ["A big one"])
        for k in range(2):  # noise: a PNG above routes.SMALL_FILE, below the preview size
            noise = np.random.default_rng(k).integers(0, 256, (700, 700, 3), dtype=np.uint8)
            Image.fromarray(noise).save(tmp / "media" / f"big-{k}.png")
            big.evaluate_model(f"{SECRET}-big-{k}", [tmp / "media" / f"big-{k}.png"], ["A big one"])
        boards = {"secret": secret, "other": other, "video": video, "big": big}
        db = client.db_path
    with _serve(db, NO_PASSCODES) as port:
        yield Server(db, port, boards)


@pytest.fixture
def rate(server, browser):
    """Factory: ``rate(board_role, rater)`` opens the Rate page in a new browser page and returns
    what its pair component shows (:data:`VIEW_JS`) and the page's HTML (the page stays open:
    it keeps the session)."""
    pages = []

    def factory(role: str, rater: str) -> dict[str, Any]:
        page = browser.new_page()
        pages.append(page)
        page.goto(f"{server.url}?leaderboard={server.boards[role].id}&rater={rater}")
        page.wait_for_function(VIEW_JS, timeout=30_000)
        return {**page.evaluate(VIEW_JS), "html": page.content()}

    yield factory
    for page in pages:
        page.close()


def name_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def stored_file(board, url: str, server: Server) -> bytes:
    """The bytes the URL serves, checked to be one of the board's stored files."""
    status, _, body = server.request("GET", url)
    assert status == 200, (status, body[:200])
    files = {p.read_bytes() for m in board.models() for ps in board.model_media(m.name).values() for p in ps}
    assert body in files
    return body


def test_guessed_tokens_get_nothing(server, rate) -> None:
    view = rate("secret", "gina")
    matchup, name = view["pair"]["id"], name_of(view["pair"]["left"]["url"])
    before = server.votes()
    for token in ("", None, 0, ["x"], {"a": 1}, "x" * 43, view["session"][:-1], view["session"] + "A"):
        status, reply = server.answer({"session": token, "matchup": matchup, "choice": "left"})
        assert (status, reply["rerun"]) == (404, True), token
    for token in ("x" * 43, view["session"][:-1], quote(view["session"].upper())):
        assert server.request("GET", f"/_rater/media/{token}/{name}")[0] == 404
    assert server.votes() == before
    status, reply = server.answer({"session": view["session"], "matchup": matchup, "choice": "left"})
    assert status == 200 and server.votes() == [*before, (matchup, "gina", "left")]


def test_malformed_requests_write_nothing(server, rate) -> None:
    view = rate("secret", "mona")
    good = {"session": view["session"], "matchup": view["pair"]["id"], "choice": "right"}
    before = server.votes()
    json_type = {"Content-Type": "application/json"}
    for body in (b"not json", b"[1, 2]", b'"left"', b"null", b"\xff\xfe",
                 json.dumps({k: v for k, v in good.items() if k != "choice"}).encode(),
                 json.dumps({k: v for k, v in good.items() if k != "matchup"}).encode(),
                 json.dumps({**good, "choice": "up"}).encode(), json.dumps({**good, "choice": "LEFT"}).encode(),
                 json.dumps({**good, "matchup": 5}).encode()):
        status, headers, reply = server.request("POST", "/_rater/answer", body, json_type)
        assert status == 400 and "error" in json.loads(reply), body
    assert server.answer({"matchup": good["matchup"], "choice": "left"}) == (
        404, {"rerun": True, "error": "This rating page has expired: it is drawn again."})  # no session
    for size in (4097, 64_000):
        padded = json.dumps({**good, "pad": "x" * size}).encode()
        assert server.request("POST", "/_rater/answer", padded, json_type)[0] == 413
    # a body announced as 100 MB is refused at once, without reading (or waiting for) it
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("POST", "/_rater/answer")
    conn.putheader("Content-Length", str(100_000_000))
    conn.endheaders()
    conn.send(json.dumps(good).encode())
    assert conn.getresponse().status == 413
    conn.close()
    chunks = iter([json.dumps(good).encode()[:-1], b', "pad": "' + b"x" * 3000, b"y" * 3000 + b'"}'])
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)  # no length given
    conn.request("POST", "/_rater/answer", body=chunks, headers=json_type, encode_chunked=True)
    assert conn.getresponse().status == 413
    conn.close()
    for method in ("GET", "PUT", "DELETE"):
        status, headers, _ = server.request(method, "/_rater/answer")
        assert status == 405 and headers["allow"] == "POST", method
    assert server.request("GET", "/_rater/elsewhere")[0] == 404
    assert server.request("POST", f"/_rater/media/{view['session']}/x.png")[0] == 404
    assert server.votes() == before
    assert server.answer(good)[0] == 200 and server.votes() == [*before, (good["matchup"], "mona", "right")]


def test_answers_over_http_store_one_vote_each_and_never_name_a_model(server, rate) -> None:
    view = rate("secret", "nora")
    board = server.boards["secret"]
    texts = [json.dumps(view)]
    first = view["pair"]["id"]
    status, after = server.answer({"session": view["session"], "matchup": first, "choice": "tie"})
    assert status == 200 and after["serial"] == 1 and after["pair"]["id"] != first
    texts.append(json.dumps(after))
    again = server.answer({"session": view["session"], "matchup": first, "choice": "left"})
    assert again[0] == 200 and again[1]["serial"] == 2 and again[1]["pair"]["id"] == after["pair"]["id"]
    skipped = after["pair"]["id"]
    status, view = server.answer({"session": view["session"], "matchup": skipped, "choice": "skip"})
    assert status == 200 and view["serial"] == 3 and view["pair"]["id"] not in (first, skipped)
    texts.append(json.dumps(view))
    assert [v for v in server.votes() if v[1] == "nora"] == [(first, "nora", "tie")]
    hidden = {SECRET} | {path.stem for m in board.models() for ps in board.model_media(m.name).values() for path in ps}
    assert not [h for h in hidden for text in texts if h in text]


def test_media_are_served_only_to_their_session(server, rate) -> None:
    view = rate("secret", "olga")
    other = rate("other", "olga")
    board = server.boards["secret"]
    url = view["pair"]["left"]["url"]
    body = stored_file(board, url, server)
    status, headers, _ = server.request("GET", url)
    assert headers["content-type"] == "image/png" and headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"].startswith("private") and "content-disposition" not in headers
    assert SECRET not in json.dumps(headers)
    status, head, nothing = server.request("HEAD", url)
    assert (status, nothing, head["content-length"]) == (200, b"", str(len(body)))
    name, token = name_of(url), view["session"]
    assert server.request("GET", f"/_rater/media/{other['session']}/{name}")[0] == 404  # another session
    assert server.request("GET", f"/_rater/media/{token}/{name_of(other['pair']['left']['url'])}")[0] == 404
    stored = next(p for m in board.models() for ps in board.model_media(m.name).values() for p in ps)
    attacks = [f"/{token}/{stored.name}", f"/{token}/..%2F..%2F..%2Fetc%2Fpasswd",
               f"/{token}/../../../../etc/passwd", f"/{token}/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
               f"/{token}/{quote(str(stored), safe='')}", f"/{token}/{quote(str(stored))}",
               f"/{token}//etc/passwd", f"/{token}/%2Fetc%2Fpasswd", f"/{token}/{name}/..",
               f"/{token}/{name}%2F..%2F{name}", f"/{token}/{name}/x", f"/{token}", "/..%2F" + name, ""]
    for attack in attacks:
        status, headers, got = server.request("GET", "/_rater/media" + attack)
        assert status in (400, 404), (attack, status)  # 400: Streamlit's own check of ".." and "//"
        assert got != body and b"root:" not in got and b"PNG" not in got


def test_small_and_large_images_arrive_whole(server, rate) -> None:
    """A small image is sent in one piece from the event loop, a large one through
    FileResponse: the same bytes and headers either way."""
    for role, small in (("secret", True), ("big", False)):
        url = rate(role, "ines")["pair"]["right"]["url"]
        body = stored_file(server.boards[role], url, server)
        assert (len(body) <= SMALL_FILE) == small, len(body)
        status, headers, got = server.request("GET", url)
        assert (status, got, headers["content-length"]) == (200, body, str(len(body)))
        assert headers["content-type"] == "image/png" and headers["cache-control"].startswith("private")


def test_video_is_served_in_ranges(server, rate) -> None:
    view = rate("video", "vera")
    side = view["pair"]["left"]
    assert side["kind"] == "video"
    body = stored_file(server.boards["video"], side["url"], server)
    status, headers, part = server.request("GET", side["url"], headers={"Range": "bytes=5-104"})
    assert (status, part) == (206, body[5:105])
    assert headers["content-range"] == f"bytes 5-104/{len(body)}" and headers["content-type"] == "video/mp4"
    status, _, tail = server.request("GET", side["url"], headers={"Range": "bytes=-10"})
    assert (status, tail) == (206, body[-10:])


def test_concurrent_answers_are_all_stored_once(server, rate) -> None:
    raters = [f"crowd-{k}" for k in range(8)]
    views = {rater: rate("secret", rater) for rater in raters}
    acknowledged: list[tuple[str, str, str]] = []
    problems: list[Any] = []
    start = threading.Barrier(len(raters))

    def rater_thread(rater: str) -> None:
        view, serial = views[rater], 0
        start.wait()
        for choice in ("left", "right", "tie", "skip", "left"):
            if view.get("pair") is None:
                break
            matchup = view["pair"]["id"]
            status, reply = server.answer({"session": view["session"], "matchup": matchup, "choice": choice})
            if status != 200 or reply.get("error") or reply["serial"] <= serial:
                problems.append((rater, status, reply))
                return
            if choice != "skip":
                acknowledged.append((matchup, rater, choice))
            view, serial = reply, reply["serial"]

    threads = [threading.Thread(target=rater_thread, args=(r,)) for r in raters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not problems, problems
    assert len(acknowledged) == 4 * len(raters)
    stored = [v for v in server.votes() if v[1] in raters]
    assert sorted(stored) == sorted(acknowledged)
    assert len({m for m, _, _ in stored}) == len(stored)


def test_with_a_passcode_nothing_is_reachable_before_it(tmp_path, browser) -> None:
    with Client(str(tmp_path / "leaderboards.db"), create=True) as client:
        board = make_board(client, lambda s, name=None: make_png(tmp_path / "media" / f"{s}.png", s),
                           models=2, prompts=1)
    with _serve(tmp_path / "leaderboards.db", {"RATER_PASSCODE": "let-me-in", "RATER_ADMIN_PASSCODE": ""}) as port:
        server = Server(tmp_path / "leaderboards.db", port, {})
        page = browser.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{server.url}?leaderboard={board.id}&rater=pia")
        page.get_by_label("Passcode").wait_for()
        page.wait_for_timeout(500)
        assert page.evaluate(VIEW_JS) is None and page.locator(".rater-pair").count() == 0
        assert not [u for u in requested if "/_rater/" in u]
        for token in ("x" * 43, ""):
            status, reply = server.answer({"session": token, "matchup": "x", "choice": "left"})
            assert (status, reply["rerun"]) == (404, True)
            assert server.request("GET", f"/_rater/media/{token or 'x'}/x.png")[0] == 404
        page.get_by_label("Passcode").fill("let-me-in")
        page.get_by_role("button", name="Enter").click()
        page.wait_for_function(VIEW_JS, timeout=30_000)
        view = page.evaluate(VIEW_JS)
        assert server.answer({"session": view["session"], "matchup": view["pair"]["id"], "choice": "left"})[0] == 200
        assert server.votes() == [(view["pair"]["id"], "pia", "left")]
        page.close()


def test_the_same_answer_sent_twice_at_once_stores_one_vote(server, rate) -> None:
    view = rate("secret", "dora")
    answer = {"session": view["session"], "matchup": view["pair"]["id"], "choice": "left"}
    replies: list[tuple[int, dict[str, Any]]] = []
    start = threading.Barrier(4)

    def send() -> None:
        start.wait()
        replies.append(server.answer(answer))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _ in replies] == [200] * 4 and not [r for _, r in replies if r["error"]]
    assert len({r["pair"]["id"] for _, r in replies}) == 1  # all moved on to the same next pair
    assert sorted(r["serial"] for _, r in replies) == [1, 2, 3, 4]
    assert [v for v in server.votes() if v[1] == "dora"] == [(answer["matchup"], "dora", "left")]
