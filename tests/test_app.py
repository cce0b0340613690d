"""The rating screen, driven with Streamlit's AppTest against real databases and media."""

from __future__ import annotations

import pytest

from rater.app import pair_api
from rater.app import session as session_module
from rater.store import votes

from app_support import (
    INSTRUCTION,
    PROMPTS,
    answer,
    answer_labels,
    click,
    labels,
    make_board,
    media_urls,
    open_app,
    page_text,
    pair_urls,
    pair_view,
    progress,
    session,
    start,
)

ANSWERS = ["A is better", "B is better", "Can't decide", "Skip"]


@pytest.fixture
def board(client, png):
    return make_board(client, png, models=3, prompts=2, show_prompt=True, repeat_share=0.0)


def stored_votes(client, board) -> list[dict]:
    conn = client.store.conn
    return [
        votes.get_vote(conn, row[0]) | {"matchup": votes.get_matchup(conn, row[0])}
        for row in conn.execute(
            "SELECT v.matchup_id FROM votes v JOIN matchups m ON m.id = v.matchup_id "
            "WHERE m.leaderboard_id = ? ORDER BY v.id", (board.id,)
        )
    ]


def test_arriving_with_the_board_in_the_url_asks_only_for_a_name(client, board, monkeypatch):
    at = open_app(monkeypatch, client.db_path, board.id)
    assert not at.exception
    assert at.title[0].value == "Rate generative models"
    assert [t.label for t in at.text_input] == ["Your name"]
    assert not at.selectbox  # the board comes from ?leaderboard=ID
    assert "Test board" in page_text(at)
    assert not media_urls(at)  # nothing to judge before the rater is named


def test_rating_screen(client, board, monkeypatch):
    at = start(open_app(monkeypatch, client.db_path, board.id), "alice")
    assert at.header[0].value == INSTRUCTION  # the instruction is the heading
    view = pair_view(at)  # one component draws the pair: sides A (left) and B (right)
    pair = session(at, board.id).current
    assert view["pair"]["id"] == pair.id and view["error"] is None and view["rerun"] is False
    assert [view["pair"][side]["kind"] for side in ("left", "right")] == ["image", "image"]
    assert len(media_urls(at)) == 2 and len(set(media_urls(at))) == 2
    assert view["labels"] == {"left": "A is better", "right": "B is better",
                              "tie": "Can't decide", "skip": "Skip"}
    assert list(answer_labels(at)) == ANSWERS
    assert view["pair"]["prompt"] == pair.prompt and view["pair"]["given"] is None
    line = progress(at)
    text = page_text(at)  # every element, the component's view (and its progress line) included
    for m in range(3):  # the media are never labelled with model names
        assert f"model-{m}" not in text
    assert "Your votes this session: 0" in line and "Votes on this leaderboard: 0" in line
    assert at.query_params["leaderboard"] == [board.id] or at.query_params["leaderboard"] == board.id


def _param(at, name: str):
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def test_a_refresh_resumes_rating_under_the_same_name(client, board, monkeypatch):
    at = start(open_app(monkeypatch, client.db_path, board.id), "  alice  ")
    assert _param(at, "rater") == "alice" and _param(at, "leaderboard") == board.id
    click(at, "A is better")
    # A refresh is a new browser session with the same URL: no form, straight to the next pair.
    again = open_app(monkeypatch, client.db_path, board.id, rater="alice")
    assert not again.exception
    assert not [t for t in again.text_input if t.label == "Your name"]
    assert len(media_urls(again)) == 2 and session(again, board.id).rater == "alice"
    click(again, "B is better")
    assert [v["rater"] for v in stored_votes(client, board)] == ["alice", "alice"]
    click(again, "Change name or leaderboard")  # forgets the name in the URL too
    assert _param(again, "rater") is None
    assert [t.label for t in again.text_input] == ["Your name"]


