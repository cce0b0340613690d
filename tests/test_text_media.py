"""Text media (an LLM's answers, the SDK's ``data_type="text"``): stored like any blob, shown as
plain text in a scrolling box by the rater app and on the site.

Real files written by :func:`write_texts` (or by hand, for the bad ones), a real database in
``tmp_path``, the app driven with AppTest, the site built and parsed with BeautifulSoup.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from rater import Client
from rater.errors import DuplicateMediaWarning, MediaError, ValidationError
from rater.intake.gc import GRACE_SECONDS, collect_garbage
from rater.intake.media import (
    DEFAULT_MAX_TEXT_BYTES,
    display_file,
    inspect_media,
    store_blob,
    write_texts,
)
from rater.store.files import blob_file

from app_support import answer, open_app, pair_view, session

PROMPTS = ["What is 2+2?", "Name a prime."]
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
MARKDOWN = "**bold** _it_ # not a heading\n\n- item\n[link](https://example.com) :smile:"
LONG = " ".join(f"word{i}" for i in range(2_500))[:20_000]  # a 20,000-character answer
SECRET = "SECRETMODELNAME"


def blobs(client: Client) -> dict[str, tuple]:
    """Every blob row: sha256 -> (kind, mime, ext, size)."""
    rows = client.store.conn.execute("SELECT sha256, kind, mime, ext, size FROM blobs").fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def text_board(client: Client, tmp_path: Path, answers: dict[str, list[str]], **options):
    """A board over PROMPTS[:n] whose models answer with ``answers[model]`` (written by
    :func:`write_texts`, as the API does for ``data_type="text"``)."""
    n = len(next(iter(answers.values())))
    lb = client.mri.create_new_leaderboard("Answers", "Which answer is better?", PROMPTS[:n], **options)
    for k, (model, texts) in enumerate(answers.items()):
        lb.evaluate_model(model, write_texts(texts, tmp_path / "texts" / str(k)), PROMPTS[:n])
    return lb


# -- intake ----------------------------------------------------------------------------------

def test_a_text_is_stored_by_the_hash_of_its_utf8_bytes_once(client, tmp_path):
    shared, own = "Four. 🙂 Ünïcode", "2+2 = 4"
    import warnings

    with warnings.catch_warnings():  # two models giving the same answer is no copy mistake
        warnings.simplefilter("error", DuplicateMediaWarning)
        text_board(client, tmp_path, {"m1": [shared, own], "m2": [shared, "Seven"]})
    sha = hashlib.sha256(shared.encode("utf-8")).hexdigest()
    found = blobs(client)
    assert len(found) == 3  # the shared answer is stored once
    assert found[sha] == ("text", "text/plain; charset=utf-8", "txt", len(shared.encode("utf-8")))
    stored = blob_file(client.store.media_dir, sha, "txt")
    assert stored.read_bytes() == shared.encode("utf-8")
    assert sorted(p.name for p in stored.parent.iterdir()) == [stored.name]  # no preview beside it
    assert display_file(stored) == stored


def test_write_texts_writes_exact_utf8_files(tmp_path):
    texts = ["line one\r\nline two\n", MARKDOWN, HOSTILE]
    paths = write_texts(texts, tmp_path / "new" / "folder")
    assert [p.name for p in paths] == ["0.txt", "1.txt", "2.txt"]
    assert [p.read_bytes() for p in paths] == [t.encode("utf-8") for t in texts]  # no newline rewriting
    media = inspect_media(paths[0])
    assert (media.kind, media.ext, media.width, media.sha256) == (
        "text", "txt", 0, hashlib.sha256(texts[0].encode()).hexdigest())


@pytest.mark.parametrize("texts, error, message", [
    ("just one string", ValidationError, r"media must be a list of texts, got a single str"),
    (["ok", b"bytes"], ValidationError, r"media\[1\] must be a text \(str\), got bytes"),
    (["ok", None], ValidationError, r"media\[1\] must be a text \(str\), got NoneType"),
    (["ok", "  \n\t "], MediaError, r"media\[1\] is empty \(only whitespace"),
    (["", "ok"], MediaError, r"media\[0\] is empty: a text medium must show something"),
    (["ok", "\u200b\ufeff"], MediaError, r"media\[1\] is empty \(only whitespace or invisible"),
    (["ok", "a\x00b"], MediaError, r"media\[1\] contains a NUL byte \(at byte 1\)"),
    (["ok", "bad \ud800 surrogate"], MediaError, r"media\[1\] cannot be stored as UTF-8: .*lone surrogate"),
    (["ok", "é" * (DEFAULT_MAX_TEXT_BYTES // 2 + 1)], MediaError,
     r"media\[1\] is too large: 200,002 bytes of UTF-8 text, the limit is 200,000"),
])
def test_write_texts_refuses_bad_items_and_writes_nothing(tmp_path, texts, error, message):
    folder = tmp_path / "out"
    with pytest.raises(error, match=message) as caught:
        write_texts(texts, folder)
    assert "\n" not in str(caught.value)
    assert not folder.exists()  # all or nothing: not even the good first item


def test_write_texts_never_replaces_a_file(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "1.txt").write_text("precious", encoding="utf-8")
    with pytest.raises(MediaError, match=r"1\.txt already exists"):
        write_texts(["a", "b"], folder)
    assert sorted(p.name for p in folder.iterdir()) == ["1.txt"]
    assert (folder / "1.txt").read_text(encoding="utf-8") == "precious"
    assert write_texts(["x"], tmp_path / "small", max_bytes=1) == [tmp_path / "small" / "0.txt"]
    with pytest.raises(MediaError, match=r"too large: 2 bytes"):
        write_texts(["xy"], tmp_path / "small2", max_bytes=1)


@pytest.mark.parametrize("name, content, message", [
    ("latin1.txt", "café au lait".encode("latin-1"), r"is not valid UTF-8 \(byte 3 is b'\\xe9'\)"),
    ("utf16.txt", "hello".encode("utf-16"), r"not valid UTF-8|NUL byte"),
    ("nul.md", b"text\x00more", r"contains a NUL byte \(at byte 4\)"),
    ("blank.txt", b" \n\r\n\t", r"is empty \(only whitespace"),
    ("big.txt", b"a" * (DEFAULT_MAX_TEXT_BYTES + 1), r"is too large: 200,001 bytes, the limit is 200,000"),
])
def test_bad_text_files_are_refused_and_nothing_is_stored(client, tmp_path, name, content, message):
    lb = client.mri.create_new_leaderboard("Answers", "Which answer is better?", PROMPTS[:1])
    good = write_texts(["fine"], tmp_path / "good")[0]
    path = tmp_path / "bad" / name
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(MediaError, match=message) as caught:
        inspect_media(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    lb.evaluate_model("m", [good], PROMPTS[:1])
    with pytest.raises(MediaError, match=message):
        lb.evaluate_model("m2", [path], PROMPTS[:1])
    assert [m.name for m in lb.models()] == ["m"]
    assert len(blobs(client)) == 1


def test_markdown_files_are_texts_and_binary_recognition_is_unchanged(tmp_path, png):
    notes = tmp_path / "answer.md"
    notes.write_text("# Title\n\n**bold**", encoding="utf-8")
    assert inspect_media(notes).kind == "text" and inspect_media(notes).ext == "txt"
    bmw = tmp_path / "bmw.txt"  # starts like a BMP header, but is text
    bmw.write_text("BMW makes cars.", encoding="utf-8")
    assert inspect_media(bmw).kind == "text"
    picture = tmp_path / "picture.txt"  # a PNG under a text name is still a PNG
    picture.write_bytes(png(1).read_bytes())
    assert (inspect_media(picture).kind, inspect_media(picture).ext) == ("image", "png")
    text_png = tmp_path / "notes.png"  # text under an image name is still refused
    text_png.write_text("not a picture", encoding="utf-8")
    with pytest.raises(MediaError, match="not a supported media file"):
        inspect_media(text_png)
    with pytest.raises(MediaError, match=r"is too large: 17 bytes, the limit is 10"):
        inspect_media(tmp_path / "answer.md", max_text_bytes=10)


def test_gc_and_backup_treat_text_blobs_like_others(client, tmp_path):
    text_board(client, tmp_path, {"m1": ["one", "two"], "m2": ["three", "four"]})
    media = client.store.media_dir
    used = sorted(media.rglob("*.txt"))
    assert len(used) == 4
    old = time.time() - 2 * GRACE_SECONDS
    loose = inspect_media(write_texts(["never committed"], tmp_path / "loose")[0])
    store_blob(media, loose)  # a blob whose upload's transaction never committed
    loose_path = blob_file(media, loose.sha256, "txt")
    for path in [*used, loose_path]:
        os.utime(path, (old, old))
    result = collect_garbage(client.store, delete=True)
    assert [item.path for item in result.leftovers] == [loose_path]
    assert not loose_path.exists() and all(p.is_file() for p in used)
    copy = client.backup(tmp_path / "backup" / "copy.db")
    assert copy.media_copied == 4 and not copy.media_missing
    for path in used:
        assert (tmp_path / "backup" / "media" / path.relative_to(media)).read_bytes() == path.read_bytes()
    with Client(tmp_path / "backup" / "copy.db") as restored:
        assert {row[0] for row in blobs(restored).values()} == {"text"}


# -- the rater app ---------------------------------------------------------------------------

def all_text(at) -> str:
    """Every element's protobuf, main area and sidebar, columns and boxes included."""
    def walk(node):
        yield str(getattr(node, "proto", ""))
        for child in getattr(node, "children", {}).values():
            yield from walk(child)
    return "\n".join(part for root in (at.main, at.sidebar) for part in walk(root))


