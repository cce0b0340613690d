"""The Rate page's pair component (``rater/app/pair.js``) in real Chromium against ``rater serve``:
keys, double clicks, images loaded ahead, no script run per vote, a server gone mid-session, a
phone's width. Screenshots of the page (desktop, phone, the error) go to ``test-artifacts/``.
"""

from __future__ import annotations

import signal
import sqlite3
from urllib.parse import urlparse

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from app_support import make_board
from browser_support import (  # noqa: F401  (browser: the fixture)
    ARTIFACTS,
    BROWSER_MARKS,
    answer_button,
    browser,
    pair_ready,
    served,
    votes_in,
)

pytestmark = BROWSER_MARKS


@pytest.fixture
def board(client, png):
    """3 models x 3 prompts of 64 px PNGs: nine pairs for one rater."""
    return make_board(client, png, models=3, prompts=3, show_prompt=True, repeat_share=0.0)


def open_rating(browser, url: str, lb, width: int = 1280, height: int = 860, listen=None):
    """A new page rating ``lb``; ``listen(page)`` is called before it opens (to see every request)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    if listen is not None:
        listen(page)
    page.goto(f"{url}?leaderboard={lb.id}&rater=keys")
    return page


def stored_choices(db_path) -> list[tuple[str, str]]:
    """(matchup id, choice) of every vote, in the order they were stored."""
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT matchup_id, choice FROM votes ORDER BY rowid").fetchall()
    finally:
        conn.close()


def answers_posted(page) -> list:
    posted: list = []
    page.on("request", lambda r: posted.append(r) if urlparse(r.url).path == "/_rater/answer" else None)
    return posted


def settled(page, seen: list, quiet_ms: int = 800, timeout_ms: int = 20_000) -> int:
    """Wait until ``seen`` (a list that page events append to) has not grown for ``quiet_ms``;
    return its length."""
    count, waited = -1, 0
    while count != len(seen) and waited < timeout_ms:
        count = len(seen)
        page.wait_for_timeout(quiet_ms)
        waited += quiet_ms
    return len(seen)


def test_each_key_answers_once(client, board, browser) -> None:
    """← votes A, → B, ↓ can't decide, S skips: one request and at most one vote per press,
    also after the page was left and drawn again (one key listener, not one per drawing)."""
    with served(client.db_path) as (_, url):
        page = open_rating(browser, url, board)
        posted = answers_posted(page)
        matchup, _ = pair_ready(page, None)
        shown = [matchup]
        for k, key in enumerate(["ArrowLeft", "ArrowRight"], start=1):
            page.keyboard.press(key)
            matchup, _ = pair_ready(page, matchup)
            shown.append(matchup)
            page.get_by_text(f"Your votes this session: {k}").wait_for()
        page.get_by_role("link", name="Raters", exact=True).click()
        page.get_by_role("heading", name="Raters").wait_for()
        page.get_by_role("link", name="Rate", exact=True).click()
        again, _ = pair_ready(page, None)
        assert again == matchup  # the pair on screen is still the one to answer
        for key in ["ArrowDown", "s"]:
            page.keyboard.press(key)
            matchup, _ = pair_ready(page, matchup)
            shown.append(matchup)
        page.get_by_text("Your votes this session: 3").wait_for()
        page.wait_for_timeout(500)  # a second answer, were one sent, would be stored by now
        assert len(posted) == 4
        assert stored_choices(client.db_path) == [(shown[0], "left"), (shown[1], "right"), (shown[2], "tie")]
        assert len(set(shown)) == 5  # the skipped pair went too


def test_a_double_click_stores_one_vote(client, board, browser) -> None:
    """Two clicks in quick succession: the first answers; the second, landing on the next pair
    after the reply came back, answers nothing. Playwright's own double click too."""
    with served(client.db_path) as (_, url):
        page = open_rating(browser, url, board)
        posted = answers_posted(page)
        first, _ = pair_ready(page, None)
        box = answer_button(page, "A is better").bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.click(x, y)
        page.wait_for_function("m => document.querySelector('.rater-pair').dataset.matchup !== m",
                               arg=first)  # the reply came: the next pair is under the mouse
        page.mouse.click(x, y, click_count=2)  # the double click's second click
        second, _ = pair_ready(page, first)
        answer_button(page, "B is better").dblclick()
        third, _ = pair_ready(page, second)
        page.wait_for_timeout(800)
        assert stored_choices(client.db_path) == [(first, "left"), (second, "right")]
        assert len(posted) == 2 and third not in (first, second)


def test_the_next_pair_is_loaded_before_the_vote(client, board, browser) -> None:
    """The prepared pair's images are requested while the pair before it is on screen, and
    shown after the vote without being downloaded again: every image is fetched once."""
    with served(client.db_path) as (_, url):
        fetched: list[str] = []
        page = open_rating(browser, url, board, listen=lambda page: page.on(
            "request", lambda r: fetched.append(r.url) if "/_rater/media/" in r.url else None))
        matchup, shown = pair_ready(page, None)
        for _ in range(4):
            settled(page, fetched)
            before = list(fetched)
            assert set(shown) <= set(before)
            answer_button(page, "A is better").click()
            matchup, shown = pair_ready(page, matchup)
            assert set(shown) <= set(before), "the next pair was not loaded ahead"
        settled(page, fetched)
        assert len(fetched) == len(set(fetched)), [u for u in fetched if fetched.count(u) > 1]