def test_an_unusable_name_in_the_url_asks_for_one(client, board, monkeypatch):
    at = open_app(monkeypatch, client.db_path, board.id, rater="x" * 500)
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Your name"]
    assert "The name in the link cannot be used" in at.warning[0].value
    assert not media_urls(at)


def test_picking_a_board_when_the_url_names_none(client, board, png, monkeypatch):
    other = make_board(client, png, models=2, prompts=1)
    at = open_app(monkeypatch, client.db_path)
    at.selectbox[0].set_value(other.id)
    start(at, "bob")
    assert session(at, other.id).rater == "bob"
    assert len(media_urls(at)) == 2


def test_unknown_board_in_the_url(client, board, monkeypatch):
    at = open_app(monkeypatch, client.db_path, "nosuchid")
    assert "nosuchid" in at.warning[0].value
    assert at.selectbox  # a picker instead


@pytest.mark.parametrize("name", ["", "   ", "a\x07b"])
def test_bad_names_are_refused(client, board, monkeypatch, name):
    at = start(open_app(monkeypatch, client.db_path, board.id), name)
    assert at.error and "your name" in at.error[0].value
    assert not media_urls(at)


@pytest.mark.parametrize(
    ("label", "choice"), [("A is better", "left"), ("B is better", "right"), ("Can't decide", "tie")]
)
def test_each_vote_is_stored_and_the_next_pair_follows(client, board, monkeypatch, label, choice):
    at = start(open_app(monkeypatch, client.db_path, board.id), "  carol ")
    first = session(at, board.id).current
    click(at, label)
    [vote] = stored_votes(client, board)
    assert (vote["matchup_id"], vote["choice"], vote["rater"]) == (first.id, choice, "carol")
    now = session(at, board.id).current
    assert now is not None and now.id != first.id  # the next pair is already on screen
    assert "Your votes this session: 1" in progress(at)


def test_skip_stores_nothing(client, board, monkeypatch):
    at = start(open_app(monkeypatch, client.db_path, board.id))
    first = session(at, board.id).current
    click(at, "Skip")
    assert stored_votes(client, board) == []
    assert votes.get_matchup(client.store.conn, first.id) is not None  # served, left unvoted
    assert session(at, board.id).current.id != first.id
    assert "Your votes this session: 0" in progress(at)


def test_the_prepared_pair_is_the_one_shown_next(client, board, monkeypatch):
    at = start(open_app(monkeypatch, client.db_path, board.id))
    prepared = session(at, board.id).upcoming
    assert prepared is not None
    click(at, "A is better")
    assert session(at, board.id).current.id == prepared.id


def test_votes_until_nothing_is_left(client, png, monkeypatch):
    lb = make_board(client, png, models=2, prompts=1, repeat_share=0.0)  # one pair in all
    at = start(open_app(monkeypatch, client.db_path, lb.id))
    click(at, "B is better")
    assert not media_urls(at) and not [b for b in labels(at) if b in ANSWERS]
    assert "Nothing left to show you" in at.info[0].value and "Thank you" in at.info[0].value
    assert len(stored_votes(client, lb)) == 1


def test_empty_board_says_so(client, png, monkeypatch):
    lb = make_board(client, png, models=1, prompts=2)
    at = start(open_app(monkeypatch, client.db_path, lb.id))
    assert not at.exception
    assert "nothing to compare yet" in at.info[0].value
    assert not media_urls(at)


@pytest.mark.parametrize("show", [True, False])
def test_prompt_text_only_when_show_prompt(client, png, monkeypatch, show):
    lb = make_board(client, png, models=2, prompts=1, show_prompt=show)
    at = start(open_app(monkeypatch, client.db_path, lb.id))
    assert (PROMPTS[0] in page_text(at)) is show


