"""One full invite-link session in real Chromium against ``rater serve`` on a network host with
passcodes: open the personal link (no passcode asked), pass the qualification (two gold pairs,
answered right), vote up to the quota, get the completion code (the one stored) and the link to
the study's completion page. The token never appears in
the server's output; the static site built afterwards names no worker id, pseudonym or token."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


from app_support import make_board
from browser_support import BROWSER_MARKS, browser, pair_ready  # noqa: F401  (the fixture)
from test_app_serve import free_port, start_server, stop_server, wait_healthy

pytestmark = BROWSER_MARKS

DONE_URL = "https://example.org/complete?cc=STUDY1"


def test_invite_link_session_to_completion_code(client, png, browser, tmp_path: Path) -> None:  # noqa: F811
    lb = make_board(client, png, models=3, prompts=3, repeat_share=0.0)
    ident = lb.identifiers[0]
    lb.add_gold_pairs([(png(900 + k), png(950 + k), ident) for k in range(2)])
    lb.set_quality_rules(qualification_pairs=2, qualification_required=2, gold_share=0.0)
    audience = client.audience.create_audience("Experts")
    audience.attach(lb)
    port = free_port()
    quota = 4  # two qualification answers and two counted votes
    [invite] = audience.invite(lb, count=1, quota=quota, completion_url=DONE_URL,
                               base_url=f"http://127.0.0.1:{port}/")
    token = parse_qs(urlsplit(invite.url).query)["invite"][0]
    proc = start_server(client.db_path, port, "--host", "0.0.0.0",
                        env={"RATER_PASSCODE": "let-me-in", "RATER_ADMIN_PASSCODE": "owner-code"})
    try:
        wait_healthy(f"http://127.0.0.1:{port}/", proc)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        replies = []  # the pair component's answers: /_rater/answer's replies
        page.on("response", lambda r: replies.append(r) if r.url.endswith("/_rater/answer") else None)
        page.goto(invite.url)
        key = None
        gold_served = []
        for k in range(1, quota + 1):
            key, _ = pair_ready(page, key)
            assert page.get_by_label("Passcode").count() == 0 and page.get_by_label("Your name").count() == 0
            served = _last_served(client.db_path, invite.rater)  # the pair on screen now
            gold_served.append(served is not None)
            # a gold pair: answer it right (A is the left side); any other pair: A
            side = "A" if served is None or served[0] == served[1] else "B"
            page.get_by_role("button", name=f"{side} is better").click()
            if k < quota:
                page.get_by_text(f"Your votes this session: {k}").wait_for(timeout=20_000)
        assert gold_served == [True, True, False, False]  # the qualification comes first
        page.get_by_text("Your completion code:").wait_for(timeout=20_000)
        views = [r.json() for r in replies]
        assert len(views) == quota and all(v["pair"] for v in views[:-1])
        assert views[-1]["rerun"] is True and "pair" not in views[-1]  # the quota: drawn anew
        shown = page.locator('[data-testid="stCode"]').inner_text().strip()
        finish = page.get_by_role("link", name="Finish on the study's page")
        assert finish.get_attribute("href") == DONE_URL
        assert page.locator(".rater-pair").count() == 0  # no more pairs
    finally:
        out = stop_server(proc)
    assert token not in out
    conn = sqlite3.connect(client.db_path)
    code, votes = conn.execute(
        "SELECT completion_code, (SELECT count(*) FROM votes WHERE rater = ?) FROM audience_raters WHERE rater = ?",
        (invite.rater, invite.rater)).fetchone()
    assert (shown, votes) == (code, quota)
    [qualified] = conn.execute("SELECT qualified FROM raters WHERE name = ?", (invite.rater,)).fetchone()
    assert qualified == 1 and [r.name for r in lb.raters() if not r.excluded] == [invite.rater]

    from site_builder import build_site

    secret = parse_qs(urlsplit(audience.open_study(lb)).query)["study"][0]
    worker = client.audience.admit_worker(audience.id, secret, {"PROLIFIC_PID": "PIDSECRET123"})
    matchup = lb.next_matchup(worker.rater)
    lb.record_vote(matchup.id, "right", worker.rater)
    site = tmp_path / "site"
    build_site(client.db_path, site, progress=None)
    for path in site.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".csv", ".json", ".txt", ".svg", ".xml"):
            text = path.read_text(errors="replace")
            for leak in ("PIDSECRET123", invite.rater, token, audience.id):
                assert leak not in text, (path, leak)


def _last_served(db: Path, rater: str) -> tuple[int, int] | None:
    """``(left media, better media)`` of the pair on the rater's screen (the oldest one served
    and not yet answered: the app serves the next pair ahead) if it is a gold pair, else None."""
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT m.left_media, g.better_media FROM matchups m LEFT JOIN gold_pairs g ON g.id = m.gold_pair "
            "WHERE m.rater = ? AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.matchup_id = m.id) "
            "ORDER BY m.served_at, m.rowid LIMIT 1", (rater,)).fetchone()
    finally:
        conn.close()
    return None if row is None or row[1] is None else (int(row[0]), int(row[1]))