def text_sides(at) -> list[dict[str, str]]:
    """The A and B sides of the pair component's view, in order (a text side: kind and text)."""
    view = pair_view(at)
    return [view["pair"]["left"], view["pair"]["right"]] if view and view["pair"] else []


def test_the_app_shows_both_texts_as_plain_text_in_scroll_boxes(client, tmp_path, monkeypatch):
    answers = {f"{SECRET}-a": [HOSTILE], f"{SECRET}-b": [MARKDOWN], f"{SECRET}-c": [LONG]}
    lb = text_board(client, tmp_path, answers, repeat_share=0.0)
    at = open_app(monkeypatch, client.db_path, lb.id, rater="alice")
    assert not at.exception, at.exception
    shown: set[str] = set()
    for _ in range(3):
        pair = session(at, lb.id).current
        sides = text_sides(at)
        # the component puts each text in a .rater-text box as textContent: exactly as written,
        # no file URL, nothing else (the boxes' heights: the Chromium test below)
        assert sides == [{"kind": "text", "text": answers[pair.left.model][0]},
                         {"kind": "text", "text": answers[pair.right.model][0]}]
        assert pair_view(at)["next"] == []  # a text is in the view itself, nothing to load
        # Never Markdown or HTML: no Markdown element carries the texts, nothing names a model.
        assert not [m for m in at.markdown if "script" in m.value or "bold" in m.value]
        assert not at.text and not at.code
        everything = all_text(at)
        assert SECRET not in everything and pair.left.model not in everything
        shown.update(side["text"] for side in sides)
        answer(at, "left")
        if session(at, lb.id).current is None:
            break
    assert LONG in shown  # the 20,000-character answer was shown whole