@pytest.mark.parametrize("show", [True, False])
def test_prompt_asset_only_when_show_prompt_asset(client, png, monkeypatch, show):
    lb = client.mri.create_new_leaderboard(
        "Edits", "Which edit is better?", ["Make it blue"], prompt_assets=[png(900)],
        show_prompt_asset=show,
    )
    lb.evaluate_model("m1", [png(901)], ["Make it blue"])
    lb.evaluate_model("m2", [png(902)], ["Make it blue"])
    at = start(open_app(monkeypatch, client.db_path, lb.id))
    assert len(media_urls(at)) == (3 if show else 2)
    given = pair_view(at)["pair"]["given"]
    assert (given is not None) is show
    if show:  # the asset, first, served to this session as the asset's own bytes
        assert given["kind"] == "image" and media_urls(at)[0] == given["url"]
        token, name = given["url"].split("/")[-2:]
        assert pair_api.media_path(token, name).read_bytes() == png(900).read_bytes()


def test_inverse_board_asks_for_the_worse_one(client, png, monkeypatch):
    lb = make_board(client, png, models=2, prompts=1, inverse_ranking=True, repeat_share=0.0)
    at = start(open_app(monkeypatch, client.db_path, lb.id))
    assert list(answer_labels(at))[:2] == ["A is worse", "B is worse"]
    pair = session(at, lb.id).current
    click(at, "A is worse")
    [vote] = stored_votes(client, lb)
    assert vote["choice"] == "left"  # A was chosen, as the worse one
    standings = lb.get_standings(n_bootstrap=0).set_index("name")
    assert standings.loc[pair.left.model, "wins"] == 0
    assert standings.loc[pair.right.model, "wins"] == 1


def test_audio_and_video_boards(client, wav, monkeypatch):
    from app_support import ROOT

    audio = client.mri.create_new_leaderboard("Tones", "Which sounds cleaner?", ["A tone"])
    audio.evaluate_model("t1", [wav(440)], ["A tone"])
    audio.evaluate_model("t2", [wav(660)], ["A tone"])
    at = start(open_app(monkeypatch, client.db_path, audio.id))
    assert len(media_urls(at, "audio")) == 2 and not media_urls(at)
    video = client.mri.create_new_leaderboard("Clips", "Which clip is smoother?", ["A clip"])
    fixtures = ROOT / "tests" / "fixtures"
    video.evaluate_model("v1", [fixtures / "tiny.mp4"], ["A clip"])
    video.evaluate_model("v2", [fixtures / "tiny.webm"], ["A clip"])
    at = start(open_app(monkeypatch, client.db_path, video.id))
    urls = media_urls(at, "video")
    assert len(urls) == 2 and {u.rsplit(".", 1)[-1] for u in urls} == {"mp4", "webm"}


def test_repeat_shows_a_judged_pair_with_sides_swapped(client, png, monkeypatch):
    lb = make_board(client, png, models=4, prompts=3, repeat_share=0.5, strategy="uniform")
    at = start(open_app(monkeypatch, client.db_path, lb.id))
    shown: dict[str, tuple[str, str]] = {}
    for _ in range(30):
        pair = session(at, lb.id).current
        shown[pair.id] = pair_urls(at)
        if pair.is_repeat:
            break
        click(at, "A is better")
    else:
        pytest.fail("no quality-control repeat in 30 pairs at repeat_share=0.5")
    original = votes.get_matchup(client.store.conn, pair.id)["repeat_of"]
    assert shown[pair.id] == shown[original][::-1]  # same two images, sides swapped
    view = pair_view(at)  # looks like any other pair: the same view, nothing says "repeat"
    assert set(view["pair"]) == {"id", "prompt", "given", "left", "right"}
    assert list(answer_labels(at)) == ANSWERS and "repeat" not in str(view).lower()


