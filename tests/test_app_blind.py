"""Blind rating, driven with AppTest: no text the Rate page renders names a model or tells the
two sides apart, on boards in every state (a newcomer being placed, ordinary, settled with "Keep
rating anyway", a quality-control repeat on screen, audio). The models' names (and their source
files' names) contain ``SECRETMODELNAME``, which must appear nowhere.
"""

from __future__ import annotations

import re

import pytest

from app_support import (
    BLIND_STATES,
    NEWCOMER,
    SECRET,
    blind_board,
    blind_rater,
    button,
    click,
    labels,
    open_app,
    page_text,
    progress,
    session,
)

MEDIA_URL = re.compile(r"/media/[0-9a-f]+\.\w+")


def everything(at) -> str:
    """Every text the page renders: each element's protobuf (text, Markdown, captions, help,
    labels, options, media URLs), main area and sidebar, toasts, and the URL's query."""
    return "\n".join([page_text(at), *(str(t.proto) for t in at.toast), str(dict(at.query_params))])


def sides(at) -> list[str]:
    """The A and B columns' elements, media URLs and the letter left out: they must be equal."""
    out = []
    for column in at.main.columns:
        letters = [h.value for h in column if getattr(h, "type", "") == "subheader"]
        if letters in (["A"], ["B"]):
            text = "\n".join(str(node.proto) for node in column if node is not column)
            out.append(MEDIA_URL.sub("MEDIA", text).replace(f'"{letters[0]}"', '"LETTER"'))
    return out


def check_blind(at) -> None:
    assert not at.exception, at.exception
    text = everything(at)
    assert SECRET.lower() not in text.lower(), [line for line in text.splitlines() if SECRET in line]
    found = sides(at)
    if found:
        assert len(found) == 2 and found[0] == found[1]


@pytest.mark.parametrize("state", BLIND_STATES)
def test_the_rate_page_never_names_a_model(client, png, wav, monkeypatch, state):
    lb = blind_board(client, png, wav, state)
    at = open_app(monkeypatch, client.db_path, lb.id, rater=blind_rater(state))
    check_blind(at)
    if state == "settled":
        assert "Keep rating anyway" in labels(at)
        at = click(at, "Keep rating anyway")
        check_blind(at)
    pair = session(at, lb.id).current
    assert pair is not None
    if state == "newcomer":  # the new model is on screen, and the strip says one is being placed
        assert NEWCOMER in (pair.left.model, pair.right.model)
        assert progress(at).endswith("Placing a new model: fewer than 10 votes so far")
    repeats = 0
    for _ in range(16 if state == "repeat" else 4):
        if repeats:
            break
        if "Keep rating anyway" in labels(at):  # a few more votes may settle a small board
            at = click(at, "Keep rating anyway")
            check_blind(at)
        button(at, "A is better").click()
        at.run()
        check_blind(at)
        current = session(at, lb.id).current
        repeats += bool(current is not None and current.is_repeat)
    if state == "repeat":
        assert repeats, "no quality-control repeat was served"
