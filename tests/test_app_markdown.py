"""What users typed is shown as typed: board names, instructions, prompts, model names, rater
names and link values never turn into links, maths, emphasis, colours or headings in the app.

AppTest gives the Markdown source of each element (``.value``, widget labels), so every
rendered source is checked for unescaped syntax, and :func:`shown` checks that the text the
reader sees is still what was typed.
"""

from __future__ import annotations

import pytest

from rater.errors import ValidationError
from rater.api.leaderboard import Leaderboard
from rater.store import votes

from rater.app import pair_api

from app_support import (
    click,
    markdown_sources,
    open_app,
    pair_view,
    progress,
    session,
    shown,
    start,
)

TRICK = "**bold** _x_ [click](https://evil.example) :red[alert] <b>x</b>"
NAME = f"Board {TRICK}"
INSTRUCTION = f"Is it $5 or $10? {TRICK}"
PROMPTS = [f"A cat {TRICK} :smile:", "Two lines\n\n# Heading\n===\n- [click](https://evil.example) $5 or $10"]
MODELS = [f"m{i} [click](https://evil.example) $5 or $10 :material/home:" for i in range(3)]
RATER = "[Session expired](https://evil.example) $5 or $10"
CRAFTED = "[Session expired - log in again](https://evil.example)"
RATERS = "views/raters.py"
STANDINGS = "views/standings.py"

# Markdown that must never reach Streamlit unescaped (the escaped forms are "\]\(", "\$5").
UNSAFE = ("](https://evil.example)", "$5 or $10", "**bold**", "_x_", ":red[", "<b>", "https://",
          ":smile:", ":material/", "\n#", "\n=", "\n-")


def unsafe(at) -> list[str]:
    """Every rendered Markdown source holding unescaped user syntax (should be none)."""
    return [src for src in markdown_sources(at) if any(bad in src for bad in UNSAFE)]


def texts(at) -> str:
    """What the reader sees of all Markdown on the page."""
    return "\n".join(shown(src) for src in markdown_sources(at))


@pytest.fixture
def board(client, png) -> Leaderboard:
    lb = client.mri.create_new_leaderboard(NAME, INSTRUCTION, PROMPTS, show_prompt=True,
                                           repeat_share=0.0)
    for i, model in enumerate(MODELS):
        lb.evaluate_model(model, [png(10 * i + k) for k in range(len(PROMPTS))], PROMPTS)
    return lb


def plain(text: str) -> bool:
    """Text as typed: no Markdown escapes or word joiners added (the pair component sets it as
    ``textContent``, so it must reach the browser unescaped)."""
    return "\u2060" not in text and shown(text) == text


def test_the_rating_screen_shows_user_text_as_typed(client, board, monkeypatch):
    at = open_app(monkeypatch, client.db_path, board.id)
    assert not unsafe(at)
    assert f"Leaderboard: **{NAME}**" in texts(at)  # bold, and as typed
    start(at, RATER)
    assert session(at, board.id).rater == RATER
    prompts_seen = set()
    for _ in range(4):
        assert not at.exception and not unsafe(at), unsafe(at)
        [header] = at.header
        assert r"\$5 or \$10" in header.value and r"\]\(https" in header.value
        assert shown(header.value) == INSTRUCTION  # the heading is the instruction, as typed
        pair = session(at, board.id).current
        prompts_seen.add(pair.prompt)
        view = pair_view(at)  # plain text in the component: the prompt exactly as typed
        assert view["pair"]["prompt"] == pair.prompt
        assert not [src for src in markdown_sources(at) if "Prompt" in src]  # not as Markdown
        assert all(plain(label) for label in view["labels"].values()) and plain(view["progress"])
        assert f"Rating as **{RATER}**  \non **{NAME}**" in texts(at)  # the sidebar
        click(at, "A is better")
    assert prompts_seen == set(PROMPTS)
    placing = progress(at)
    assert placing.startswith("Your votes this session: 4") and "Placing a new model" in placing
    assert not [m for m in MODELS if m.lower() in placing.lower()]  # never a model's name


def test_a_multi_line_prompt_keeps_its_lines_but_starts_no_block(client, board, monkeypatch):
    at = start(open_app(monkeypatch, client.db_path, board.id), "alice")
    while session(at, board.id).current.prompt != PROMPTS[1]:
        click(at, "Skip")
    # set as textContent (white-space: pre-wrap): the lines kept, "# Heading" is just text
    assert pair_view(at)["pair"]["prompt"] == (
        "Two lines\n\n# Heading\n===\n- [click](https://evil.example) $5 or $10")
    assert not [src for src in markdown_sources(at) if "Heading" in src]