def test_settled_board_thanks_the_rater_and_can_go_on(client, monkeypatch):
    from rater.api.demo import load_demo

    list(load_demo(client))
    lb = client.mri.find_leaderboards("Demo: synth tones")[0]
    assert lb.status().settled
    at = start(open_app(monkeypatch, client.db_path, lb.id))
    assert "settled" in at.info[0].value and "Thank you" in at.info[0].value
    assert "Settled: thank you" in progress(at)
    click(at, "Keep rating anyway")
    assert len(media_urls(at, "audio")) == 2
    view = pair_view(at)  # the pair component again, with its answers and the settled strip
    assert view["pair"] is not None and not view["rerun"] and list(answer_labels(at)) == ANSWERS
    assert "Keep rating anyway" not in labels(at) and not at.info
    assert view["progress"].endswith("Settled: thank you")
    status, reply = pair_api.answer(view["session"], view["pair"]["id"], "left")
    assert status == 200 and reply["pair"] is not None and not reply["rerun"]  # still going
    assert reply["progress"].startswith("Your votes this session: 1")
    assert votes.get_vote(client.store.conn, view["pair"]["id"])["choice"] == "left"


def test_the_answer_that_settles_the_board_draws_the_page_again(client, png, monkeypatch):
    lb = make_board(client, png, models=4, prompts=4, repeat_share=0.0, max_pair_votes=2)
    truth = [f"model-{m}" for m in range(4)]  # model-0 best: the standings settle
    at = start(open_app(monkeypatch, client.db_path, lb.id), "zoe")
    view, settled_at = pair_view(at), None
    for n in range(24):  # zoe has 24 pairs to see
        pair = session(at, lb.id).current
        assert pair.id == view["pair"]["id"]
        better = truth.index(pair.left.model) < truth.index(pair.right.model)
        status, view = pair_api.answer(view["session"], pair.id, "left" if better else "right")
        assert status == 200 and view["error"] is None
        if lb.status().settled and settled_at is None:
            settled_at = n
        if view["rerun"]:
            break
    else:
        pytest.fail("the board never settled")
    # the pair prepared before the board settled may still be shown, then the page is drawn anew
    assert settled_at is not None and n - settled_at <= 1 and view["pair"] is None
    assert len(stored_votes(client, lb)) == n + 1  # the answer that asked for a rerun is stored
    at.run()
    assert not at.exception and pair_view(at) is None
    assert "settled" in at.info[0].value and "Thank you" in at.info[0].value
    assert "Keep rating anyway" in labels(at) and f"Your votes this session: {n + 1}" in progress(at)


def test_an_answer_for_a_pair_not_on_screen_writes_nothing(client, board, monkeypatch):
    at = start(open_app(monkeypatch, client.db_path, board.id))
    view, rating = pair_view(at), session(at, board.id)
    prepared = rating.upcoming  # served to this rater, but not shown yet
    assert prepared is not None and prepared.id != view["pair"]["id"]
    status, reply = pair_api.answer(view["session"], prepared.id, "left")
    assert status == 200 and reply["error"] == pair_api.NOT_ON_SCREEN
    assert reply["pair"] == view["pair"] and reply["serial"] == view["serial"]  # the pair stays
    status, reply = pair_api.answer(view["session"], "no-such-matchup", "right")
    assert status == 200 and reply["error"].startswith("Your vote was not saved")
    assert pair_api.answer("no-such-session", view["pair"]["id"], "left")[0] == 404
    assert pair_api.answer(view["session"], view["pair"]["id"], "both")[0] == 400
    assert stored_votes(client, board) == [] and rating.session_votes == 0
    answer(at, "right")  # the pair on screen still takes its answer, and the prepared one follows
    assert [v["matchup_id"] for v in stored_votes(client, board)] == [view["pair"]["id"]]
    assert pair_view(at)["pair"]["id"] == prepared.id
    answer(at, "left")
    assert [v["choice"] for v in stored_votes(client, board)] == ["right", "left"]