def test_a_vote_runs_no_streamlit_script(client, board, browser) -> None:
    """After the page is drawn, votes go by HTTP only: the browser asks for no script run and
    the server finishes none (the WebSocket's BackMsg / ForwardMsg), the sidebar is not drawn
    again."""
    with served(client.db_path) as (_, url):
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        reruns: list[str] = []
        finished: list[str] = []

        def sent(payload) -> None:
            if isinstance(payload, bytes) and BackMsg.FromString(payload).WhichOneof("type") == "rerun_script":
                reruns.append("rerun")

        def received(payload) -> None:
            if isinstance(payload, bytes) and ForwardMsg.FromString(payload).WhichOneof("type") == "script_finished":
                finished.append("finished")

        page.on("websocket", lambda ws: (ws.on("framesent", sent), ws.on("framereceived", received)))
        page.goto(f"{url}?leaderboard={board.id}&rater=quiet")
        matchup, _ = pair_ready(page, None)
        settled(page, finished, 1500)  # the first drawing's messages
        counts = (len(reruns), len(finished))
        assert counts[1] >= 1  # the page was drawn by a script run, seen here
        page.evaluate("window.__sidebar = document.querySelector('[data-testid=\"stSidebar\"]')")
        for k in range(1, 4):
            answer_button(page, "A is better").click()
            matchup, _ = pair_ready(page, matchup)
            page.get_by_text(f"Your votes this session: {k}").wait_for()
        page.wait_for_timeout(1000)
        assert (len(reruns), len(finished)) == counts
        assert page.evaluate("window.__sidebar === document.querySelector('[data-testid=\"stSidebar\"]')")
        assert votes_in(client.db_path) == 3


def test_a_vote_while_the_server_is_down_is_not_saved(client, board, browser) -> None:
    """The server stops mid-session: a click says the vote was not saved, the pair stays, and
    nothing was stored."""
    with served(client.db_path) as (proc, url):
        page = open_rating(browser, url, board)
        matchup, _ = pair_ready(page, None)
        answer_button(page, "A is better").click()
        matchup, _ = pair_ready(page, matchup)
        assert votes_in(client.db_path) == 1
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        answer_button(page, "B is better").click()
        error = page.locator(".rater-pair .rater-error")
        error.wait_for(timeout=10_000)
        assert error.inner_text().startswith("Your vote was not saved")
        assert page.locator(".rater-pair").get_attribute("data-matchup") == matchup
        assert answer_button(page, "B is better").get_attribute("aria-disabled") == "false"  # try again
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "rater-pair-not-saved.png"))
    assert votes_in(client.db_path) == 1


@pytest.mark.parametrize("width, height, stacked", [(1280, 860, False), (390, 844, True)])
def test_the_sides_share_the_width_or_stack_on_a_phone(client, board, browser, width, height, stacked) -> None:
    with served(client.db_path) as (_, url):
        page = open_rating(browser, url, board, width, height)
        pair_ready(page, None)
        page.wait_for_timeout(300)
        a, b = (page.locator(".rater-sides .rater-media").nth(k).bounding_box() for k in (0, 1))
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"rater-pair-{width}.png"))
        for box in (a, b):
            assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["width"] > 0.3 * min(width, 700)
        if stacked:
            assert b["y"] >= a["y"] + a["height"]  # B under A
        else:
            assert a["y"] == b["y"] and b["x"] >= a["x"] + a["width"]  # B beside A
        buttons = [answer_button(page, label).bounding_box() for label in ("A is better", "B is better")]
        assert all(button["x"] + button["width"] <= width for button in buttons)


def test_enter_on_a_focused_answer_votes_and_keeps_the_focus(client, board, browser) -> None:
    """A keyboard user tabs to an answer and presses Enter: the vote is stored and the focus
    moves to the same answer of the next pair, so Enter again votes on that one."""
    with served(client.db_path) as (_, url):
        page = open_rating(browser, url, board)
        first, _ = pair_ready(page, None)
        answer_button(page, "B is better").focus()
        page.keyboard.press("Enter")
        second, _ = pair_ready(page, first)
        assert page.evaluate("document.activeElement.dataset.choice") == "right"
        page.keyboard.press("Enter")
        third, _ = pair_ready(page, second)
        assert stored_choices(client.db_path) == [(first, "right"), (second, "right")]