@pytest.mark.parametrize("page", [None, RATERS, STANDINGS])
def test_a_crafted_board_link_is_quoted_not_linked(client, board, monkeypatch, page):
    at = open_app(monkeypatch, client.db_path, CRAFTED)
    if page:
        at.switch_page(page).run()
    assert not at.exception and not unsafe(at), unsafe(at)
    [warning] = at.warning
    assert r"\[Session expired \- log in again\]\(https\:" in warning.value
    assert shown(warning.value) == f"No leaderboard has the id {CRAFTED!r}: pick one below."


def test_a_personal_link_with_a_crafted_name(client, board, monkeypatch):
    at = open_app(monkeypatch, client.db_path, board.id, rater=RATER)
    assert not at.exception and not unsafe(at), unsafe(at)
    assert session(at, board.id).rater == RATER and f"Rating as **{RATER}**" in texts(at)
    refused = open_app(monkeypatch, client.db_path, board.id, rater=f"{RATER}\x07")
    assert not unsafe(refused)
    assert "The name in the link cannot be used: your name contains control characters" in (
        shown(refused.warning[0].value))


def _rated(board: Leaderboard, rater: str, count: int) -> None:
    for _ in range(count):
        pair = board.next_matchup(rater)
        board.record_vote(pair.id, "left", rater)


def test_raters_page_and_its_toast(client, board, monkeypatch):
    _rated(board, RATER, 2)
    _rated(board, "bob", 1)
    at = open_app(monkeypatch, client.db_path, board.id)
    at.switch_page(RATERS).run()
    assert list(at.dataframe[0].value["Rater"]) == sorted([RATER, "bob"])  # cells: plain text
    [picker] = [s for s in at.selectbox if s.label == "Rater"]
    assert RATER in picker.options  # options are plain text too: shown unescaped
    picker.set_value(RATER).run()
    click(at, "Exclude from standings")
    assert not unsafe(at), unsafe(at)
    [toast] = at.toast
    assert r"\[Session expired\]\(https\:" in toast.value
    assert shown(toast.value) == f"{RATER} is excluded from the standings."
    assert [s.name for s in board.raters() if s.excluded] == [RATER]
    [picker] = [s for s in at.selectbox if s.label == "Rater"]
    assert f"{RATER} (excluded)" in picker.options


def test_a_refused_vote_names_the_rater_as_plain_text(client, board, monkeypatch):
    at = start(open_app(monkeypatch, client.db_path, board.id), "alice")
    session(at, board.id).rater = RATER  # the pair on screen was served to alice
    view = pair_view(at)
    status, reply = pair_api.answer(view["session"], view["pair"]["id"], "left")
    assert status == 200 and reply["pair"] == view["pair"]  # refused: the pair stays
    # the component shows the error as textContent: the rater's name as typed, unescaped
    assert reply["error"].startswith("Your vote was not saved: matchup ")
    assert f"not to {RATER!r}" in reply["error"] and plain(reply["error"])
    assert votes.get_vote(client.store.conn, view["pair"]["id"]) is None
    at.run()  # (a new session: its rater is "alice" again) nothing of it as Markdown either
    assert not at.exception and not unsafe(at), unsafe(at)
    assert not [src for src in markdown_sources(at) if "not saved" in src]


def test_errors_quoting_names_are_escaped(client, board, monkeypatch):
    """Errors from the store quote names; these are forced here (the rater disappears between
    drawing the page and the click, the standings cannot be computed, no pair can be served)."""
    _rated(board, RATER, 1)
    at = open_app(monkeypatch, client.db_path, board.id)
    at.switch_page(RATERS).run()
    monkeypatch.setattr(votes, "rater_known", lambda *args: False)
    click(at, "Exclude from standings")
    assert not unsafe(at), unsafe(at)
    assert f"no rater named {RATER!r}" in shown(at.error[0].value)

    def refuse(*args, **kwargs):
        raise ValidationError(f"model {MODELS[0]!r} in {PROMPTS[1]!r}")

    monkeypatch.setattr(Leaderboard, "get_standings", refuse)
    at.switch_page(STANDINGS).run()
    assert not unsafe(at), unsafe(at)
    assert shown(at.error[0].value) == "Cannot compute standings: " + " ".join(
        f"model {MODELS[0]!r} in {PROMPTS[1]!r}".split())
    monkeypatch.setattr(Leaderboard, "next_matchup", refuse)
    rating = start(open_app(monkeypatch, client.db_path, board.id), "carol")
    assert not unsafe(rating), unsafe(rating)
    assert shown(rating.error[0].value).startswith(f"Cannot serve a pair: model {MODELS[0]!r}")
