"""The rating app with audiences, driven by Streamlit's AppTest through the query string: an
invite link admits and identifies its rater (in place of the passcode), a typed name is refused
on an audience board, the quota ends in a stored completion code, refused links show why and
nothing else, and a Prolific study link admits the worker under their PID."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from app_support import APP, SECRET, click, labels, make_board, open_app, page_text, pair_view, start
from rater import Client, Leaderboard
from rater.app import pair_api
from rater.app.session import escape_markdown

ANSWERS = ("A is better", "B is better")


def _linked(monkeypatch: pytest.MonkeyPatch, db: Path, params: dict[str, str], passcode: str | None = None) -> AppTest:
    monkeypatch.setenv("RATER_DB", str(db))
    monkeypatch.setenv("RATER_HOST", "127.0.0.1")
    if passcode:
        monkeypatch.setenv("RATER_PASSCODE", passcode)
    else:
        monkeypatch.delenv("RATER_PASSCODE", raising=False)
    monkeypatch.delenv("RATER_ADMIN_PASSCODE", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _rating(at: AppTest) -> bool:
    return any(label in labels(at) for label in ANSWERS)


@pytest.fixture
def board(client: Client, png: Callable[..., Path]) -> Leaderboard:
    lb = make_board(client, png, models=3, prompts=2, repeat_share=0.0)
    audience = client.audience.create_audience("Experts")
    audience.attach(lb)
    return lb


def _audience(client: Client):
    [found] = client.audience.find_audiences("Experts")
    return found


def test_invite_link_admits_without_passcode_and_identifies(client, board, monkeypatch) -> None:
    [invite] = _audience(client).invite(board, count=1)
    at = _linked(monkeypatch, client.db_path, _query(invite.url), passcode="s3cret")
    assert not at.exception, at.exception
    assert not [t for t in at.text_input if t.label == "Passcode"]  # the link replaces it
    assert _rating(at)
    assert f"Rating as **{escape_markdown(invite.rater)}**" in at.sidebar.markdown[0].value
    assert "Change name or leaderboard" not in labels(at)
    click(at, "A is better")
    [(rater, count)] = client.store.conn.execute(
        "SELECT rater, count(*) FROM votes GROUP BY rater").fetchall()
    assert (rater, count) == (invite.rater, 1)  # the vote carries the link's identity
    assert SECRET not in page_text(at)


def test_typed_name_is_refused_on_an_audience_board(client, board, png, monkeypatch) -> None:
    at = open_app(monkeypatch, client.db_path, board.id, rater="mallory")
    assert "open only to invited raters" in page_text(at)
    assert not _rating(at)
    at = open_app(monkeypatch, client.db_path, board.id)
    start(at, "mallory")
    assert "open only to invited raters" in page_text(at) and not _rating(at)
    assert client.store.conn.execute("SELECT count(*) FROM matchups").fetchone()[0] == 0
    other = make_board(client, png, models=2, prompts=1)  # no audience: the typed name still works
    at = open_app(monkeypatch, client.db_path, other.id, rater="bob")
    assert _rating(at)


def test_quota_ends_with_a_stored_completion_code(client, board, monkeypatch) -> None:
    [invite] = _audience(client).invite(board, count=1, quota=2, completion_url="https://example.org/done?cc=X1")
    at = _linked(monkeypatch, client.db_path, _query(invite.url))
    click(at, "A is better")
    assert _rating(at)
    click(at, "B is better")
    assert not _rating(at)
    [code] = [c.value for c in at.code]
    stored = client.store.conn.execute("SELECT completion_code FROM audience_raters WHERE rater = ?",
                                       (invite.rater,)).fetchone()[0]
    assert code == stored and len(code) == 10
    [link] = at.get("link_button")
    assert link.proto.url == "https://example.org/done?cc=X1"
    again = _linked(monkeypatch, client.db_path, _query(invite.url))  # coming back: the same code
    assert [c.value for c in again.code] == [code] and not _rating(again)
    assert client.store.conn.execute("SELECT count(*) FROM votes").fetchone()[0] == 2


def test_revoked_expired_and_unknown_links_show_why_and_nothing_else(client, board, monkeypatch) -> None:
    audience = _audience(client)
    [revoked, expired] = audience.invite(board, count=2)
    at = _linked(monkeypatch, client.db_path, _query(revoked.url))
    assert _rating(at)
    client.audience.revoke(_query(revoked.url)["invite"])
    at.run()  # the same session, next click: refused now
    assert "revoked" in at.error[0].value and not _rating(at)
    with client.store.write() as conn:
        conn.execute("UPDATE audience_raters SET expires_at = 1e9 WHERE rater = ?", (expired.rater,))
    for params, message in ((_query(expired.url), "expired"), ({"invite": "x" * 32}, "not valid"),
                            ({"invite": "<script>"}, "not valid")):
        at = _linked(monkeypatch, client.db_path, params, passcode="s3cret")
        assert message in at.error[0].value
        assert not _rating(at) and not at.text_input  # no rating screen, no passcode form either
    served = client.store.conn.execute("SELECT DISTINCT rater FROM matchups").fetchall()
    assert served == [(revoked.rater,)]  # nothing was stored for the refused links


def test_prolific_study_link_admits_under_the_pid(client, board, monkeypatch) -> None:
    link = _audience(client).open_study(board, quota=1)
    params = {**_query(link), "PROLIFIC_PID": "5f1a2b3c4d5e6f7a8b9c0d1e", "STUDY_ID": "st1", "SESSION_ID": "se1"}
    at = _linked(monkeypatch, client.db_path, params, passcode="s3cret")
    assert _rating(at)
    assert escape_markdown("prolific:5f1a2b3c4d5e6f7a8b9c0d1e") in at.sidebar.markdown[0].value
    click(at, "A is better")
    assert len(at.code) == 1 and not _rating(at)  # quota 1: done
    assert client.store.conn.execute("SELECT rater FROM votes").fetchall() == [("prolific:5f1a2b3c4d5e6f7a8b9c0d1e",)]
    forged = _linked(monkeypatch, client.db_path, {**params, "study": "guessed", "PROLIFIC_PID": "other"})
    assert "not valid" in forged.error[0].value and not _rating(forged)


def test_standings_page_offers_each_audience_of_a_board(client, board, monkeypatch) -> None:
    crowd = client.audience.create_audience("Crowd")
    crowd.attach(board)
    [expert] = _audience(client).invite(board, count=1)
    [worker] = crowd.invite(board, count=1)
    for rater, n in ((expert.rater, 2), (worker.rater, 3)):
        for _ in range(n):
            matchup = board.next_matchup(rater, continue_when_settled=True)
            board.record_vote(matchup.id, "left", rater)
    at = open_app(monkeypatch, client.db_path, board.id)  # on the loopback: the owner
    at.switch_page("views/standings.py").run()
    assert not at.exception, at.exception
    def counted() -> int:
        return int(at.dataframe[0].value["total_matches"].sum()) // 2
    assert counted() == 5
    [picker] = [s for s in at.selectbox if s.label == "Votes of"]
    assert picker.options[0] == "every audience" and set(picker.options[1:]) == {"Experts", "Crowd"}
    picker.set_value(crowd.id).run()
    assert counted() == 3


def test_nothing_left_to_rate_also_ends_with_a_completion_code(client, png, monkeypatch) -> None:
    small = make_board(client, png, models=2, prompts=1, repeat_share=0.0)  # one pair only
    audience = client.audience.create_audience("Few")
    audience.attach(small)
    [invite] = audience.invite(small, count=1, quota=50)
    at = _linked(monkeypatch, client.db_path, _query(invite.url))
    assert not at.code  # not done yet
    click(at, "A is better")
    assert not _rating(at)
    [code] = [c.value for c in at.code]
    assert client.store.conn.execute("SELECT completion_code FROM audience_raters WHERE rater = ?",
                                     (invite.rater,)).fetchone() == (code,)


def test_the_answer_that_reaches_the_quota_asks_for_the_completion_screen(client, board, monkeypatch) -> None:
    """Through ``POST /_rater/answer`` (``pair_api.answer``): the quota's last vote is stored and
    its reply says ``rerun`` (no next pair); the page drawn again shows the completion code."""
    [invite] = _audience(client).invite(board, count=1, quota=2)
    at = _linked(monkeypatch, client.db_path, _query(invite.url))
    view = pair_view(at)
    status, first = pair_api.answer(view["session"], view["pair"]["id"], "left")
    assert status == 200 and not first["rerun"] and first["pair"] is not None  # 1 of 2
    status, last = pair_api.answer(first["session"], first["pair"]["id"], "right")
    assert status == 200 and last["rerun"] is True and "pair" not in last and last["error"] is None
    assert client.store.conn.execute("SELECT choice FROM votes ORDER BY id").fetchall() == [
        ("left",), ("right",)]
    again = pair_api.answer(first["session"], first["pair"]["id"], "tie")  # a late click
    assert again[1]["rerun"] is True
    at.run()
    assert not at.exception and not _rating(at) and pair_view(at) is None
    [code] = [c.value for c in at.code]
    assert client.store.conn.execute("SELECT completion_code FROM audience_raters WHERE rater = ?",
                                     (invite.rater,)).fetchone() == (code,)
    assert client.store.conn.execute("SELECT count(*) FROM votes").fetchone()[0] == 2


def test_an_answer_after_the_link_is_revoked_writes_nothing(client, board, monkeypatch) -> None:
    [invite] = _audience(client).invite(board, count=1)
    at = _linked(monkeypatch, client.db_path, _query(invite.url))
    view = pair_view(at)
    client.audience.revoke(_query(invite.url)["invite"])
    status, reply = pair_api.answer(view["session"], view["pair"]["id"], "left")
    assert (status, reply["rerun"], reply["error"]) == (200, True, None) and "pair" not in reply
    assert client.store.conn.execute("SELECT count(*) FROM votes").fetchone()[0] == 0
    at.run()  # drawn again: the refusal, and nothing else
    assert "revoked" in at.error[0].value and not _rating(at) and pair_view(at) is None
