"""Nothing from outside: a full rating session in real Chromium asks no host but the server.

``rater serve`` runs as a subprocess; every request the page makes (documents, scripts, fonts,
icons, media, the websocket, telemetry) is recorded while a rater opens the app, votes a few
times and opens the Raters and Standings pages. Any request to a host other than the server's
loopback address fails the test (Streamlit's Material Symbols page icon, for one, is fetched
from fonts.gstatic.com).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlparse

import pytest

from test_serve_browser import browser, pair_ready, server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LOCAL_SCHEMES = {"data", "blob", "about"}  # never leave the page


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in LOCAL_SCHEMES:
        return True
    host = parsed.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def test_is_local() -> None:
    assert is_local("http://127.0.0.1:8501/_stcore/health")
    assert is_local("ws://localhost:1/_stcore/stream") and is_local("data:image/svg+xml,<svg/>")
    assert not is_local("https://fonts.gstatic.com/s/i/short-term/release/x/24px.svg")
    assert not is_local("https://webhooks.fivetran.com/webhooks/x")


def test_a_rating_session_requests_nothing_from_outside(server, browser) -> None:  # noqa: F811
    lb, url = server
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    page.on("websocket", lambda ws: requested.append(ws.url))
    page.goto(f"{url}?leaderboard={lb.id}")
    page.get_by_label("Your name").fill("offline-rater")
    page.get_by_role("button", name="Start rating").click()
    key = None
    for k, label in enumerate(["A is better", "B is better", "Can't decide"], start=1):
        key, _ = pair_ready(page, key)
        page.get_by_role("button", name=label).click()
        page.get_by_text(f"Your votes this session: {k}").wait_for(timeout=20_000)
    for title in ("Raters", "Standings"):
        page.get_by_role("link", name=title, exact=True).click()
        page.get_by_role("heading", name=title).wait_for(timeout=20_000)
    page.get_by_role("link", name="Rate", exact=True).click()
    pair_ready(page, None)
    page.wait_for_timeout(1500)  # late requests: favicon, fonts, telemetry
    context.close()

    assert any("/_rater/media/" in u for u in requested) and any("/_rater/answer" in u for u in requested)
    assert any("/_stcore/stream" in u for u in requested)
    outside = sorted({u for u in requested if not is_local(u)})
    assert outside == [], f"requests to other hosts: {outside}"


def test_streamlit_sends_no_telemetry_and_skips_the_post_run_gc() -> None:
    from rater.app.serve import streamlit_command

    cmd = streamlit_command(9000)
    options = dict(zip(cmd[5::2], cmd[6::2]))
    assert options["--browser.gatherUsageStats"] == "false"
    assert options["--runner.postScriptGC"] == "false"  # a full GC after every click
