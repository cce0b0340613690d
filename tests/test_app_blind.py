"""Blind rating, driven with AppTest: nothing the Rate page sends names a model or tells the two
sides apart, on boards in every state (a newcomer being placed, ordinary, settled with "Keep
rating anyway", a quality-control repeat on screen, audio). The models' names (and their source
files' names) contain ``SECRETMODELNAME``, which must appear nowhere: not in the page's elements,
not in the pair component's view (its texts, labels, progress strip, media URLs), not in the
names of the files behind those URLs, and not in the replies of ``POST /_rater/answer``
(:func:`rater.app.pair_api.answer`) for several answers in a row.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from rater.app import pair_api

from app_support import (
    BLIND_STATES,
    NEWCOMER,
    SECRET,
    blind_board,
    blind_rater,
    click,
    labels,
    open_app,
    page_text,
    pair_view,
    progress,
    session,
)

#: A medium's URL: the session's token, then an opaque name (a hash) and the file type.
MEDIA_URL = re.compile(r"/_rater/media/(?P<token>[A-Za-z0-9_-]+)/(?P<name>[0-9a-f]{32}\.[a-z0-9]+)")


def everything(at) -> str:
    """Every text the page renders: each element's protobuf (text, Markdown, captions, help,
    labels, options, the pair component's view), main area and sidebar, toasts, and the URL's
    query."""
    return "\n".join([page_text(at), *(str(t.proto) for t in at.toast), str(dict(at.query_params))])


def media_file(url: str, token: str) -> Path:
    """The file ``GET url`` serves (:func:`rater.app.pair_api.media_path`, the route's own
    function), checking the URL says nothing but a hash and the file type."""
    found = MEDIA_URL.fullmatch(url)
    assert found and found["token"] == token, url
    path = pair_api.media_path(found["token"], found["name"])
    assert path is not None and path.is_file(), url
    assert SECRET.lower() not in str(path).lower()  # not the source file's name either
    return path


def masked(side: dict[str, str]) -> dict[str, str]:
    """A side with its URL's name masked (all else must be alike on both sides)."""
    return {**side, "url": "MEDIA." + side["url"].rsplit(".", 1)[-1]} if "url" in side else side


def check_view(view: dict[str, Any], rating) -> None:
    """One view of the pair component (drawn on the page, or an answer's reply): no model
    named anywhere in it, A and B alike, every URL served to this session and no other, each
    serving the bytes of the side it stands for."""
    text = json.dumps(view, ensure_ascii=False)
    assert SECRET.lower() not in text.lower(), text
    pair = view.get("pair")
    if pair is None:
        return
    assert set(pair) == {"id", "prompt", "given", "left", "right"}  # nothing saying gold or repeat
    assert masked(pair["left"]) == masked(pair["right"])
    token = view["session"]
    assert pair_api.registered(token) is rating
    current = rating.current
    assert current is not None and current.id == pair["id"]
    for side, medium in (("left", current.left), ("right", current.right)):
        if "url" in pair[side]:
            assert media_file(pair[side]["url"], token).read_bytes() == Path(medium.path).read_bytes()
            assert pair_api.media_path("another-session", pair[side]["url"].rsplit("/", 1)[-1]) is None
    prepared = rating.upcoming
    ahead = {Path(s.path).read_bytes() for s in (prepared.left, prepared.right)} if prepared else set()
    for url in view["next"]:  # the prepared pair's images, loaded ahead
        assert media_file(url, token).read_bytes() in ahead


def check_blind(at, board_id: str) -> None:
    assert not at.exception, at.exception
    text = everything(at)
    assert SECRET.lower() not in text.lower(), [line for line in text.splitlines() if SECRET in line]
    view = pair_view(at)
    if view is not None:
        check_view(view, session(at, board_id))


def answers_in_a_row(at, board_id: str, count: int) -> list[Any]:
    """``count`` answers through ``pair_api.answer`` with no script run between them, as the
    component gives them, each reply checked; the page is then drawn again and checked.
    Returns the matchups the replies showed."""
    rating, view, shown = session(at, board_id), pair_view(at), []
    for _ in range(count):
        if view["pair"] is None:
            break
        status, view = pair_api.answer(view["session"], view["pair"]["id"], "left")
        assert status == 200 and view["error"] is None, view
        check_view(view, rating)
        if view["pair"] is not None:
            shown.append(rating.current)
    at.run()
    check_blind(at, board_id)
    return shown


@pytest.mark.parametrize("state", BLIND_STATES)
def test_the_rate_page_never_names_a_model(client, png, wav, monkeypatch, state):
    lb = blind_board(client, png, wav, state)
    at = open_app(monkeypatch, client.db_path, lb.id, rater=blind_rater(state))
    check_blind(at, lb.id)
    if state == "settled":
        assert "Keep rating anyway" in labels(at) and pair_view(at) is None
        at = click(at, "Keep rating anyway")
        check_blind(at, lb.id)
    pair = session(at, lb.id).current
    assert pair is not None and pair_view(at)["pair"]["id"] == pair.id
    kinds = {pair_view(at)["pair"][side]["kind"] for side in ("left", "right")}
    assert kinds == {"audio" if state == "audio" else "image"}
    if state == "newcomer":  # the new model is on screen, and the strip says one is being placed
        assert NEWCOMER in (pair.left.model, pair.right.model)
        assert progress(at).endswith("Placing a new model: fewer than 10 votes so far")
    repeats = 0
    for _ in range(8 if state == "repeat" else 2):
        if "Keep rating anyway" in labels(at):  # a few more votes may settle a small board
            at = click(at, "Keep rating anyway")
            check_blind(at, lb.id)
        shown = answers_in_a_row(at, lb.id, 3)
        assert shown, "no pair after an answer"
        repeats += sum(1 for matchup in shown if matchup.is_repeat)
        if state == "repeat" and repeats:
            break
    if state == "repeat":
        assert repeats, "no quality-control repeat was served"
