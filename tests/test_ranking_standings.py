"""compute_standings on small hand-computed cases.

Reference values come from closed forms or from scipy root finding on the posterior we
derive here by hand, with OpenSkill's default constants read from openskill itself.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest
from openskill.models import PlackettLuce
from scipy.optimize import brentq
from scipy.special import expit

from ranking import (
    STANDINGS_COLUMNS,
    RankingError,
    Vote,
    VoteArrays,
    compute_standings,
    prompt_mask,
    standings_by_prompt,
)

_OS = PlackettLuce()
C = math.sqrt(2) * _OS.beta  # OpenSkill's two-player spread with certain skills
PRIOR = (C / _OS.sigma) ** 2  # OpenSkill's N(25, (25/3)^2) prior, in log-odds units
ELO = 400 / math.log(10)


def _duel(wins: int, losses: int, ties: int = 0) -> list[Vote]:
    return [Vote("A", "B", "a")] * wins + [Vote("A", "B", "b")] * losses + [Vote("A", "B", "tie")] * ties


@pytest.mark.parametrize(("wins", "losses", "ties"), [(1, 0, 0), (7, 3, 0), (3, 1, 2), (20, 0, 5)])
def test_two_models_match_the_closed_form_posterior_mode(wins: int, losses: int, ties: int) -> None:
    """By symmetry z_A = -z_B = d/2 and the posterior mode solves
    ``s - n * expit(d) - PRIOR * d / 2 = 0`` (s = wins + ties/2, n = all votes)."""
    n, s = wins + losses + ties, wins + ties / 2
    d = brentq(lambda x: s - n * expit(x) - PRIOR * x / 2, -50, 50, xtol=1e-14)
    table = compute_standings(_duel(wins, losses, ties)).set_index("name")
    assert table.loc["A", "score"] == pytest.approx(1000 + ELO * d / 2, abs=1e-6)
    assert table.loc["B", "score"] == pytest.approx(1000 - ELO * d / 2, abs=1e-6)
    assert table.loc["A", "mu"] == pytest.approx(25 + C * d / 2, abs=1e-8)
    # Laplace sigma relative to the average: var(d) = 2 / (2w + PRIOR), w = n p (1 - p).
    w = n * expit(d) * (1 - expit(d))
    assert table.loc["A", "sigma"] == pytest.approx(C * math.sqrt(2 / (2 * w + PRIOR)) / 2, rel=1e-6)
    assert table.loc["A", "wins"] == wins and table.loc["B", "losses"] == wins
    assert table.loc["A", "ties"] == ties and table.loc["A", "total_matches"] == n
    assert table.loc["A", "win_rate"] == pytest.approx(s / n)
    assert table.loc["A", "rank"] == 1


def test_columns_types_and_attrs() -> None:
    votes = _duel(3, 1, 1) + [Vote("B", "C", "a", excluded=True), Vote("C", "A", "b")]
    table = compute_standings(votes, n_bootstrap=50)
    assert list(table.columns) == STANDINGS_COLUMNS
    assert table.attrs["votes"] == 6 and table.attrs["excluded_votes"] == 1
    assert table.attrs["method"] == "plackett_luce"
    assert table.attrs["interval_method"] == "vote bootstrap"
    for column in ("rank", "rank_low", "rank_high", "tied_group", "wins", "losses", "ties", "total_matches"):
        assert table[column].dtype == np.int64, column
    assert not table.isna().any().any()
    assert (table["ci_low"] <= table["ci_high"]).all()
    assert table["rank"].tolist() == [1, 2, 3]
    assert (table["rank_low"] <= table["rank"]).all() and (table["rank"] <= table["rank_high"]).all()


def test_excluded_votes_are_left_out() -> None:
    votes = _duel(2, 1) + [Vote("B", "A", "a", excluded=True)] * 50
    with_excluded = compute_standings(votes, n_bootstrap=0)
    without = compute_standings(_duel(2, 1), n_bootstrap=0)
    pd.testing.assert_frame_equal(with_excluded, without, check_exact=True, check_like=False)
    assert with_excluded.attrs["excluded_votes"] == 50 and with_excluded.attrs["votes"] == 3


def test_models_without_votes_are_ranked_last() -> None:
    va = VoteArrays.from_votes(_duel(2, 1), models=["zz_new", "B", "A", "aa_new"])
    table = compute_standings(va)
    assert table["name"].tolist() == ["A", "B", "aa_new", "zz_new"]
    new = table.iloc[2:]
    assert new["rank"].tolist() == [3, 4]
    assert new["rank_low"].tolist() == [1, 1] and new["rank_high"].tolist() == [4, 4]
    assert new["score"].isna().all() and new["ci_low"].isna().all()
    assert new["mu"].tolist() == [25.0, 25.0] and new["sigma"].tolist() == [_OS.sigma] * 2
    assert new["win_rate"].isna().all() and new["total_matches"].tolist() == [0, 0]
    assert new["tied_group"].nunique() == 1
    assert new["tied_group"].iloc[0] > table["tied_group"].iloc[:2].max()


def test_no_votes_at_all() -> None:
    va = VoteArrays.from_votes([], models=["b", "a"])
    table = compute_standings(va)
    assert table["name"].tolist() == ["a", "b"]
    assert table["rank_high"].tolist() == [2, 2] and table.attrs["votes"] == 0
    assert compute_standings([]).empty


def test_inverse_flips_who_is_better() -> None:
    worse_votes = [Vote("A", "B", "a")] * 4 + [Vote("B", "C", "a")] * 4 + [Vote("A", "C", "tie")]
    table = compute_standings(worse_votes, inverse=True, n_bootstrap=0)
    assert table["name"].tolist() == ["C", "B", "A"]  # A was chosen as worse most often
    by_name = table.set_index("name")
    assert by_name.loc["B", "wins"] == 4 and by_name.loc["A", "wins"] == 0
    assert by_name.loc["C", "wins"] == 4 and by_name.loc["A", "ties"] == 1
    flipped = [Vote(v.model_a, v.model_b, {"a": "b", "b": "a", "tie": "tie"}[v.outcome]) for v in worse_votes]
    straight = compute_standings(flipped, n_bootstrap=0)
    pd.testing.assert_frame_equal(table, straight, check_exact=True)


def _board(seed: int) -> list[Vote]:
    rng = random.Random(seed)
    strength = {m: rng.gauss(0, 1) for m in "ABCDEFGH"}
    votes = []
    for k in range(600):
        a, b = rng.sample(sorted(strength), 2)
        p = 1 / (1 + math.exp(strength[b] - strength[a]))
        u = rng.random()
        outcome = "tie" if u < 0.1 else ("a" if rng.random() < p else "b")
        votes.append(Vote(a, b, outcome, prompt=f"p{k % 37}", time=float(k)))
    return votes


@pytest.mark.parametrize("method", ["plackett_luce", "bradley_terry_full", "thurstone_mosteller_full"])
def test_order_of_votes_and_models_does_not_matter(method: str) -> None:
    votes = _board(1)
    reference = compute_standings(votes, method=method)
    assert reference.attrs["interval_method"] == "prompt bootstrap"
    for seed in range(3):
        shuffled = votes[:]
        random.Random(seed).shuffle(shuffled)
        models = sorted({v.model_a for v in votes}, key=lambda m: random.Random(seed).random())
        prompts = sorted({v.prompt for v in votes}, reverse=bool(seed % 2))
        va = VoteArrays.from_votes(shuffled, models=models, prompts=prompts)
        pd.testing.assert_frame_equal(compute_standings(va, method=method), reference, check_exact=True)


def test_seed_changes_only_intervals() -> None:
    votes = _board(2)
    one, two = compute_standings(votes, seed=1), compute_standings(votes, seed=2)
    assert one["name"].tolist() == two["name"].tolist()
    assert one["score"].tolist() == two["score"].tolist()
    assert one["ci_low"].tolist() != two["ci_low"].tolist()


def test_methods_are_selectable_and_logistic_ones_coincide() -> None:
    votes = _board(3)
    pl = compute_standings(votes, method="plackett_luce", n_bootstrap=0)
    bt = compute_standings(votes, method="bradley_terry_full", n_bootstrap=0)
    tm = compute_standings(votes, method="thurstone_mosteller_full", n_bootstrap=0)
    np.testing.assert_allclose(pl["score"], bt["score"], atol=1e-9)
    assert tm.attrs["link"] == "probit" and pl.attrs["link"] == "logit"
    assert abs(tm["score"] - pl["score"]).max() > 1e-3  # a different likelihood
    assert tm["name"].tolist()[:3] == pl["name"].tolist()[:3]


def test_clear_gaps_separate_ranks_and_groups() -> None:
    votes = (
        [Vote("A", "B", "a")] * 90 + [Vote("A", "B", "b")] * 10
        + [Vote("B", "C", "a")] * 90 + [Vote("B", "C", "b")] * 10
        + [Vote("C", "D", "a")] * 50 + [Vote("C", "D", "b")] * 50
    )
    table = compute_standings(votes)
    assert table["name"].tolist()[:2] == ["A", "B"]
    assert table["rank_low"].tolist()[:2] == [1, 2] and table["rank_high"].tolist()[:2] == [1, 2]
    assert table["tied_group"].tolist() == [1, 2, 3, 3]
    assert table["rank_low"].tolist()[2:] == [3, 3] and table["rank_high"].tolist()[2:] == [4, 4]


def test_unknown_method_and_bad_options() -> None:
    with pytest.raises(RankingError, match="plackett_luce"):
        compute_standings(_duel(1, 0), method="elo")
    with pytest.raises(RankingError, match="confidence"):
        compute_standings(_duel(1, 0), confidence=95)
    with pytest.raises(RankingError, match="n_bootstrap"):
        compute_standings(_duel(1, 0), n_bootstrap=-1)


def test_slices_by_prompt_and_tag() -> None:
    votes = (
        [Vote("A", "B", "a", prompt="cat")] * 5
        + [Vote("A", "B", "b", prompt="dog")] * 5
        + [Vote("B", "C", "a", prompt="dog")] * 2
    )
    va = VoteArrays.from_votes(votes)
    cats = compute_standings(va.subset(prompt_mask(va, ["cat"])), n_bootstrap=0)
    dogs = compute_standings(va.subset(prompt_mask(va, ["dog"])), n_bootstrap=0)
    assert cats["name"].tolist() == ["A", "B", "C"] and cats.iloc[2]["total_matches"] == 0
    assert dogs["name"].tolist()[0] == "B"
    per_prompt = standings_by_prompt(va, n_bootstrap=0)
    assert sorted(per_prompt) == ["cat", "dog"]
    pd.testing.assert_frame_equal(per_prompt["cat"], cats)


def test_confidence_level_widens_intervals() -> None:
    votes = _board(4)
    narrow = compute_standings(votes, confidence=0.5)
    wide = compute_standings(votes, confidence=0.99)
    assert ((wide["ci_high"] - wide["ci_low"]) > (narrow["ci_high"] - narrow["ci_low"])).all()
    sandwich = compute_standings(votes, n_bootstrap=0)
    assert sandwich.attrs["interval_method"] == "prompt sandwich"
    assert ((sandwich["ci_low"] < sandwich["score"]) & (sandwich["score"] < sandwich["ci_high"])).all()


@pytest.mark.parametrize("n_bootstrap", [200, 0])
def test_a_board_of_only_ties_is_not_certain(n_bootstrap: int) -> None:
    """Resampling sees no spread when every vote is a tie; the interval must still be wide."""
    table = compute_standings([Vote("x", "y", "tie", prompt=f"p{k % 4}") for k in range(20)],
                              n_bootstrap=n_bootstrap)
    width = table["ci_high"] - table["ci_low"]
    assert (width > 50).all(), table[["name", "score", "ci_low", "ci_high"]]
    assert table["rank_low"].tolist() == [1, 1] and table["rank_high"].tolist() == [2, 2]