def test_arrow_keys_in_a_text_scroll_it_and_answer_nothing(client, browser, tmp_path) -> None:
    from rater.intake.media import write_texts

    prompts = ["Say a lot", "Say more"]
    lb = client.mri.create_new_leaderboard("Texts", "Which answer is better?", prompts)
    for k, model in enumerate(["m1", "m2"]):
        texts = ["\n".join(f"{model} {p} line {n}" for n in range(300)) for p in range(2)]
        lb.evaluate_model(model, write_texts(texts, tmp_path / "texts" / str(k)), prompts)
    with served(client.db_path) as (_, url):
        page = open_rating(browser, url, lb)
        posted = answers_posted(page)
        matchup, _ = pair_ready(page, None)
        box = page.locator(".rater-sides .rater-text").first
        box.focus()
        for _ in range(5):
            page.keyboard.press("ArrowDown")
        page.wait_for_timeout(500)
        assert box.evaluate("b => b.scrollTop") > 0  # the text scrolled
        assert posted == [] and votes_in(client.db_path) == 0
        assert page.locator(".rater-pair").get_attribute("data-matchup") == matchup
        box.evaluate("b => b.blur()")  # focus leaves the text: the key answers again
        page.keyboard.press("ArrowDown")
        pair_ready(page, matchup)
        assert stored_choices(client.db_path) == [(matchup, "tie")]


def test_after_the_last_pair_the_page_says_nothing_is_left(client, png, browser) -> None:
    """The reply to the last answer asks for the page to be drawn anew (``rerun``): Streamlit
    draws the closing screen with the session's votes; keys do nothing more."""
    lb = make_board(client, png, models=2, prompts=2, repeat_share=0.0)
    with served(client.db_path) as (_, url):
        page = open_rating(browser, url, lb)
        posted = answers_posted(page)
        replies: list = []
        page.on("response", lambda r: replies.append(r) if r.url.endswith("/_rater/answer") else None)
        first, _ = pair_ready(page, None)
        answer_button(page, "A is better").click()
        second, _ = pair_ready(page, first)
        page.keyboard.press("ArrowRight")
        page.get_by_text("Nothing left to show you").wait_for(timeout=20_000)
        page.get_by_text("Your votes this session: 2").wait_for()
        assert page.locator(".rater-pair").count() == 0
        assert replies[-1].json()["rerun"] is True
        page.keyboard.press("ArrowLeft")
        page.wait_for_timeout(500)
        assert len(posted) == 2
        assert stored_choices(client.db_path) == [(first, "left"), (second, "right")]


def test_the_page_drawn_again_keeps_the_pair_as_it_is(client, board, browser) -> None:
    """Streamlit runs the page again (its R key: a rerun) after votes: the component is given
    the same pair again and leaves it as it is (a video playing stays playing), and the keys
    still answer once."""
    with served(client.db_path) as (_, url):
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        finished: list[str] = []

        def received(payload) -> None:
            if isinstance(payload, bytes) and ForwardMsg.FromString(payload).WhichOneof("type") == "script_finished":
                finished.append("finished")

        page.on("websocket", lambda ws: ws.on("framereceived", received))
        posted = answers_posted(page)
        page.goto(f"{url}?leaderboard={board.id}&rater=again")
        matchup, _ = pair_ready(page, None)
        for _ in range(2):
            page.keyboard.press("ArrowLeft")
            matchup, _ = pair_ready(page, matchup)
        page.evaluate("window.__shown = document.querySelector('.rater-sides .rater-media')")
        runs = settled(page, finished)
        page.keyboard.press("r")  # Streamlit's own shortcut: run the page again
        for _ in range(100):
            if len(finished) > runs:
                break
            page.wait_for_timeout(100)
        assert len(finished) > runs, "the page was not run again"
        page.wait_for_timeout(500)
        assert page.evaluate("window.__shown === document.querySelector('.rater-sides .rater-media')")
        assert page.locator(".rater-pair").get_attribute("data-matchup") == matchup
        page.keyboard.press("ArrowRight")
        pair_ready(page, matchup)
        page.wait_for_timeout(500)
        assert len(posted) == 3 and [c for _, c in stored_choices(client.db_path)] == ["left", "left", "right"]


def test_the_prompt_asset_is_shown_above_the_pair(client, png, browser) -> None:
    """An edit board: the given image (the prompt's asset) above A and B, captioned "Given"."""
    lb = client.mri.create_new_leaderboard("Edits", "Which edit is better?", ["Make it blue"],
                                           prompt_assets=[png(900)], show_prompt_asset=True)
    for k, model in enumerate(["m1", "m2"]):
        lb.evaluate_model(model, [png(901 + k)], ["Make it blue"])
    with served(client.db_path) as (_, url):
        page = open_rating(browser, url, lb)
        pair_ready(page, None)
        given = page.locator(".rater-pair .rater-given")
        assert given.locator(".rater-caption").inner_text() == "Given"
        image = given.locator("img.rater-media")
        image.wait_for()
        page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=image.element_handle())
        assert page.request.get(image.evaluate("i => i.src")).body() == png(900).read_bytes()
        sides = page.locator(".rater-sides").bounding_box()
        box = image.bounding_box()
        assert box["y"] + box["height"] <= sides["y"]  # above the pair
        answers = answer_button(page, "A is better").bounding_box()
        assert answers["y"] + answers["height"] <= 860  # the answers on screen too
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "rater-pair-given.png"))
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_timeout(300)
        answers = answer_button(page, "A is better").bounding_box()
        assert answers["y"] + answers["height"] <= 844  # on a phone too
        page.screenshot(path=str(ARTIFACTS / "rater-pair-given-390.png"))
