"""Majority aggregation per matchup and the SDK's win-count matrix, on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from ranking import RankingError, Vote, VoteArrays, compute_standings, majority_votes, win_count_matrix

MODELS = ("m1", "m2", "m3")


def arrays(rows: list[tuple], *, prompts: tuple[str, ...] = ("p1", "p2"),
           raters: tuple[str, ...] = ("r1", "r2", "r3")) -> VoteArrays:
    """Rows of (a, b, score_a, prompt, rater, time, excluded) with model/prompt/rater indices."""
    a, b, s, p, r, t, x = (np.array(c) for c in zip(*rows))
    return VoteArrays(MODELS, prompts, raters, a, b, s.astype(float), p, r, t.astype(float),
                      x.astype(bool), anonymous=np.array([k != 2 for k in range(len(rows))]))


# Matchup keys: 7 = m1/m2 on p1, 3 = m2/m3 on p2, 5 = m1/m3 on p1, 9 = m1/m3 on p2,
# 11 = m2/m3 on p1 (two of its three votes excluded).
VOTES = arrays([
    (0, 1, 1.0, 0, 0, 10, 0),  # 7: m1 beats m2
    (1, 0, 1.0, 0, 1, 12, 0),  # 7: m2 beats m1 (sides swapped)
    (1, 0, 0.0, 0, 2, 11, 0),  # 7: m1 beats m2 -> m1 2 of 3: majority m1
    (1, 2, 0.5, 1, 2, 20, 0),  # 3: tie (counts half)
    (2, 1, 1.0, 1, 0, 19, 0),  # 3: m3 beats m2 -> m2 scores 0.25: majority m3
    (0, 2, 1.0, 0, 1, 30, 0),  # 5: m1 beats m3
    (2, 0, 1.0, 0, 0, 31, 0),  # 5: m3 beats m1 -> 1-1: a tie of the majority, 0.5
    (0, 2, 0.0, 1, 1, 40, 0),  # 9: m3 beats m1, a single vote
    (1, 2, 1.0, 0, 0, 50, 1),  # 11: excluded
    (2, 1, 1.0, 0, 1, 51, 1),  # 11: excluded
    (1, 2, 1.0, 0, 2, 52, 0),  # 11: m2 beats m3, the only counted vote
])
KEYS = np.array([7, 7, 7, 3, 3, 5, 5, 9, 11, 11, 11])


def rows_of(va: VoteArrays) -> list[tuple]:
    return [(va.models[a], va.models[b], float(s), va.prompts[p], va.raters[r], float(t))
            for a, b, s, p, r, t in zip(va.a, va.b, va.score_a, va.prompt, va.rater, va.time)]


def test_majority_votes_by_hand() -> None:
    out = majority_votes(VOTES, KEYS, min_responses=2)
    assert rows_of(out) == [
        ("m2", "m3", 0.0, "p2", "r1", 20.0),  # key 3: m3 by majority; earliest rater r1 (t=19)
        ("m1", "m3", 0.5, "p1", "r2", 31.0),  # key 5: 1-1 splits half and half
        ("m1", "m2", 1.0, "p1", "r1", 12.0),  # key 7: m1 2 of 3; latest time 12
    ]  # keys 9 and 11 have one counted vote each: dropped
    assert out.models == VOTES.models and out.prompts == VOTES.prompts
    assert not out.excluded.any()
    assert list(out.anonymous) == [True, True, False]  # key 7 has the non-anonymous row 2


def test_majority_votes_min_one_keeps_single_votes_and_drops_excluded_ones() -> None:
    out = majority_votes(VOTES, KEYS)
    assert [row[:3] for row in rows_of(out)] == [
        ("m2", "m3", 0.0), ("m1", "m3", 0.5), ("m1", "m2", 1.0), ("m1", "m3", 0.0),
        ("m2", "m3", 1.0),
    ]
    assert rows_of(out)[-1][4:] == ("r3", 52.0)  # key 11: only the counted vote's rater/time
    assert list(compute_standings(out, n_bootstrap=0)["wins"]) != []  # usable as a board


def test_majority_votes_do_not_depend_on_row_order() -> None:
    order = np.random.default_rng(1).permutation(len(VOTES))
    shuffled = majority_votes(VOTES.subset(order), KEYS[order], min_responses=2)
    assert rows_of(shuffled) == rows_of(majority_votes(VOTES, KEYS, min_responses=2))


@pytest.mark.parametrize(("keys", "min_responses", "message"), [
    (KEYS[:-1], 1, "one integer key per vote"),
    (KEYS.astype(float), 1, "one integer key per vote"),
    (KEYS, 0, "min_responses=0"),
    (KEYS, True, "min_responses=True"),
    (np.where(KEYS == 9, 5, KEYS), 1, "matchup key 5 holds votes of different prompts"),
    (np.where(KEYS == 3, 7, KEYS), 1, "matchup key 7 holds votes of different model pairs"),
])
def test_majority_votes_refuse_bad_keys(keys: np.ndarray, min_responses: int, message: str) -> None:
    with pytest.raises(RankingError, match=message) as info:
        majority_votes(VOTES, keys, min_responses=min_responses)
    assert "\n" not in str(info.value)


WIN_VOTES = [
    Vote("m1", "m2", "a"), Vote("m1", "m2", "a"), Vote("m2", "m1", "a"),
    Vote("m1", "m3", "tie"), Vote("m3", "m2", "a"), Vote("m2", "m3", "a", excluded=True),
]


def test_win_count_matrix_by_hand() -> None:
    va = VoteArrays.from_votes(WIN_VOTES, models=["m1", "m2", "m3"])
    matrix = win_count_matrix(va)
    assert matrix.to_numpy().tolist() == [[0.0, 2.0, 0.5], [1.0, 0.0, 0.0], [0.5, 1.0, 0.0]]
    assert list(matrix.index) == list(matrix.columns) == ["m1", "m2", "m3"]
    assert matrix.dtypes.eq(np.float64).all()
    worse = win_count_matrix(va, inverse=True, order=["m3", "m2", "m1"])
    assert worse.to_numpy().tolist() == [[0.0, 0.0, 0.5], [1.0, 0.0, 2.0], [0.5, 1.0, 0.0]]


def test_win_count_matrix_weights_each_vote() -> None:
    va = VoteArrays.from_votes(WIN_VOTES, models=["m1", "m2", "m3"])
    weighted = win_count_matrix(va, weights=np.array([0.5, 1.0, 2.0, 1.0, 0.25, 9.0]))
    assert weighted.to_numpy().tolist() == [[0.0, 1.5, 0.5], [2.0, 0.0, 0.0], [0.5, 0.25, 0.0]]
    for bad in (np.ones(5), np.array([1, 1, 1, 1, np.nan, 1]), -np.ones(6)):
        with pytest.raises(RankingError, match="weights"):
            win_count_matrix(va, weights=bad)
