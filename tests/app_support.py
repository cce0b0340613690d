"""Helpers for the rating app's tests: boards with real media, and driving the app with AppTest."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import AlertBase, HeadingBase, Markdown, Toast

from rater import Client, Leaderboard
from rater.app import pair_api
from rater.app.session import RatingSession

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "rater" / "app" / "streamlit_app.py"
PROMPTS = ["A red cube", "A blue sphere", "A green cone", "A yellow star"]
INSTRUCTION = "Which image is better?"


def make_board(
    client: Client, png: Callable[..., Path], *, models: int = 3, prompts: int = 2, **options: Any
) -> Leaderboard:
    """A board whose models ``model-0``, ``model-1``, ... have one distinct PNG per prompt."""
    texts = PROMPTS[:prompts]
    lb = client.mri.create_new_leaderboard("Test board", INSTRUCTION, texts, **options)
    seed = 100 * (len(client.mri.list_leaderboards()))
    for m in range(models):
        files = []
        for _ in texts:
            seed += 1
            files.append(png(seed))
        lb.evaluate_model(f"model-{m}", files, texts)
    return lb


def open_app(
    monkeypatch: pytest.MonkeyPatch,
    db_path: Path,
    board_id: str | None = None,
    *,
    passcode: str | None = None,
    admin_passcode: str | None = None,
    rater: str | None = None,
    host: str | None = "127.0.0.1",
) -> AppTest:
    """The app on ``db_path`` after its first run (optionally with ``?leaderboard=board_id``
    and ``&rater=NAME``, as a refreshed page or a personal link would have), as ``rater serve
    --host HOST`` starts it (``host=None``: started some other way)."""
    monkeypatch.setenv("RATER_DB", str(db_path))
    for name, value in (("RATER_PASSCODE", passcode), ("RATER_ADMIN_PASSCODE", admin_passcode),
                        ("RATER_HOST", host)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    at = AppTest.from_file(str(APP), default_timeout=60)
    if board_id is not None:
        at.query_params["leaderboard"] = board_id
    if rater is not None:
        at.query_params["rater"] = rater
    return at.run()


def button(at: AppTest, label: str) -> Any:
    """The one Streamlit button with this label (fails when there is none or several)."""
    found = [b for b in at.button if b.label == label]
    assert len(found) == 1, f"expected one {label!r} button, found {labels(at)}"
    return found[0]


def pair_view(at: AppTest) -> dict[str, Any] | None:
    """The view the pair component was drawn with (:func:`rater.app.pair_api.pair_view`), or
    None when the page shows no pair."""
    found = [el.proto for el in at.main if getattr(el, "type", None) == "bidi_component"
             and el.proto.component_name == "rater.pair"]
    assert len(found) <= 1, found
    return json.loads(found[0].json) if found else None


def answer_labels(at: AppTest) -> dict[str, str]:
    """The pair component's answers, label -> choice (empty when no pair is shown)."""
    view = pair_view(at)
    return {label: choice for choice, label in view["labels"].items()} if view else {}


def labels(at: AppTest) -> list[str]:
    """Every button's label: Streamlit's, then the pair component's answers."""
    return [b.label for b in at.button] + list(answer_labels(at))


def answer(at: AppTest, choice: str) -> AppTest:
    """Give an answer as the pair component does (``POST /_rater/answer``: the same function),
    then draw the page again, as the browser would show the reply."""
    view = pair_view(at)
    assert view is not None and view["pair"] is not None, f"no pair on screen: {labels(at)}"
    status, reply = pair_api.answer(view["session"], view["pair"]["id"], choice)
    assert status == 200, reply
    at.run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, label: str) -> AppTest:
    """Press the button with this label: a Streamlit button, or an answer of the pair."""
    choices = answer_labels(at)
    if label in choices and not any(b.label == label for b in at.button):
        return answer(at, choices[label])
    button(at, label).click()
    at.run()
    assert not at.exception, at.exception
    return at


def start(at: AppTest, name: str = "alice") -> AppTest:
    """Fill in the start form and press "Start rating"."""
    [field] = [t for t in at.text_input if t.label == "Your name"]
    field.input(name)
    return click(at, "Start rating")


def session(at: AppTest, board_id: str) -> RatingSession:
    return at.session_state["rating_sessions"][board_id]


def page_text(at: AppTest, skip: tuple[str, ...] = ()) -> str:
    """Everything the page says, main area and sidebar (the elements' protobuf text), leaving
    out the elements whose value is in ``skip``."""
    return "\n".join(
        str(getattr(node, "proto", ""))
        for part in (at.main, at.sidebar)
        for node in part
        if getattr(node, "value", None) not in skip or not isinstance(getattr(node, "value", None), str)
    )


def shown_sides(at: AppTest) -> list[dict[str, str]]:
    """The media of the pair on screen, in page order: the prompt's asset (when shown), A, B;
    each a dict with ``kind`` and ``url`` (a text: ``text``)."""
    view = pair_view(at)
    if view is None or view["pair"] is None:
        return []
    pair = view["pair"]
    return [side for side in (pair["given"], pair["left"], pair["right"]) if side is not None]


def media_urls(at: AppTest, kind: str = "image") -> list[str]:
    """URLs of the shown media of ``kind``, in page order (the prompt's asset first)."""
    return [side["url"] for side in shown_sides(at) if side["kind"] == kind]


