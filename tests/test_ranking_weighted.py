"""compute_weighted_standings: rater reliability estimated jointly with the model strengths.

Votes come from small hand-built boards or from the simulator below (independent of
``ranking.simulate``); expected values are properties of the setup (who is honest, who clicks
at random), never numbers produced by the code under test.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from scipy.stats import kendalltau

from ranking import (
    STANDINGS_COLUMNS,
    RankingError,
    Vote,
    VoteArrays,
    compute_standings,
    compute_weighted_standings,
)

MODELS = ["A", "B", "C", "D"]  # best first


def _always(rater: str, better_wins: bool, repeats: int, pairs: list[tuple[str, str]] | None = None) -> list[Vote]:
    """``repeats`` votes of ``rater`` on each ordered pair (both sides), always choosing the
    better model (or always the worse one)."""
    votes = []
    for left, right in pairs or list(itertools.permutations(MODELS, 2)):
        left_better = MODELS.index(left) < MODELS.index(right)
        votes += [Vote(left, right, "a" if left_better == better_wins else "b", prompt=f"p{k % 4}",
                       rater=rater) for k in range(repeats)]
    return votes


def _contrarian_board() -> list[Vote]:
    """Three honest raters, and a prolific contrarian who always picks the worse model and
    piles 60 votes per side on B against C: more B-C votes than the honest raters' 30."""
    honest = [v for r in ("h1", "h2", "h3") for v in _always(r, True, 5)]
    contrarian = _always("x", False, 3) + _always("x", False, 60, [("B", "C"), ("C", "B")])
    return honest + contrarian


@pytest.mark.parametrize("method", ["plackett_luce", "thurstone_mosteller_full"])
def test_a_contrarian_gets_low_reliability_and_loses_his_grip_on_the_order(method: str) -> None:
    votes = _contrarian_board()
    unweighted = compute_standings(votes, n_bootstrap=0, method=method)
    assert list(unweighted["name"]) == ["A", "C", "B", "D"]  # the contrarian's volume wins B-C
    table = compute_weighted_standings(votes, method=method)
    assert table.attrs["method"] == method
    assert list(table["name"]) == MODELS
    reliability = table.attrs["rater_reliability"]
    assert set(reliability) == {"h1", "h2", "h3", "x"}
    assert reliability["x"] < 0.1
    assert all(reliability[r] > 0.8 for r in ("h1", "h2", "h3"))
    assert list(table.columns) == STANDINGS_COLUMNS
    assert table["wins"].sum() == len(votes)  # counts stay unweighted


def test_the_same_votes_in_any_order_give_identical_output() -> None:
    votes = _noisy_board(np.random.default_rng(3), n_votes=1500, kinds=["honest"] * 6 + ["random", "left"])
    expected = compute_weighted_standings(votes)
    rng = np.random.default_rng(7)
    for _ in range(2):
        shuffled = [votes[k] for k in rng.permutation(len(votes))]
        got = compute_weighted_standings(shuffled)
        pd.testing.assert_frame_equal(got, expected)
        assert got.attrs["rater_reliability"] == expected.attrs["rater_reliability"]
        assert got.attrs["rater_left_share"] == expected.attrs["rater_left_share"]
    # The same rows as arrays whose model and rater lists are in another order.
    base = VoteArrays.from_votes(votes)
    model_perm, rater_perm = rng.permutation(len(base.models)), rng.permutation(len(base.raters))
    model_pos, rater_pos = np.argsort(model_perm), np.argsort(rater_perm)
    rows = rng.permutation(len(base))
    permuted = VoteArrays(
        models=tuple(base.models[k] for k in model_perm), prompts=base.prompts,
        raters=tuple(base.raters[k] for k in rater_perm), a=model_pos[base.a[rows]],
        b=model_pos[base.b[rows]], score_a=base.score_a[rows], prompt=base.prompt[rows],
        rater=rater_pos[base.rater[rows]], time=base.time[rows], excluded=base.excluded[rows])
    got = compute_weighted_standings(permuted)
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs["rater_reliability"] == expected.attrs["rater_reliability"]


def _noisy_board(rng: np.random.Generator, *, n_votes: int, kinds: list[str], n_models: int = 8,
                 n_prompts: int = 20) -> list[Vote]:
    """Bradley-Terry votes on evenly spread strengths (model ``m0`` best); each vote's rater is
    drawn uniformly from ``kinds``: "honest", "random" (coin flip) or "left" (always left)."""
    theta = np.linspace(1.5, -1.5, n_models)
    votes = []
    for _ in range(n_votes):
        i, j = rng.choice(n_models, 2, replace=False)
        r = int(rng.integers(len(kinds)))
        p_left = {"honest": expit(theta[i] - theta[j]), "random": 0.5, "left": 1.0}[kinds[r]]
        outcome = "a" if rng.random() < p_left else "b"
        votes.append(Vote(f"m{i}", f"m{j}", outcome, prompt=f"p{rng.integers(n_prompts)}", rater=f"r{r}"))
    return votes