def test_a_vote_on_a_text_pair_is_stored(client, tmp_path, monkeypatch):
    lb = text_board(client, tmp_path, {"m1": ["Four."], "m2": ["It is 5."]})
    at = open_app(monkeypatch, client.db_path, lb.id, rater="alice")
    pair = session(at, lb.id).current
    answer(at, "right")
    [row] = client.store.conn.execute(
        "SELECT v.choice, v.rater FROM votes v JOIN matchups m ON m.id = v.matchup_id "
        "WHERE m.id = ?", (pair.id,)).fetchall()
    assert tuple(row) == ("right", "alice")
    standings = lb.get_standings().set_index("name")
    assert standings.loc[pair.right.model, "wins"] == 1


def test_a_text_prompt_asset_is_shown_as_text_too(client, tmp_path, monkeypatch):
    [asset] = write_texts(["Context: <i>the user's question</i>"], tmp_path / "asset")
    lb = client.mri.create_new_leaderboard("Answers", "Which answer is better?", PROMPTS[:1],
                                           prompt_assets=[asset], show_prompt_asset=True)
    for k, answer_text in enumerate(["Four.", "It is 5."]):
        lb.evaluate_model(f"m{k}", write_texts([answer_text], tmp_path / str(k)), PROMPTS[:1])
    at = open_app(monkeypatch, client.db_path, lb.id, rater="alice")
    assert not at.exception, at.exception
    assert pair_view(at)["pair"]["given"] == {"kind": "text",
                                               "text": "Context: <i>the user's question</i>"}
    assert sorted(side["text"] for side in text_sides(at)) == ["Four.", "It is 5."]