def pair_urls(at: AppTest) -> tuple[str, str]:
    """The URLs of the A and B media."""
    pair = (pair_view(at) or {}).get("pair")
    assert pair is not None, f"no pair on screen: {labels(at)}"
    return pair["left"]["url"], pair["right"]["url"]


def progress(at: AppTest) -> str:
    """The progress line ("Your votes this session: ..."), of the pair or of the closing screen."""
    view = pair_view(at)
    if view is not None and view["pair"] is not None:
        return view["progress"]
    [line] = [c.value for c in at.caption if c.value.startswith("Your votes this session")]
    return line


def markdown_sources(at: AppTest) -> list[str]:
    """The Markdown source of everything Streamlit renders as Markdown, main area, sidebar and
    toasts: texts and captions, headings, alerts, toasts and widget labels. (Selectbox options,
    table cells and text input values are plain text, and are left out.)"""
    sources = []
    for node in [*at.main, *at.sidebar, *at.toast]:
        if isinstance(node, (Markdown, HeadingBase, AlertBase, Toast)):
            sources.append(node.value)
        elif isinstance(getattr(node, "label", None), str):
            sources.append(node.label)
    return sources


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(source: str) -> str:
    """What a reader sees of escaped Markdown source: the text without its backslash escapes
    and the invisible word joiners that keep emoji, icons and bare links as typed."""
    return _ESCAPED.sub(r"\1", source).replace("\u2060", "")


# -- blind boards: model names that are easy to spot, in every state a board can be in ----------

SECRET = "SECRETMODELNAME"
SECRET_MODELS = [f"{SECRET}-alpha", f"{SECRET}-beta", f"{SECRET}-gamma"]
NEWCOMER = f"{SECRET}-newcomer"
BLIND_STATES = ("newcomer", "ordinary", "settled", "repeat", "audio")


def _secret_media(factory: Callable[..., Path], model: str, k: int, seed: int, ext: str) -> Path:
    return factory(seed, f"{model}-prompt{k}.{ext}")  # the source file is named after its model


def add_secret_model(lb: Leaderboard, factory: Callable[..., Path], model: str, ext: str = "png") -> None:
    seed = 1000 * (1 + len(lb.models())) + 7 * len(lb.id)
    files = [_secret_media(factory, model, k, seed + k, ext) for k in range(len(lb.prompts))]
    lb.evaluate_model(model, files, lb.prompts)


def vote_until(lb: Leaderboard, done: Callable[[Any], bool], limit: int = 300) -> None:
    """Vote by a fixed true order (alpha > beta > newcomer > gamma) until ``done(lb.status())``,
    "alice" first, then other raters once she has seen every pair."""
    truth = [SECRET_MODELS[0], SECRET_MODELS[1], NEWCOMER, SECRET_MODELS[2]]
    raters = iter(["alice", *(f"voter-{i}" for i in range(limit))])
    rater = next(raters)
    for _ in range(limit):
        if done(lb.status()):
            return
        pair = lb.next_matchup(rater, continue_when_settled=True)
        while pair is None:
            rater = next(raters)
            pair = lb.next_matchup(rater, continue_when_settled=True)
        better = truth.index(pair.left.model) < truth.index(pair.right.model)
        lb.record_vote(pair.id, "left" if better else "right", rater)
    raise AssertionError(f"not reached in {limit} votes: {lb.status().message}")


def blind_board(client: Client, png: Callable[..., Path], wav: Callable[..., Path], state: str) -> Leaderboard:
    """A board in ``state`` (one of :data:`BLIND_STATES`) whose models' names contain
    :data:`SECRET`; "alice" has voted on it (so quality-control repeats can be served to her,
    see :func:`blind_rater`)."""
    options: dict[str, Any] = {"show_prompt": True, "repeat_share": 0.0}
    if state == "settled":
        options["max_pair_votes"] = 2
    if state == "repeat":
        options["repeat_share"] = 0.5
    lb = client.mri.create_new_leaderboard(f"Blind {state}", INSTRUCTION, PROMPTS, **options)
    factory, ext = (wav, "wav") if state == "audio" else (png, "png")
    if state == "audio":
        factory = lambda seed, name: wav(200.0 + seed, name)  # noqa: E731  (distinct tones)
    # on the repeat board a fourth model leaves "alice" plenty of new pairs between repeats
    for model in SECRET_MODELS + ([NEWCOMER] if state == "repeat" else []):
        add_secret_model(lb, factory, model, ext)
    if state == "settled":
        vote_until(lb, lambda s: s.settled)
    elif state in ("ordinary", "newcomer"):
        vote_until(lb, lambda s: s.message.startswith("ranking"))
    else:
        vote_until(lb, lambda s: s.votes >= 6)
    if state == "newcomer":
        add_secret_model(lb, factory, NEWCOMER, ext)
        assert lb.status().message.startswith(f"placing {NEWCOMER}")  # what used to be shown
    return lb


def blind_rater(state: str) -> str:
    """Who rates a :func:`blind_board` in the app: "alice" for repeats of her pairs, else a
    newcomer who has every pair still to see."""
    return "alice" if state == "repeat" else "zoe"
