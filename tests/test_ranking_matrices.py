"""Win-rate, vote-count and predicted-win matrices on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from ranking import (
    RankingError,
    Vote,
    VoteArrays,
    compute_standings,
    predicted_win_matrix,
    vote_count_matrix,
    win_rate_matrix,
)

VOTES = [
    Vote("A", "B", "a"), Vote("B", "A", "b"), Vote("A", "B", "b"), Vote("B", "A", "tie"),
    Vote("B", "C", "a"), Vote("C", "B", "a", excluded=True),
]


def test_win_rate_matrix_by_hand() -> None:
    rate = win_rate_matrix(VOTES)
    assert list(rate.index) == ["A", "B", "C"] and list(rate.columns) == ["A", "B", "C"]
    # A vs B: A won twice, lost once, one tie -> (2 + 0.5) / 4.
    assert rate.loc["A", "B"] == pytest.approx(0.625)
    assert rate.loc["B", "A"] == pytest.approx(0.375)
    assert rate.loc["B", "C"] == 1.0 and rate.loc["C", "B"] == 0.0  # excluded vote left out
    assert math.isnan(rate.loc["A", "C"]) and math.isnan(rate.loc["A", "A"])


def test_win_rate_matrix_inverse_and_order() -> None:
    rate = win_rate_matrix(VOTES, inverse=True, order=["C", "B", "A"])
    assert list(rate.index) == ["C", "B", "A"]
    assert rate.loc["A", "B"] == pytest.approx(0.375)
    assert rate.loc["C", "B"] == 1.0


def test_vote_count_matrix_by_hand() -> None:
    counts = vote_count_matrix(VoteArrays.from_votes(VOTES, models=["A", "B", "C", "D"]))
    expected = pd.DataFrame(
        [[0, 4, 0, 0], [4, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]],
        index=list("ABCD"), columns=list("ABCD"),
    )
    pd.testing.assert_frame_equal(counts, expected)


def test_unknown_name_in_order() -> None:
    with pytest.raises(RankingError, match="'Z'"):
        vote_count_matrix(VOTES, order=["A", "Z"])


def test_predicted_win_from_a_hand_made_table() -> None:
    table = pd.DataFrame({"name": ["x", "y", "z"], "score": [1400.0, 1000.0, np.nan]})
    prob = predicted_win_matrix(table)
    assert prob.loc["x", "y"] == pytest.approx(1 / (1 + 10 ** (-400 / 400)))  # 10:1 odds
    assert prob.loc["y", "x"] == pytest.approx(1 / 11)
    assert prob[["z"]].isna().all().all() and math.isnan(prob.loc["x", "x"])


def test_predicted_win_for_thurstone_uses_its_probit() -> None:
    table = compute_standings([Vote("x", "y", "a")] * 3 + [Vote("x", "y", "b")],
                              method="thurstone_mosteller_full", n_bootstrap=0)
    prob = predicted_win_matrix(table)
    mu = table.set_index("name")["mu"]
    c = table.attrs["c"]
    assert prob.loc["x", "y"] == pytest.approx(norm.cdf((mu["x"] - mu["y"]) / c), rel=1e-9)


def test_predicted_win_from_votes_is_consistent() -> None:
    prob = predicted_win_matrix(VOTES)
    values = prob.to_numpy()
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_allclose(values[off] + values.T[off], 1.0)
    assert prob.loc["B", "C"] > 0.5
    assert list(prob.index) == list(compute_standings(VOTES, n_bootstrap=0)["name"])


def test_predicted_win_rejects_other_tables() -> None:
    with pytest.raises(RankingError, match="'score'"):
        predicted_win_matrix(pd.DataFrame({"name": ["x"]}))