def test_a_text_removed_from_disk_is_skipped_not_shown(client, tmp_path, monkeypatch):
    lb = text_board(client, tmp_path, {"m1": ["Four."], "m2": ["It is 5."], "m3": ["Quatre."]})
    gone = blob_file(client.store.media_dir, hashlib.sha256(b"Quatre.").hexdigest(), "txt")
    gone.unlink()
    at = open_app(monkeypatch, client.db_path, lb.id, rater="alice")
    assert not at.exception, at.exception
    assert sorted(side["text"] for side in text_sides(at)) == ["Four.", "It is 5."]
    assert {session(at, lb.id).current.left.model, session(at, lb.id).current.right.model} == {"m1", "m2"}


# -- the site --------------------------------------------------------------------------------

SITE_ANSWERS = {  # best first (vote_until makes the earlier model win)
    "m-script": [HOSTILE, "2 & 3 <b>are</b> primes"],
    "m-markdown": [MARKDOWN, "7"],
    "m-long": [LONG, "x" * 400],
}


@pytest.fixture
def text_site(client, tmp_path):
    """A text board with votes (every model ranked, so the podium shows all three), built."""
    from site_builder import build_site
    from site_support import vote_until

    lb = text_board(client, tmp_path, SITE_ANSWERS, min_votes=0)
    vote_until(lb, 24, list(SITE_ANSWERS))
    result = build_site(client.db_path, tmp_path / "site", progress=None)
    assert not result.failed, result.failed
    return tmp_path / "site", tmp_path / "site" / "boards" / lb.id


def boxes_of(soup) -> list:
    return soup.select("div.text-out")


def check_box(box, expected: str, limit: int, page: Path, site: Path) -> None:
    """One text box: the text itself, escaped (no element inside), cut at ``limit`` characters
    with a link to the whole file, which holds the exact UTF-8 bytes."""
    assert box.find(True) is None  # nothing the text says became an element
    shown = expected if len(expected) <= limit else expected[:limit] + "…"
    assert box.get_text() == shown
    assert box["role"] == "region" and box["tabindex"] == "0" and box["aria-label"]
    link = box.find_next_sibling("a")
    assert "text-file" in link["class"] and link.has_attr("download")
    target = (page.parent / link["href"]).resolve()
    assert target.is_relative_to(site.resolve()) and target.suffix == ".txt"
    assert target.read_bytes() == expected.encode("utf-8")
    if len(expected) > limit:
        assert link.get_text() == f"Whole text ({len(expected):,} characters)"


def no_injected_markup(soup) -> None:
    assert not [s for s in soup.find_all("script") if not s.get("src")]  # no inline script at all
    assert not soup.select(".text-out b, .text-out img, .text-out strong, .text-out h1")
    assert not [img for img in soup.find_all("img") if img.get("src", "").endswith(".txt")]


