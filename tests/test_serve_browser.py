"""End to end in real Chromium: ``rater serve`` as a subprocess, votes cast by clicking.

Needs Debian's ``chromium`` package (``/usr/bin/chromium``); skipped without it. A screenshot of
the rating screen is saved to ``test-artifacts/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlparse

import pytest

from rater import Client

from app_support import make_board
from browser_support import (  # noqa: F401  (browser: the fixture; the rest for other files)
    ARTIFACTS,
    BROWSER_MARKS,
    CHROMIUM,
    CHROMIUM_ARGS,
    browser,
    pair_ready,
    served,
)

pytestmark = BROWSER_MARKS


@pytest.fixture
def server(client, png):
    """A board of 3 models x 3 prompts (64 px PNGs) served by ``rater serve`` on a free port."""
    lb = make_board(client, png, models=3, prompts=3, show_prompt=True, repeat_share=0.0)
    with served(client.db_path) as (_, url):
        yield lb, url


def test_five_votes_by_clicking(server, browser):
    lb, url = server
    model_of = {path.stem: name for name in ("model-0", "model-1", "model-2")
                for paths in lb.model_media(name).values() for path in paths}
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(f"{url}?leaderboard={lb.id}")
    page.get_by_label("Your name").fill("e2e-rater")
    page.get_by_role("button", name="Start rating").click()
    plan = ["A is better", "B is better", "Can't decide", "B is better", "A is better"]
    expected: dict[str, list[int]] = {m: [0, 0] for m in model_of.values()}  # wins, ties
    key = None
    for k, label in enumerate(plan, start=1):
        key, shown = pair_ready(page, key)
        prompt = page.locator(".rater-pair .rater-prompt").inner_text()
        assert prompt.startswith("Prompt: ") and prompt.removeprefix("Prompt: ") in lb.prompts
        a, b = (model_of[hashlib.sha256(page.request.get(src).body()).hexdigest()] for src in shown)
        if label == "Can't decide":
            expected[a][1] += 1
            expected[b][1] += 1
        else:
            expected[a if label.startswith("A") else b][0] += 1
        if k == len(plan):
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "rater-e2e.png"))
        page.get_by_role("button", name=label).click()
        page.get_by_text(f"Your votes this session: {k}").wait_for(timeout=20_000)

    with Client(lb._client.db_path) as reader:
        board = reader.mri.get_leaderboard_by_id(lb.id)
        assert board.summary()["votes"] == 5
        standings = board.get_standings(n_bootstrap=0).set_index("name")
        got = {name: [int(standings.loc[name, "wins"]), int(standings.loc[name, "ties"])]
               for name in expected}
        assert got == expected
        [rater] = board.raters()
        assert (rater.name, rater.votes) == ("e2e-rater", 5)


def test_nothing_is_served_before_the_passcode(client, png, browser):
    """Before the passcode: no medium is asked for or sent, nothing names the board, and the
    answer and media routes know no session (a made-up token is a 404 and writes nothing)."""
    lb = make_board(client, png, models=2, prompts=1)
    media = lambda urls: [u for u in urls if urlparse(u).path.startswith(("/media/", "/_rater/media/"))]  # noqa: E731
    with served(client.db_path, "--host", "0.0.0.0",
                env={"RATER_PASSCODE": "let-me-in", "RATER_ADMIN_PASSCODE": "owner-code"}) as (proc, url):
        page = browser.new_page()
        requested: list[str] = []
        answered: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.on("response", lambda response: answered.append(response.url))
        page.goto(f"{url}?leaderboard={lb.id}")
        page.get_by_label("Passcode").wait_for()
        page.wait_for_timeout(1000)
        assert media(requested) == [] and media(answered) == []
        assert page.locator("img").count() == 0 and "Test board" not in page.content()
        assert page.locator(".rater-pair").count() == 0
        pair = lb.next_matchup("intruder")  # a real matchup id, a made-up token
        forged = page.request.post(f"{url}_rater/answer", data={
            "session": "made-up-token", "matchup": pair.id, "choice": "left"})
        assert forged.status == 404 and forged.json()["rerun"] is True
        name = "0" * 32 + ".png"
        assert page.request.get(f"{url}_rater/media/made-up-token/{name}").status == 404
        assert lb.summary()["votes"] == 0
        page.get_by_label("Passcode").fill("let-me-in")
        page.get_by_role("button", name="Enter").click()
        page.get_by_label("Your name").fill("ana")
        page.get_by_role("button", name="Start rating").click()
        pair_ready(page, None)
        assert media(requested)
    assert "let-me-in" not in proc.output and "owner-code" not in proc.output  # never printed


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from the parent ids in /proc/*/stat)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process went away
        parents[int(stat.parent.name)] = int(fields[1])
    tree, frontier = [pid], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        tree += children
        frontier = children
    return tree


def test_network_server_keeps_passcodes_off_command_lines_and_raters_off_owner_pages(
        client, png, browser, tmp_path):
    """``rater serve --host 0.0.0.0`` with the raters' passcode in a file and the admin
    passcode in the environment: neither is in the command line of the server or of any process
    it started; a rater past the gate cannot open the Raters page or the hidden standings."""
    lb = make_board(client, png, models=2, prompts=2, repeat_share=0.0)
    for rater in ("alice", "bob"):
        pair = lb.next_matchup(rater)
        lb.record_vote(pair.id, "left", rater)
    rate_code, admin_code = "rate-Xq7-passcode", "admin-Zr9-passcode"
    (tmp_path / "rate.txt").write_text(rate_code + "\n", encoding="utf-8")
    with served(client.db_path, "--host", "0.0.0.0", "--passcode-file", str(tmp_path / "rate.txt"),
                env={"RATER_PASSCODE": "", "RATER_ADMIN_PASSCODE": admin_code}) as (proc, url):
        pids = process_tree(proc.pid)
        cmdlines = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in pids]
        assert len(pids) >= 2 and any(b"streamlit" in c for c in cmdlines)  # serve and its child
        for cmdline in cmdlines:
            assert rate_code.encode() not in cmdline and admin_code.encode() not in cmdline

        page = browser.new_page()
        page.goto(f"{url}?leaderboard={lb.id}")
        page.get_by_label("Passcode").fill(rate_code)
        page.get_by_role("button", name="Enter").click()
        page.get_by_label("Your name").wait_for()
        for name in ("Raters", "Standings"):  # the top navigation, same browser session
            page.get_by_role("link", name=name).click()
            page.get_by_label("Admin passcode").wait_for()
            assert "alice" not in page.content() and "model-0" not in page.content()
        page.get_by_label("Admin passcode").fill(rate_code)  # the raters' passcode is not enough
        page.get_by_role("button", name="Enter").click()
        page.get_by_text("Wrong passcode.").wait_for()
        page.get_by_label("Admin passcode").fill(admin_code)
        page.get_by_role("button", name="Enter").click()
        page.get_by_text("2 votes counted").wait_for()  # the owner sees the standings
        page.get_by_role("link", name="Raters").click()
        page.get_by_role("button", name="Exclude from standings").wait_for()
    assert rate_code not in proc.output and admin_code not in proc.output
