"""The passcode gate and the Raters and Standings pages, driven with AppTest."""

from __future__ import annotations

import pytest

from rater.app.views import common

from app_support import button, click, labels, make_board, media_urls, open_app, page_text, start

RATERS = "views/raters.py"
STANDINGS = "views/standings.py"


@pytest.fixture(autouse=True)
def no_delay(monkeypatch):
    monkeypatch.setattr(common, "WRONG_PASSCODE_DELAY", 0.0)


@pytest.fixture
def board(client, png):
    lb = make_board(client, png, models=3, prompts=2, show_prompt=True, repeat_share=0.0)
    for rater, count in (("alice", 3), ("bob", 2)):
        for _ in range(count):
            pair = lb.next_matchup(rater)
            lb.record_vote(pair.id, "left", rater)
    return lb


def no_media(at) -> bool:
    return not any(media_urls(at, kind) for kind in ("image", "audio", "video"))


def enter(at, label: str, code: str):
    [field] = [t for t in at.text_input if t.label == label]
    field.input(code)
    return click(at, "Enter")


def test_passcode_gate_shows_nothing_before_the_passcode(client, board, monkeypatch):
    at = open_app(monkeypatch, client.db_path, board.id, passcode="s3cret")
    assert [t.label for t in at.text_input] == ["Passcode"]
    assert labels(at) == ["Enter"]
    assert no_media(at) and "Test board" not in page_text(at)
    assert not at.header and not at.dataframe  # no instruction, no figures
    enter(at, "Passcode", "guess")
    assert at.error[0].value == "Wrong passcode."
    assert labels(at) == ["Enter"] and no_media(at)
    enter(at, "Passcode", "s3cret")
    assert "Start rating" in labels(at)
    start(at, "alice")
    assert len(media_urls(at)) == 2


@pytest.mark.parametrize("page", [RATERS, STANDINGS])
def test_gate_also_guards_the_other_pages(client, board, monkeypatch, page):
    monkeypatch.setenv("RATER_DB", str(client.db_path))
    monkeypatch.setenv("RATER_PASSCODE", "s3cret")
    from streamlit.testing.v1 import AppTest

    from app_support import APP

    at = AppTest.from_file(str(APP), default_timeout=60).switch_page(page).run()
    assert labels(at) == ["Enter"] and not at.dataframe and no_media(at)


def test_raters_page_lists_quality_figures(client, board, monkeypatch):
    at = open_app(monkeypatch, client.db_path, board.id)
    at.switch_page(RATERS).run()
    table = at.dataframe[0].value
    assert list(table["Rater"]) == ["alice", "bob"]
    assert list(table["Votes"]) == [3, 2]
    assert list(table["Left rate %"]) == [100.0, 100.0]
    assert not table["Excluded"].any()


def test_owner_excludes_and_includes_a_rater(client, board, monkeypatch):
    at = open_app(monkeypatch, client.db_path, board.id)
    at.switch_page(RATERS).run()
    [picker] = [s for s in at.selectbox if s.label == "Rater"]
    picker.set_value("bob").run()
    click(at, "Exclude from standings")
    assert {s.name: s.excluded for s in board.raters()} == {"alice": False, "bob": True}
    assert list(at.dataframe[0].value["Excluded"]) == [False, True]
    at.switch_page(STANDINGS).run()
    assert "3 votes counted; 2 excluded" in page_text(at)
    assert board.get_standings(n_bootstrap=0).attrs["excluded_votes"] == 2
    at.switch_page(RATERS).run()
    [picker] = [s for s in at.selectbox if s.label == "Rater"]
    picker.set_value("bob").run()
    click(at, "Include again")
    assert not any(s.excluded for s in board.raters())
    at.switch_page(STANDINGS).run()
    assert "5 votes counted; none excluded" in page_text(at)


def owner_page_is_closed(at) -> bool:
    """Nothing of the owner's is drawn: no table, no rater names, no controls."""
    text = page_text(at)
    return (not at.dataframe and not [s for s in at.selectbox if s.label == "Rater"]
            and "alice" not in text and "bob" not in text and "model-0" not in text)


