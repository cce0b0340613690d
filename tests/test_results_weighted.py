"""Weighted standings through the store: ``get_standings(weighted=True)`` on real votes."""

from __future__ import annotations

import itertools

import pytest

from rater import Client, ValidationError
from rater.store import catalog, votes

pytestmark = pytest.mark.both_backends

PROMPTS = [f"prompt {k}" for k in range(4)]
MODELS = ["A", "B", "C", "D"]  # best first, by the raters' rules below
T0 = 1_750_000_000.0


@pytest.fixture
def board(client: Client, png):
    lb = client.mri.create_new_leaderboard("Crowd", "Which is better?", PROMPTS)
    for k, name in enumerate(MODELS):
        lb.evaluate_model(name, [png(10 * k + p) for p in range(len(PROMPTS))], PROMPTS)
    return lb


def _vote_all(lb, rater: str, rule: str) -> None:
    """Serve ``rater`` every ordered pair on every prompt (as the matchmaker would store it)
    and vote by ``rule``: "better" (the model first in MODELS), "worse" or "left"."""
    conn = lb._client.store.conn
    media = {(m["model"], m["prompt_id"]): m for m in catalog.list_media(conn, lb.id)}
    prompts = sorted({p for _, p in media})
    for n, (prompt, (left, right)) in enumerate(itertools.product(prompts, itertools.permutations(MODELS, 2))):
        lm, rm = media[(left, prompt)], media[(right, prompt)]
        mid = f"{rater}-{n}"
        votes.insert_matchup(conn, {
            "id": mid, "leaderboard_id": lb.id, "prompt_id": prompt, "left_media": lm["id"],
            "left_model": lm["model_id"], "right_media": rm["id"], "right_model": rm["model_id"],
            "rater": rater, "served_at": T0 + n, "repeat_of": None,
        })
        left_better = MODELS.index(left) < MODELS.index(right)
        choice = {"better": "left" if left_better else "right",
                  "worse": "right" if left_better else "left", "left": "left"}[rule]
        assert votes.insert_vote(conn, mid, rater, choice, T0 + n + 0.5)


def test_weighted_standings_discount_a_contrarian_and_read_left_as_model_a(board) -> None:
    for rater in ("h1", "h2", "h3"):
        _vote_all(board, rater, "better")
    _vote_all(board, "x", "worse")
    _vote_all(board, "lefty", "left")
    plain = board.get_standings(n_bootstrap=0)
    assert "rater_reliability" not in plain.attrs  # the default stays unweighted
    table = board.get_standings(weighted=True)
    assert list(table["name"]) == MODELS
    reliability, left = table.attrs["rater_reliability"], table.attrs["rater_left_share"]
    assert reliability["x"] < 0.1 and reliability["lefty"] < 0.1
    assert min(reliability[r] for r in ("h1", "h2", "h3")) > 0.9
    assert left["lefty"] > 0.9  # the store's left side is model a
    assert 0.4 < left["x"] < 0.6
    assert table["total_matches"].sum() == plain["total_matches"].sum()
    assert list(table.columns) == list(plain.columns)  # preliminary flag and model cards as usual


def test_weighted_options_are_checked(board) -> None:
    _vote_all(board, "h1", "better")
    with pytest.raises(ValidationError, match="rater_prior"):
        board.get_standings(weighted=True, rater_prior=-1)
    with pytest.raises(ValidationError, match="weighted"):
        board.get_standings(weighted="yes")
