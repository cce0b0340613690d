"""The built site in real Chromium, opened from disk: no request leaves the site folder.

Screenshots (light, dark, phone) go to ``test-artifacts/site/`` under the repository root.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from site_builder import build_site
from site_support import make_database

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "site"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    db, _images, _audio = make_database(folder)
    out = folder / "site"
    build_site(db, out, progress=None)
    return out


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


VIEWS = {
    "light-wide": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "light"},
    "dark-wide": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "dark"},
    "light-phone": {"viewport": {"width": 390, "height": 844}, "color_scheme": "light",
                    "device_scale_factor": 2, "is_mobile": True, "has_touch": True},
    "dark-phone": {"viewport": {"width": 390, "height": 844}, "color_scheme": "dark",
                   "device_scale_factor": 2, "is_mobile": True, "has_touch": True},
}


@pytest.mark.parametrize("view", list(VIEWS))
def test_pages_load_from_disk_without_outside_requests(site: Path, browser, view: str) -> None:  # type: ignore[no-untyped-def]
    board = next((site / "boards").iterdir())
    targets = {"index": site / "index.html", "board": board / "index.html",
               "prompt": board / "prompts" / "1.html"}
    context = browser.new_context(**VIEWS[view])
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: errors.append(f"dialog: {d.message}"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    root = site.resolve().as_uri()
    for name, path in targets.items():
        page.goto(path.resolve().as_uri())
        page.wait_for_load_state("load")
        page.screenshot(path=str(ARTIFACTS / f"{name}-{view}.png"), full_page=True)
        assert page.locator("h1").count() == 1
        if name == "board":
            assert page.locator("table.standings tbody tr").count() >= 2
            assert page.locator("svg").count() >= 3
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= VIEWS[view]["viewport"]["width"] + 1, "no sideways scrolling of the page"
    context.close()
    outside = [u for u in requests if not u.startswith(root + "/")]
    assert not outside, f"requests left the site folder: {outside}"
    assert not errors, errors
    assert len(requests) > 10


def test_sorting_enhances_but_is_optional(site: Path, browser) -> None:  # type: ignore[no-untyped-def]
    board = next((site / "boards").iterdir()) / "index.html"
    for javascript in (False, True):
        context = browser.new_context(java_script_enabled=javascript)
        page = context.new_page()
        page.goto(board.resolve().as_uri())
        first = page.locator("table.standings tbody tr td:nth-child(2)").first.inner_text()
        assert first.strip()
        if javascript:
            page.locator("table.standings thead th:nth-child(2) button").click()
            page.locator("table.standings thead th:nth-child(2) button").click()
            assert page.locator("table.standings thead th:nth-child(2)").get_attribute(
                "aria-sort") == "descending"
        context.close()


def test_score_chart_fills_its_card_legibly_and_players_load_nothing(site: Path, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(**VIEWS["light-wide"])
    page = context.new_page()
    media: list[str] = []
    page.on("request", lambda r: media.append(r.url) if r.resource_type == "media" else None)
    found = 0
    for board in sorted((site / "boards").iterdir()):
        page.goto((board / "index.html").resolve().as_uri())
        page.wait_for_load_state("load")
        shown = page.evaluate("""() => {
            const svg = document.querySelector('#scores svg');
            const card = svg.closest('section');
            const style = getComputedStyle(card);
            const inner = card.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            const sizes = [...svg.querySelectorAll('text')].map(
                t => parseFloat(getComputedStyle(t).fontSize) * scale);
            return {width: svg.getBoundingClientRect().width, inner, smallest: Math.min(...sizes)};
        }""")
        assert shown["width"] >= 0.95 * shown["inner"], shown
        assert shown["smallest"] >= 12, shown
        players = page.locator("ol.podium audio, ol.podium video")
        found += players.count()
        assert all(players.nth(k).evaluate("p => p.paused") for k in range(players.count()))
    assert found >= 2, "the audio board's podium has players"
    assert not media, f"players fetched media before being played: {media}"
    context.close()
