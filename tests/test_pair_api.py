"""The pair component's answers and media as plain functions (:mod:`rater.app.pair_api`), on real
databases (SQLite, and PostgreSQL for the ``both_backends`` tests) and real PNGs; the link, the
passcode and the session registry through the real app (AppTest). Over real HTTP: test_rating_routes.py.
"""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest
from app_support import (
    SECRET,
    blind_board,
    blind_rater,
    make_board,
    open_app,
    pair_view,
)
from test_app_audience import _linked, _query

from rater import Client, Leaderboard
from rater.app import pair_api
from rater.app.session import RatingSession

GUESSED_TOKENS = ("", None, 0, 12345, ["x"], {"token": "x"}, "x" * 43, "../../etc/passwd")


@pytest.fixture
def board(client: Client, png) -> Leaderboard:
    return make_board(client, png, models=3, prompts=3, show_prompt=True, repeat_share=0.0)


def stored(client: Client) -> list[tuple[str, str, str]]:
    """Every vote in the database: (matchup id, rater, choice)."""
    return [tuple(r) for r in client.store.conn.execute(
        "SELECT matchup_id, rater, choice FROM votes ORDER BY id").fetchall()]


def rating(board: Leaderboard, rater: str = "alice") -> tuple[RatingSession, dict[str, Any]]:
    """A registered session (as the Rate page makes it) and its first view."""
    session = RatingSession(board, rater)
    pair_api.register(session)
    view = pair_api.pair_view(session)
    assert view["pair"] is not None and view["rerun"] is False, view
    return session, view


def media_names(view: dict[str, Any]) -> list[str]:
    pair = view["pair"]
    urls = [side["url"] for side in (pair["given"], pair["left"], pair["right"]) if side and "url" in side]
    return [url.rsplit("/", 1)[1] for url in urls + view["next"]]


@pytest.mark.both_backends
def test_an_unknown_token_is_404_and_writes_nothing(client, board) -> None:
    session, view = rating(board)
    matchup = view["pair"]["id"]
    for token in (*GUESSED_TOKENS, session.token[:-1], session.token + "x", session.token.upper()):
        status, reply = pair_api.answer(token, matchup, "left")
        assert (status, reply["rerun"]) == (404, True), token
        assert pair_api.media_path(token, media_names(view)[0]) is None
    assert stored(client) == [] and session.serial == 0
    assert session.current.id == matchup  # the real session did not move on either


@pytest.mark.parametrize("matchup, choice", [
    ("ID", "LEFT"), ("ID", "up"), ("ID", ""), ("ID", None), ("ID", 1), ("ID", ["left"]), ("ID", "left "),
    (None, "left"), ("", "left"), (7, "left"), (["ID"], "left"), ({"id": "ID"}, "tie"),
])
def test_a_malformed_answer_is_400_and_writes_nothing(client, board, matchup, choice) -> None:
    session, view = rating(board)
    matchup = view["pair"]["id"] if matchup == "ID" else matchup
    status, reply = pair_api.answer(session.token, matchup, choice)
    assert status == 400 and "choice must be one of left, right, tie, skip" in reply["error"]
    assert stored(client) == [] and session.serial == 0
    assert session.current.id == view["pair"]["id"]


@pytest.mark.both_backends
def test_each_answer_writes_one_vote_and_serves_the_next_pair(client, board) -> None:
    session, view = rating(board)
    expected = []
    for serial, choice in enumerate(("left", "right", "tie"), start=1):
        matchup = view["pair"]["id"]
        status, view = pair_api.answer(session.token, matchup, choice)
        assert status == 200 and view["error"] is None and view["rerun"] is False
        assert view["serial"] == serial and view["pair"]["id"] != matchup
        expected.append((matchup, "alice", choice))
        assert stored(client) == expected
        assert view["progress"].startswith(f"Your votes this session: {serial} ·")
    again = pair_api.answer(session.token, expected[-1][0], "left")  # a double click, or a replay
    assert again[0] == 200 and again[1]["pair"]["id"] == view["pair"]["id"]
    assert again[1]["serial"] == 4  # each answer handled counts: the component keeps the newest view
    assert stored(client) == expected  # written once, with the first choice


def test_skip_writes_nothing_and_moves_on(client, board) -> None:
    session, view = rating(board)
    status, after = pair_api.answer(session.token, view["pair"]["id"], "skip")
    assert status == 200 and after["pair"]["id"] != view["pair"]["id"] and after["serial"] == 1
    assert stored(client) == [] and after["progress"].startswith("Your votes this session: 0 ·")