def test_switching_name_or_board(client, board, monkeypatch):
    at = start(open_app(monkeypatch, client.db_path, board.id), "dora")
    click(at, "Change name or leaderboard")
    assert [t.label for t in at.text_input] == ["Your name"]
    assert not media_urls(at)


def test_a_session_s_memory_stays_bounded_over_many_answers(client, png, monkeypatch):
    """Answers reach the session through ``pair_api.answer`` (no widget per pair any more): the
    media it may serve stay at most ``FILES_KEPT``, the answers it remembers ``ANSWERS_KEPT``
    (10 here), and what Streamlit keeps for the browser session (widget keys and metadata,
    session state) does not grow with the votes."""
    monkeypatch.setattr(session_module, "ANSWERS_KEPT", 10)
    lb = make_board(client, png, models=8, prompts=4, repeat_share=0.0)  # 32 files, 112 pairs
    at = start(open_app(monkeypatch, client.db_path, lb.id))
    rating = session(at, lb.id)
    state = at._session_state._state  # what the server keeps for this browser session

    def kept() -> tuple[int, int, int]:
        return (len(state._key_id_mapper._key_id_mapping),
                len(state._new_widget_state.widget_metadata), len(list(state._keys())))

    choices = ["left", "right", "tie", "skip"]
    sizes, seen, view = [kept()], set(), pair_view(at)
    answered = []
    for n in range(40):
        answered.append(view["pair"]["id"])
        status, reply = pair_api.answer(view["session"], view["pair"]["id"], choices[n % 4])
        assert status == 200 and reply["error"] is None and reply["pair"] is not None, reply
        assert len(rating.files) <= pair_api.FILES_KEPT
        urls = [reply["pair"]["left"]["url"], reply["pair"]["right"]["url"], *reply["next"]]
        seen |= {url.rsplit("/", 1)[-1] for url in urls}
        assert {url.rsplit("/", 1)[-1] for url in urls} <= set(rating.files)  # still servable
        if n % 5 == 4:  # now and then the page is drawn again (e.g. a rerun of the fragment)
            at.run()
            assert pair_view(at)["pair"] == reply["pair"]
            sizes.append(kept())
        view = reply
    assert len(set(sizes)) == 1, sizes  # the same after 0 and after 40 answers
    assert len(seen) > len(rating.files) == pair_api.FILES_KEPT  # full, the oldest forgotten
    assert len(stored_votes(client, lb)) == 30 and rating.session_votes == 30  # 3 of 4 voted
    assert session(at, lb.id) is rating
    assert [rating.answered(m) for m in answered[-11:]] == [None] + [
        choices[n % 4] for n in range(30, 40)]  # the last 10 answers only
    before = stored_votes(client, lb)
    for matchup in (answered[0], answered[-1]):  # a replay, long after or at once: nothing new
        status, reply = pair_api.answer(view["session"], matchup, "left")
        assert status == 200 and reply["pair"]["id"] == view["pair"]["id"]
    assert stored_votes(client, lb) == before


def test_an_answer_from_a_page_whose_session_is_gone_writes_nothing(client, board, monkeypatch):
    """The rater changed their name: the old session (and its token) is forgotten, so an answer
    still carrying it is refused with 404 and ``rerun`` (the page is drawn anew)."""
    at = start(open_app(monkeypatch, client.db_path, board.id), "alice")
    old = pair_view(at)
    click(at, "Change name or leaderboard")
    start(at, "bob")  # (no garbage collection needed: the server turns the one after runs off)
    assert pair_api.registered(old["session"]) is None
    status, reply = pair_api.answer(old["session"], old["pair"]["id"], "left")
    assert status == 404 and reply["rerun"] is True and "pair" not in reply
    name = old["pair"]["left"]["url"].rsplit("/", 1)[-1]
    assert pair_api.media_path(old["session"], name) is None  # its media are not served either
    assert stored_votes(client, board) == []
    assert session(at, board.id).rater == "bob" and pair_view(at)["session"] != old["session"]