def test_the_site_shows_texts_escaped_in_scroll_boxes(text_site):
    from site_support import parse

    site, board = text_site
    texts = {model: answers for model, answers in SITE_ANSWERS.items()}
    page = board / "index.html"
    soup = parse(page)
    no_injected_markup(soup)
    podium = soup.select("ol.podium li")
    assert len(podium) == 3
    for li in podium:  # each podium model's answer to the showcased prompt (prompt 1: all have it)
        model = li.select_one("a.name").get_text()
        [box] = boxes_of(li)
        check_box(box, texts[model][0], 1200, page, site)
    for number in (1, 2):
        page = board / "prompts" / f"{number}.html"
        soup = parse(page)
        no_injected_markup(soup)
        cards = soup.select(".media-grid .media-card")
        assert [c.select_one(".who a").get_text() for c in cards] == list(SITE_ANSWERS)  # by rank
        for card, model in zip(cards, SITE_ANSWERS):
            [box] = boxes_of(card)
            check_box(box, texts[model][number - 1], 5000, page, site)
    models = sorted((board / "models").glob("*.html"))
    assert len(models) == 3
    for page in models:
        soup = parse(page)
        no_injected_markup(soup)
        model = soup.select_one("h1").get_text()
        rows = soup.select("table.sortable tbody tr")[-2:]  # the per-prompt table
        for number, row in enumerate(rows):
            [box] = boxes_of(row)
            assert "sm" in box["class"]
            check_box(box, texts[model][number], 300, page, site)
    index = parse(site / "index.html")
    assert index.select_one(".thumb.lg").get_text() == "¶"  # no picture of a text: its mark


@pytest.mark.slow
def test_text_pages_pass_the_nu_html_checker(text_site):
    from test_site_html_valid import check_pages

    check_pages(text_site[0])


@pytest.mark.browser
@pytest.mark.slow
def test_in_chromium_texts_scroll_in_equal_boxes_and_run_nothing(client, tmp_path):
    """``rater serve`` in real Chromium: the hostile text is shown as its characters (no dialog
    opens, no element comes of it), the 20,000-character answer scrolls inside a box as tall as
    its neighbour's (the pair component's ``.rater-text`` boxes), and a click stores the vote."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from test_app_serve import free_port, start_server, stop_server, wait_healthy
    from test_serve_browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium (apt-get install chromium)")
    lb = text_board(client, tmp_path, {"m1": [HOSTILE + "\n" + MARKDOWN], "m2": [LONG]})
    port = free_port()
    proc = start_server(client.db_path, port, env={"RATER_PASSCODE": "", "RATER_ADMIN_PASSCODE": ""})
    try:
        wait_healthy(f"http://127.0.0.1:{port}/", proc)
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(f"http://127.0.0.1:{port}/?leaderboard={lb.id}&rater=alice")
            boxes = page.locator(".rater-pair .rater-side .rater-text")
            boxes.nth(1).wait_for(timeout=30_000)
            page.wait_for_timeout(500)  # the onerror image, were it an element, would fire by now
            assert boxes.count() == 2
            found = page.evaluate("""() => [...document.querySelectorAll('.rater-side .rater-text')]
                .map(box => ({text: box.textContent, elements: box.querySelectorAll('*').length,
                              overflow: getComputedStyle(box).overflowY,
                              height: box.clientHeight, scroll: box.scrollHeight}))""")
            assert sorted(b["text"] for b in found) == sorted([HOSTILE + "\n" + MARKDOWN, LONG])
            assert [b["elements"] for b in found] == [1, 1]  # its <pre> only: no <script>, <img>, <b>
            assert {b["overflow"] for b in found} == {"auto"}
            (h1, s1), (h2, s2) = ((b["height"], b["scroll"]) for b in found)
            assert h1 == h2 and 400 < h1 <= 480  # the same fixed height for both
            assert max(s1, s2) > 5 * h1  # the long answer scrolls inside its box
            page.locator('.rater-pair button.rater-button[data-choice="left"]').click()
            # the board's only pair: the reply asks for a rerun, and the page says nothing is left
            page.get_by_text("Nothing left to show you").wait_for(timeout=20_000)
            page.get_by_text("Your votes this session: 1").wait_for(timeout=5_000)
            assert page.locator(".rater-text").count() == 0
            assert dialogs == []
            browser.close()
    finally:
        stop_server(proc)
    with Client(client.db_path) as reader:
        assert reader.mri.get_leaderboard_by_id(lb.id).summary()["votes"] == 1