def test_off_the_loopback_only_the_admin_passcode_opens_the_owner_pages(client, board, monkeypatch):
    at = open_app(monkeypatch, client.db_path, board.id, passcode="s3cret",
                  admin_passcode="adm1n", host="0.0.0.0")
    enter(at, "Passcode", "s3cret")
    for page in (RATERS, STANDINGS):  # a rater sees neither raters nor (by default) standings
        at.switch_page(page).run()
        assert owner_page_is_closed(at), page
        assert [t.label for t in at.text_input] == ["Admin passcode"]
        enter(at, "Admin passcode", "s3cret")  # the raters' passcode is not enough
        assert at.error and owner_page_is_closed(at)
    enter(at, "Admin passcode", "adm1n")
    assert sorted(at.dataframe[0].value["name"]) == ["model-0", "model-1", "model-2"]
    at.switch_page(RATERS).run()
    assert list(at.dataframe[0].value["Rater"]) == ["alice", "bob"]
    [picker] = [s for s in at.selectbox if s.label == "Rater"]
    picker.set_value("bob").run()
    click(at, "Exclude from standings")
    assert {s.name: s.excluded for s in board.raters()} == {"alice": False, "bob": True}


@pytest.mark.parametrize("host", ["0.0.0.0", None])
def test_off_the_loopback_without_admin_passcode_nobody_is_owner(client, board, monkeypatch, host):
    """``streamlit run`` by hand (``rater serve`` refuses to start so): the owner pages stay shut."""
    at = open_app(monkeypatch, client.db_path, board.id, passcode="s3cret", host=host)
    enter(at, "Passcode", "s3cret")
    for page in (RATERS, STANDINGS):
        at.switch_page(page).run()
        assert owner_page_is_closed(at) and not at.text_input
        assert any("RATER_ADMIN_PASSCODE" in w.value for w in at.warning)


def test_on_the_loopback_the_owner_confirms_with_the_passcode(client, board, monkeypatch):
    """As before: a local server with only the raters' passcode asks for it again."""
    at = open_app(monkeypatch, client.db_path, board.id, passcode="s3cret")
    enter(at, "Passcode", "s3cret")
    at.switch_page(RATERS).run()
    assert owner_page_is_closed(at)
    [owner_field] = at.text_input
    enter(at, owner_field.label, "s3cret")
    assert list(at.dataframe[0].value["Rater"]) == ["alice", "bob"]
    button(at, "Exclude from standings")


def test_a_board_may_show_its_standings_to_raters(client, board, monkeypatch):
    assert board.show_standings is False  # hidden by default
    shown = board.update(show_standings=True)
    assert shown.show_standings and client.mri.get_leaderboard_by_id(board.id).show_standings
    at = open_app(monkeypatch, client.db_path, board.id, passcode="s3cret",
                  admin_passcode="adm1n", host="0.0.0.0")
    enter(at, "Passcode", "s3cret")
    at.switch_page(STANDINGS).run()
    assert sorted(at.dataframe[0].value["name"]) == ["model-0", "model-1", "model-2"]
    at.switch_page(RATERS).run()
    assert owner_page_is_closed(at)  # the raters' figures stay the owner's
    board.update(show_standings=False)
    at.switch_page(STANDINGS).run()
    assert owner_page_is_closed(at)


def test_an_excluded_rater_still_rates_but_does_not_count(client, board, monkeypatch):
    board.exclude_rater("alice")
    at = start(open_app(monkeypatch, client.db_path, board.id), "alice")
    click(at, "A is better")
    assert board.summary()["votes"] == 6  # stored
    assert board.get_standings(n_bootstrap=0).attrs["excluded_votes"] == 4  # left out


def test_standings_page(client, board, monkeypatch):
    at = open_app(monkeypatch, client.db_path, board.id)
    at.switch_page(STANDINGS).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert sorted(table["name"]) == ["model-0", "model-1", "model-2"]
    assert list(table["rank"]) == sorted(table["rank"])
    assert {"score", "ci_low", "ci_high", "rank_low", "rank_high", "wins", "ties",
            "total_matches", "win_rate"} <= set(table.columns)
    assert "5 votes counted; none excluded" in page_text(at)


def test_pages_without_any_board(tmp_path, monkeypatch):
    from rater import Client

    Client(tmp_path / "empty.db", create=True).close()
    at = open_app(monkeypatch, tmp_path / "empty.db")
    assert "no leaderboards" in at.info[0].value
    for page in (RATERS, STANDINGS):
        at.switch_page(page).run()
        assert not at.exception and "no leaderboards" in at.info[0].value
