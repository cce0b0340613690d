"""A media file missing on disk (a backup restored without its media): the rater is served
other pairs, the server logs the skipped pair, and the owner's Raters page lists the files."""

from __future__ import annotations

import logging

from app_support import button, make_board, open_app, session, shown, start

RATERS = "views/raters.py"


def test_pairs_with_a_missing_file_are_skipped_and_the_owner_is_told(client, png, monkeypatch, caplog):
    lb = make_board(client, png, models=3, prompts=2, repeat_share=0.0)
    [gone] = lb.model_media("model-0")["A red cube"]
    gone.unlink()
    caplog.set_level(logging.WARNING, logger="rater.app")
    at = start(open_app(monkeypatch, client.db_path, lb.id), "alice")
    served = 0
    while "A is better" in [b.label for b in at.button]:
        assert not at.exception, at.exception
        pair = session(at, lb.id).current
        assert gone not in (pair.left.path, pair.right.path)
        assert pair.left.path.is_file() and pair.right.path.is_file()
        served += 1
        button(at, "A is better").click()
        at.run()
    assert not at.exception, at.exception
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
    assert "A is better" not in [b.label for b in at.button]
    [warning] = [shown(w.value) for w in at.warning]
    assert warning.startswith("Media files of this leaderboard are missing on the server")
    assert lb.summary()["votes"] == 0