def test_with_only_honest_raters_it_stays_close_to_compute_standings() -> None:
    votes = _noisy_board(np.random.default_rng(11), n_votes=4000, kinds=["honest"] * 10)
    plain = compute_standings(votes, n_bootstrap=0).set_index("name")
    table = compute_weighted_standings(votes).set_index("name")
    names = sorted(plain.index)
    tau = kendalltau(plain.loc[names, "score"], table.loc[names, "score"])[0]
    assert tau > 0.99
    assert np.abs(plain.loc[names, "score"] - table.loc[names, "score"]).max() < 15
    assert all(w > 0.9 for w in table.attrs["rater_reliability"].values())
    plain_width = plain.loc[table.index, "ci_high"] - plain.loc[table.index, "ci_low"]
    width = (table["ci_high"] - table["ci_low"]) / plain_width
    assert width.between(0.9, 1.2).all()


def test_random_and_left_clickers_are_found_and_discounted() -> None:
    kinds = ["honest"] * 5 + ["random", "random", "left"]
    votes = _noisy_board(np.random.default_rng(5), n_votes=6000, kinds=kinds)
    table = compute_weighted_standings(votes)
    reliability, left = table.attrs["rater_reliability"], table.attrs["rater_left_share"]
    for r, kind in enumerate(kinds):
        if kind == "honest":
            assert reliability[f"r{r}"] > 0.85
        else:
            assert reliability[f"r{r}"] < 0.25
    assert left["r7"] > 0.95  # the left clicker's lapses go left
    assert 0.3 < left["r5"] < 0.7 and 0.3 < left["r6"] < 0.7
    truth = [f"m{k}" for k in range(8)]
    assert list(table["name"]) == truth


def test_ties_count_half_as_in_compute_standings() -> None:
    votes = [Vote(x, y, "tie", rater=r) for x, y in itertools.combinations(MODELS, 2) for r in ("u", "v")]
    table = compute_weighted_standings(votes)
    assert np.allclose(table["score"], 1000.0)
    assert (table["ties"] == 6).all()
    # A tie-only rater beside honest ones: their votes read as lapses, half each side.
    board = [v for r in ("h1", "h2") for v in _always(r, True, 4)] + [
        Vote(x, y, "tie", rater="t") for x, y in itertools.permutations(MODELS, 2) for _ in range(6)]
    table = compute_weighted_standings(board)
    assert table.attrs["rater_reliability"]["t"] < 0.2
    assert table.attrs["rater_left_share"]["t"] == pytest.approx(0.5, abs=0.05)
    assert list(table["name"]) == MODELS


def test_inverse_board_reads_the_chosen_model_as_the_worse_and_mirrors_the_side() -> None:
    votes = _noisy_board(np.random.default_rng(2), n_votes=1200, kinds=["honest"] * 4 + ["left"])
    flip = {"a": "b", "b": "a", "tie": "tie"}
    worse = [Vote(v.model_a, v.model_b, flip[v.outcome], v.prompt, v.rater) for v in votes]
    better = compute_weighted_standings(votes)
    inverse = compute_weighted_standings(worse, inverse=True)
    pd.testing.assert_frame_equal(better, inverse, check_exact=False, rtol=1e-6)
    for r, share in better.attrs["rater_left_share"].items():
        # Flipping every click moves the left clicker's clicks right: on the inverse board
        # the left clicker is one who clicks right.
        assert inverse.attrs["rater_left_share"][r] == pytest.approx(1 - share, abs=1e-6)
    assert inverse.attrs["inverse"] is True


def test_excluded_votes_unrated_models_and_bootstrap_intervals() -> None:
    votes = _always("h1", True, 3) + [Vote("A", "D", "b", rater="bad", excluded=True)]
    arrays = VoteArrays.from_votes(votes, models=MODELS + ["E"])
    table = compute_weighted_standings(arrays, n_bootstrap=20, seed=1)
    assert list(table["name"]) == MODELS + ["E"]
    assert table.attrs["excluded_votes"] == 1 and "bad" not in table.attrs["rater_reliability"]
    assert np.isnan(table.loc[4, "score"]) and table.loc[4, "total_matches"] == 0
    assert table.attrs["interval_method"] == "prompt bootstrap (crowd)"
    rated = table.iloc[:4]
    assert ((rated["ci_low"] < rated["score"]) & (rated["score"] < rated["ci_high"])).all()
    again = compute_weighted_standings(arrays, n_bootstrap=20, seed=1)
    pd.testing.assert_frame_equal(table, again)


def test_bootstrap_and_sandwich_intervals_agree_roughly_on_a_noisy_board() -> None:
    votes = _noisy_board(np.random.default_rng(4), n_votes=3000, kinds=["honest"] * 5 + ["random"])
    sandwich = compute_weighted_standings(votes)
    boot = compute_weighted_standings(votes, n_bootstrap=40)
    assert sandwich.attrs["interval_method"] == "prompt sandwich (crowd)"
    assert boot.attrs["interval_method"] == "prompt bootstrap (crowd)"
    ratio = (boot["ci_high"] - boot["ci_low"]).mean() / (sandwich["ci_high"] - sandwich["ci_low"]).mean()
    assert 0.7 < ratio < 1.4


def test_empty_board_and_bad_options() -> None:
    empty = compute_weighted_standings(VoteArrays.from_votes([], models=["A", "B"]))
    assert list(empty["name"]) == ["A", "B"] and empty.attrs["rater_reliability"] == {}
    votes = _always("h1", True, 1)
    for options in ({"rater_prior": 0}, {"rater_prior": float("nan")}, {"confidence": 1.5},
                    {"n_bootstrap": -1}, {"method": "elo"}):
        with pytest.raises(RankingError):
            compute_weighted_standings(votes, **options)
