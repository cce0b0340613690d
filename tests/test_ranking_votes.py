"""Vote and VoteArrays: construction, validation, subsetting, prompt masks, and votes of a
model against itself (dropped with a warning, not refused: they occur in imported data)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import pandas as pd

from ranking import (
    RankingError,
    RankingWarning,
    RatingState,
    Vote,
    VoteArrays,
    as_vote_arrays,
    compute_standings,
    prompt_mask,
    replay_openskill,
    standings_history,
    vote_count_matrix,
)


def _votes() -> list[Vote]:
    return [
        Vote("m2", "m1", "a", prompt="dog", rater="r1", time=3.0),
        Vote("m1", "m3", "tie", prompt="cat", rater="r2", time=1.0, excluded=True),
        Vote("m3", "m2", "b", prompt="cat", rater="r1", time=2.0, anonymous=False),
    ]


def test_from_votes_defaults_to_sorted_names() -> None:
    va = VoteArrays.from_votes(_votes())
    assert va.models == ("m1", "m2", "m3")
    assert va.prompts == ("cat", "dog")
    assert va.raters == ("r1", "r2")
    assert len(va) == 3
    assert va.a.tolist() == [1, 0, 2] and va.b.tolist() == [0, 2, 1]
    assert va.score_a.tolist() == [1.0, 0.5, 0.0]
    assert va.prompt.tolist() == [1, 0, 0]
    assert va.rater.tolist() == [0, 1, 0]
    assert va.time.tolist() == [3.0, 1.0, 2.0]
    assert va.excluded.tolist() == [False, True, False]
    assert va.anonymous is not None and va.anonymous.tolist() == [True, True, False]
    assert va.a.dtype == np.int32 and va.score_a.dtype == np.float64 and va.excluded.dtype == bool


def test_from_votes_keeps_models_without_votes_in_given_order() -> None:
    va = VoteArrays.from_votes(_votes(), models=["m3", "m2", "m1", "unused"])
    assert va.models == ("m3", "m2", "m1", "unused")
    assert va.a.tolist() == [1, 2, 0]


def test_round_trip_to_votes() -> None:
    votes = _votes()
    assert VoteArrays.from_votes(votes).to_votes() == votes


def test_subset_keeps_names_and_selects_rows() -> None:
    va = VoteArrays.from_votes(_votes(), models=["m1", "m2", "m3", "unused"])
    sub = va.subset(np.array([True, False, True]))
    assert sub.models == va.models and sub.prompts == va.prompts and sub.raters == va.raters
    assert len(sub) == 2
    assert sub.time.tolist() == [3.0, 2.0]
    by_index = va.subset(np.array([2, 0]))
    assert by_index.time.tolist() == [2.0, 3.0]


def test_subset_rejects_mask_of_wrong_length() -> None:
    va = VoteArrays.from_votes(_votes())
    with pytest.raises(RankingError, match="one boolean per vote"):
        va.subset(np.array([True, False]))


def test_prompt_mask() -> None:
    va = VoteArrays.from_votes(_votes())
    assert prompt_mask(va, ["cat"]).tolist() == [False, True, True]
    assert prompt_mask(_votes(), ["dog", "nope"]).tolist() == [True, False, False]
    assert prompt_mask(va, []).tolist() == [False, False, False]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model_a": "x", "model_b": "y", "outcome": "A"}, "not one of"),
        ({"model_a": "", "model_b": "y", "outcome": "a"}, "empty model name"),
    ],
)
def test_vote_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(RankingError, match=message):
        Vote(**kwargs)


def test_ranking_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        Vote("x", "y", "win")


def _arrays(**overrides: object) -> VoteArrays:
    fields: dict[str, object] = dict(
        models=("x", "y"), prompts=("p",), raters=("r",), a=[0], b=[1], score_a=[1.0],
        prompt=[0], rater=[0], time=[0.0], excluded=[False],
    )
    fields.update(overrides)
    return VoteArrays(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"b": [2]}, "outside the 2 entries"),
        ({"score_a": [0.7]}, "must be 1.0"),
        ({"time": [0.0, 1.0]}, "has 2 rows"),
        ({"models": ("x", "x")}, "twice"),
        ({"prompt": [3]}, "VoteArrays.prompts"),
    ],
)
def test_vote_arrays_validation(overrides: dict, message: str) -> None:
    with pytest.raises(RankingError, match=message):
        _arrays(**overrides)


def test_from_votes_unknown_model_names_the_model() -> None:
    with pytest.raises(RankingError, match="'m3'"):
        VoteArrays.from_votes(_votes(), models=["m1", "m2"])


def test_as_vote_arrays_rejects_other_things() -> None:
    with pytest.raises(RankingError, match="found dict"):
        as_vote_arrays([{"model_a": "x"}])
    with pytest.raises(RankingError, match="string"):
        as_vote_arrays("votes")
    va = _arrays()
    assert as_vote_arrays(va) is va


def _board(with_self_vote: bool) -> list[Vote]:
    votes = [Vote("x", "y", "a", time=1.7e9), Vote("y", "z", "a", time=1.7e9 + 60),
             Vote("x", "z", "tie", time=1.7e9 + 120), Vote("z", "x", "b", time=1.7e9 + 180)]
    if with_self_vote:
        votes.insert(2, Vote("y", "y", "tie", time=1.7e9 + 90))
    return votes


def test_a_vote_of_a_model_against_itself_is_dropped_with_a_warning() -> None:
    clean = VoteArrays.from_votes(_board(False))
    with pytest.warns(RankingWarning, match=r"1 vote\(s\) compare a model with itself.*row 2.*'y'"):
        va = VoteArrays.from_votes(_board(True))
    assert len(va) == 5 and va.self_votes == 1 and va.used.tolist() == [True, True, False, True, True]
    table = compute_standings(va, n_bootstrap=50)
    assert table.attrs["self_votes"] == 1 and table.attrs["votes"] == 4
    assert table.attrs["excluded_votes"] == 0
    reference = compute_standings(clean, n_bootstrap=50)
    pd.testing.assert_frame_equal(table, reference, check_exact=True, check_like=False)
    assert table.set_index("name").loc["y", "total_matches"] == 2
    pd.testing.assert_frame_equal(replay_openskill(va), replay_openskill(clean))
    pd.testing.assert_frame_equal(RatingState.from_votes(va).standings(),
                                  RatingState.from_votes(clean).standings())
    pd.testing.assert_frame_equal(vote_count_matrix(va), vote_count_matrix(clean))
    pd.testing.assert_frame_equal(standings_history(va), standings_history(clean))


def test_self_votes_from_columns_warn_once_and_subsets_keep_the_count() -> None:
    with pytest.warns(RankingWarning, match="with itself") as caught:
        va = _arrays(models=("x", "y"), a=[0, 1], b=[1, 1], score_a=[1.0, 0.5], prompt=[0, 0],
                     rater=[0, 0], time=[0.0, 1.0], excluded=[False, False])
    assert len(caught) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        part = va.subset(np.array([False, True]))
    assert part.self_votes == 1 and len(part) == 1
    assert compute_standings(part, n_bootstrap=0).attrs["votes"] == 0
