"""A media file missing on disk (a backup restored without its media): the rater is served
other pairs, the server logs the skipped pair, and the owner's Raters page lists the files."""

from __future__ import annotations

import logging

from rater.app import pair_api

from app_support import answer, labels, make_board, media_urls, open_app, pair_view, session, shown, start

RATERS = "views/raters.py"


def test_pairs_with_a_missing_file_are_skipped_and_the_owner_is_told(client, png, monkeypatch, caplog):
    lb = make_board(client, png, models=3, prompts=2, repeat_share=0.0)
    [gone] = lb.model_media("model-0")["A red cube"]
    gone.unlink()
    caplog.set_level(logging.WARNING, logger="rater.app")
    at = start(open_app(monkeypatch, client.db_path, lb.id), "alice")
    served = 0
    while pair_view(at) is not None:
        assert not at.exception, at.exception
        pair = session(at, lb.id).current
        assert pair_view(at)["pair"]["id"] == pair.id
        assert gone not in (pair.left.path, pair.right.path)
        assert pair.left.path.is_file() and pair.right.path.is_file()
        for url in media_urls(at):  # each URL serves a file that is there
            assert pair_api.media_path(*url.split("/")[-2:]).is_file()
        served += 1
        answer(at, "left")
    assert not at.exception, at.exception
    assert "A is better" not in labels(at)
    assert served == 4  # 6 pairs, 2 of them with the missing file
    assert lb.summary()["votes"] == 4
    assert any(str(gone) in r.getMessage() and lb.id in r.getMessage() for r in caplog.records)
    at.switch_page(RATERS).run()
    assert not at.exception
    [listing] = [c.value for c in at.code]
    assert listing == f"model-0, 'A red cube': {gone}"
    assert any("1 media file(s) of this leaderboard are missing" in shown(e.value) for e in at.error)


def test_when_every_pair_has_a_missing_file_the_rater_is_told(client, png, monkeypatch):
    lb = make_board(client, png, models=2, prompts=2, repeat_share=0.0)
    for paths in lb.model_media("model-1").values():
        paths[0].unlink()
    at = start(open_app(monkeypatch, client.db_path, lb.id), "alice")
    assert not at.exception, at.exception
    assert "A is better" not in labels(at) and pair_view(at) is None
    [warning] = [shown(w.value) for w in at.warning]
    assert warning.startswith("Media files of this leaderboard are missing on the server")
    assert lb.summary()["votes"] == 0


def test_a_prepared_pair_whose_file_went_missing_is_not_served(client, png, monkeypatch, caplog):
    """The prepared pair's images were handed out to be loaded ahead; one is deleted before the
    answer: the reply serves another pair, and the deleted file's URL serves nothing."""
    lb = make_board(client, png, models=3, prompts=2, repeat_share=0.0)
    at = start(open_app(monkeypatch, client.db_path, lb.id), "alice")
    view, rating = pair_view(at), session(at, lb.id)
    prepared = rating.upcoming
    assert prepared is not None and len(view["next"]) == 2
    token, name = view["next"][0].split("/")[-2:]
    assert pair_api.media_path(token, name) == prepared.left.path
    prepared.left.path.unlink()
    caplog.set_level(logging.WARNING, logger="rater.app")
    status, reply = pair_api.answer(view["session"], view["pair"]["id"], "right")
    assert status == 200 and reply["error"] is None and reply["pair"] is not None
    assert reply["pair"]["id"] != prepared.id and rating.missing_skipped >= 1
    assert prepared.left.path not in (rating.current.left.path, rating.current.right.path)
    assert pair_api.media_path(token, name) is None  # 404, not a missing file
    assert lb.summary()["votes"] == 1
    assert any(str(prepared.left.path) in r.getMessage() for r in caplog.records)


def test_an_answer_after_the_other_pairs_lost_their_files_draws_the_page_again(client, png, monkeypatch):
    """The rest of the board's files are deleted while a pair is on screen: its answer is stored,
    the reply asks for a rerun (no pair to serve), and the page says media files are missing."""
    lb = make_board(client, png, models=2, prompts=2, repeat_share=0.0)  # one pair per prompt
    at = start(open_app(monkeypatch, client.db_path, lb.id), "alice")
    view, on_screen = pair_view(at), session(at, lb.id).current
    for paths in lb.model_media("model-1").values():
        if paths[0] not in (on_screen.left.path, on_screen.right.path):
            paths[0].unlink()
    status, reply = pair_api.answer(view["session"], view["pair"]["id"], "left")
    assert status == 200 and reply["rerun"] is True and reply["pair"] is None
    assert lb.summary()["votes"] == 1
    at.run()
    assert not at.exception, at.exception
    assert pair_view(at) is None
    [warning] = [shown(w.value) for w in at.warning]
    assert warning.startswith("Media files of this leaderboard are missing on the server")