@pytest.mark.both_backends
def test_another_raters_matchup_is_refused_and_the_screen_stays(client, board, png) -> None:
    other = make_board(client, png, models=2, prompts=1)  # first: a new model moves every screen on
    alice, alice_view = rating(board, "alice")
    bob, bob_view = rating(board, "bob")
    foreign = other.next_matchup("bob")  # bob's own matchup, but of another board
    for matchup in (alice_view["pair"]["id"], foreign.id, "f" * 32):
        status, reply = pair_api.answer(bob.token, matchup, "left")
        assert status == 200 and reply["error"].startswith("Your vote was not saved: "), reply
        assert reply["pair"]["id"] == bob_view["pair"]["id"] and bob.current.id == bob_view["pair"]["id"]
    assert stored(client) == []
    assert alice.current.id == alice_view["pair"]["id"]  # alice's screen did not move either
    for session, view in ((alice, alice_view), (bob, bob_view)):
        assert pair_api.answer(session.token, view["pair"]["id"], "right")[0] == 200
    assert stored(client) == [(alice_view["pair"]["id"], "alice", "right"),
                              (bob_view["pair"]["id"], "bob", "right")]


def test_an_answer_to_a_pair_not_on_screen_writes_nothing(client, board) -> None:
    """A pair served to the same rater but not shown by this session (another tab, or the
    prepared one): the rater never judged it here."""
    session, view = rating(board)
    elsewhere = board.next_matchup("alice")
    for matchup, choice in ((elsewhere.id, "left"), (session.upcoming.id, "right"), (elsewhere.id, "skip")):
        status, reply = pair_api.answer(session.token, matchup, choice)
        assert status == 200 and reply["error"].startswith("Your vote was not saved"), reply
        assert reply["pair"]["id"] == view["pair"]["id"] == session.current.id
    assert stored(client) == [] and session.serial == 0
    status, reply = pair_api.answer(session.token, view["pair"]["id"], "left")
    assert status == 200 and reply["pair"]["id"] != view["pair"]["id"]
    assert stored(client) == [(view["pair"]["id"], "alice", "left")]


@pytest.mark.both_backends
def test_a_vote_the_store_refuses_keeps_the_pair(client, png) -> None:
    """The rater's membership is revoked between the pair being shown and the vote: the store's
    trigger refuses the vote; the reply says so and keeps the pair (no link check here: a session
    whose link check passed an instant before)."""
    board = make_board(client, png, models=3, prompts=2, repeat_share=0.0)
    audience = client.audience.create_audience("Experts")
    audience.attach(board)
    [invite] = audience.invite(board, count=1)
    session, view = rating(board, invite.rater)
    client.audience.revoke(invite.rater)
    status, reply = pair_api.answer(session.token, view["pair"]["id"], "left")
    assert status == 200 and reply["rerun"] is False, reply
    assert reply["error"].startswith("Your vote was not saved: ") and "not a current member" in reply["error"]
    assert reply["pair"]["id"] == view["pair"]["id"] and reply["serial"] == 0
    assert stored(client) == []


def test_media_are_served_only_to_the_session_they_were_shown_to(client, board, png) -> None:
    other_board = make_board(client, png, models=2, prompts=1)
    session, view = rating(board)
    other, other_view = rating(other_board, "bob")
    names = media_names(view)
    assert len(names) == 4 and not set(names) & set(media_names(other_view))
    stored_files = {p.resolve() for m in board.models() for ps in board.model_media(m.name).values() for p in ps}
    for name in names:
        path = pair_api.media_path(session.token, name)
        assert path is not None and path.resolve() in stored_files
        assert pair_api.media_path(other.token, name) is None  # another session's token: nothing
    first = pair_api.media_path(session.token, names[0])
    for name in (None, 3, "", first.name, str(first), "../" + names[0], names[0] + "/",
                 "/".join(first.parts[-2:]), media_names(other_view)[0]):
        assert pair_api.media_path(session.token, name) is None, name


def test_a_session_keeps_only_its_recent_media(client, board, monkeypatch) -> None:
    monkeypatch.setattr(pair_api, "FILES_KEPT", 6)  # the board has 9 files
    session, view = rating(board)
    shown = set(media_names(view))
    for _ in range(6):
        _, view = pair_api.answer(session.token, view["pair"]["id"], "skip")
        shown |= set(media_names(view))
        for name in media_names(view):  # the pair on screen and the next are always served
            assert pair_api.media_path(session.token, name) is not None
    served = [name for name in shown if pair_api.media_path(session.token, name) is not None]
    assert len(shown) > 6 and len(served) == 6


@pytest.mark.parametrize("state", ["newcomer", "audio"])
def test_views_and_replies_never_name_a_model(client, png, wav, state) -> None:
    board = blind_board(client, png, wav, state)
    session, view = rating(board, blind_rater(state))
    secrets: set[str] = {SECRET}
    seen = []
    for choice in ("left", "skip", "right", "tie", "bogus"):
        for matchup in (session.current, session.upcoming):
            for side in (matchup.left, matchup.right) if matchup else ():
                secrets |= {side.model, side.sha256, side.path.name, side.path.stem, f'"media_id": {side.media_id}'}
        seen.append(json.dumps(view))
        status, view = pair_api.answer(session.token, view["pair"]["id"], choice)
        assert status in (200, 400)
        if view.get("pair") is None:
            break
    seen.append(json.dumps(view))
    leaked = [s for s in secrets for text in seen if s in text]
    assert not leaked, leaked


# -- through the app: the passcode, links, the session registry ---------------------------------


def test_no_token_before_the_passcode(client, board, monkeypatch) -> None:
    at = open_app(monkeypatch, client.db_path, board.id, passcode="let-me-in", rater="alice")
    assert [t.label for t in at.text_input] == ["Passcode"]
    assert pair_view(at) is None and "rating_sessions" not in at.session_state
    assert not [el for el in at.main if getattr(el, "type", None) == "bidi_component"]
    at.text_input[0].input("wrong")
    at.button[0].click()
    at.run()
    assert pair_view(at) is None and "rating_sessions" not in at.session_state
    at.text_input[0].input("let-me-in")
    at.button[0].click()
    at.run()
    view = pair_view(at)
    assert view is not None and pair_api.registered(view["session"]) is not None


@pytest.fixture
def audience_board(client: Client, png) -> Leaderboard:
    board = make_board(client, png, models=3, prompts=2, repeat_share=0.0)
    client.audience.create_audience("Experts").attach(board)
    return board


@pytest.mark.parametrize("kind", ["invite", "study"])
def test_a_link_revoked_mid_session_writes_nothing(client, audience_board, monkeypatch, kind) -> None:
    [audience] = client.audience.find_audiences("Experts")
    if kind == "invite":
        [invite] = audience.invite(audience_board, count=1)
        params, rater = _query(invite.url), invite.rater
    else:
        params = {**_query(audience.open_study(audience_board)), "PROLIFIC_PID": "5f1a2b3c4d5e6f7a8b9c0d1e",
                  "STUDY_ID": "st1", "SESSION_ID": "se1"}
        rater = "prolific:5f1a2b3c4d5e6f7a8b9c0d1e"
    at = _linked(monkeypatch, client.db_path, params)
    view = pair_view(at)
    status, reply = pair_api.answer(view["session"], view["pair"]["id"], "left")
    assert status == 200 and reply["pair"] is not None and len(stored(client)) == 1
    client.audience.revoke(params["invite"] if kind == "invite" else rater)
    status, reply = pair_api.answer(view["session"], reply["pair"]["id"], "right")
    assert (status, reply["rerun"], reply["error"]) == (200, True, None)
    assert reply.get("pair") is None
    assert stored(client) == [(view["pair"]["id"], rater, "left")]


def test_the_answer_reaching_the_quota_is_stored_and_reruns(client, audience_board, monkeypatch) -> None:
    [audience] = client.audience.find_audiences("Experts")
    [invite] = audience.invite(audience_board, count=1, quota=2)
    at = _linked(monkeypatch, client.db_path, _query(invite.url))
    view = pair_view(at)
    status, second = pair_api.answer(view["session"], view["pair"]["id"], "left")
    assert status == 200 and second["rerun"] is False
    status, reply = pair_api.answer(view["session"], second["pair"]["id"], "tie")
    assert (status, reply["rerun"], reply["serial"]) == (200, True, 2)
    assert stored(client) == [(view["pair"]["id"], invite.rater, "left"),
                              (second["pair"]["id"], invite.rater, "tie")]
    at.run()  # the page drawn anew: the completion screen, no pair
    assert pair_view(at) is None and len(at.code) == 1


def test_a_dropped_session_is_unreachable(client, board, monkeypatch) -> None:
    at = open_app(monkeypatch, client.db_path, board.id, rater="alice")
    view = pair_view(at)
    token, name = view["session"], media_names(view)[0]
    assert pair_api.media_path(token, name) is not None
    status, reply = pair_api.answer(token, view["pair"]["id"], "left")
    assert status == 200
    del at, view, reply
    gc.collect()
    assert pair_api.registered(token) is None and pair_api.media_path(token, name) is None
    status, reply = pair_api.answer(token, "any", "left")
    assert (status, reply["rerun"]) == (404, True)
    assert len(stored(client)) == 1
    session = RatingSession(board, "bob")  # the same for a session made and dropped by hand
    token = pair_api.register(session)
    assert pair_api.registered(token) is session
    del session
    gc.collect()
    assert pair_api.registered(token) is None


def test_a_vote_on_a_pair_whose_model_was_disabled_meanwhile(client, board) -> None:
    """The rater judged what was served: the vote is kept, like the model's other votes (out
    of the standings while it is disabled), and the next pair leaves the model out."""
    session, view = rating(board)
    disabled = session.current.left.model
    board.benchmark.participant(disabled).disable()
    status, reply = pair_api.answer(session.token, view["pair"]["id"], "left")
    assert status == 200 and reply["error"] is None
    assert stored(client) == [(view["pair"]["id"], "alice", "left")]
    assert reply["pair"]["id"] != view["pair"]["id"]
    assert disabled not in (session.current.left.model, session.current.right.model)
    assert disabled not in set(board.get_standings(n_bootstrap=0)["name"])
