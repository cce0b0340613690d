"""Overall standings across criteria: the combination, name alignment, joint resampling,
incomplete models and refused input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from ranking import (
    OVERALL_COLUMNS,
    RankingError,
    VoteArrays,
    compute_overall_standings,
    compute_standings,
)

MODELS = tuple(f"m{k}" for k in range(8))
PROMPTS = tuple(f"prompt {k:02d}" for k in range(30))


def board(seed: int, n_votes: int = 3_000, shift: float = 0.0) -> VoteArrays:
    """A criterion's votes on the shared models and prompts (prompt effects included)."""
    rng = np.random.default_rng(seed)
    theta = np.linspace(-1.0, 1.0, len(MODELS)) + shift * rng.normal(size=len(MODELS))
    dev = rng.normal(0.0, 0.4, (len(MODELS), len(PROMPTS)))
    a = rng.integers(0, len(MODELS), n_votes)
    b = (a + rng.integers(1, len(MODELS), n_votes)) % len(MODELS)
    p = rng.integers(0, len(PROMPTS), n_votes)
    score = (rng.random(n_votes) < expit(theta[a] + dev[a, p] - theta[b] - dev[b, p])).astype(float)
    score[rng.random(n_votes) < 0.1] = 0.5
    return VoteArrays(MODELS, PROMPTS, ("",), a, b, score, p, np.zeros(n_votes, int),
                      np.arange(n_votes, dtype=float), np.zeros(n_votes, bool))


def relabel(va: VoteArrays, models: tuple[str, ...], prompts: tuple[str, ...]) -> VoteArrays:
    """The same votes with ``models``/``prompts`` listed in another order (a superset is fine)."""
    m = np.array([models.index(name) for name in va.models])
    p = np.array([prompts.index(name) for name in va.prompts])
    return VoteArrays(models, prompts, va.raters, m[va.a], m[va.b], va.score_a, p[va.prompt],
                      va.rater, va.time, va.excluded)


X, Y = board(1), board(2, shift=0.5)


def test_one_criterion_is_its_standings() -> None:
    overall = compute_overall_standings({"x": X}, seed=3).set_index("name")
    alone = compute_standings(X, seed=3).set_index("name").loc[overall.index]
    for column in ("score", "ci_low", "ci_high", "rank", "rank_low", "rank_high", "tied_group"):
        assert np.allclose(overall[column], alone[column]), column
    assert np.allclose(overall["score_x"], alone["score"])
    assert list(overall["votes"]) == list(alone["total_matches"])


def test_overall_is_the_weighted_mean_of_the_criteria_scores() -> None:
    table = compute_overall_standings({"x": X, "y": Y}, weights={"x": 3, "y": 1}, n_bootstrap=20)
    assert list(table.columns) == OVERALL_COLUMNS + ["score_x", "score_y"]
    assert table.attrs["weights"] == {"x": 0.75, "y": 0.25}
    assert table.attrs["votes"] == {"x": 3_000, "y": 3_000} and table.attrs["prompts"] == 30
    per = {c: compute_standings(v, n_bootstrap=0).set_index("name")["score"] for c, v in (("x", X), ("y", Y))}
    names = list(table["name"])
    assert np.allclose(table["score_x"], per["x"].loc[names])
    expected = 1000 + 0.75 * (per["x"].loc[names] - 1000) + 0.25 * (per["y"].loc[names] - 1000)
    assert np.allclose(table["score"], expected)
    assert list(table["score"]) == sorted(table["score"], reverse=True)
    assert list(table["rank"]) == list(range(1, 9)) and table["complete"].all()
    assert (table["votes"] == [int(((X.a == k) | (X.b == k)).sum() + ((Y.a == k) | (Y.b == k)).sum())
                               for k in (MODELS.index(n) for n in names)]).all()


def test_criteria_are_aligned_by_name_not_position() -> None:
    shuffled = relabel(Y, tuple(reversed(MODELS)) + ("unused",), tuple(reversed(PROMPTS)))
    base = compute_overall_standings({"x": X, "y": Y}, n_bootstrap=50)
    other = compute_overall_standings({"x": X, "y": shuffled}, n_bootstrap=50)
    assert list(other["name"])[:8] == list(base["name"])
    assert np.allclose(other[["score", "ci_low", "ci_high"]].iloc[:8], base[["score", "ci_low", "ci_high"]])
    last = other.iloc[-1]  # named by one criterion, no votes anywhere: not ranked
    assert last["name"] == "unused" and not last["complete"] and np.isnan(last["score"])


def test_vote_order_does_not_matter() -> None:
    order = np.random.default_rng(0).permutation(len(Y))
    base = compute_overall_standings({"x": X, "y": Y}, n_bootstrap=30)
    other = compute_overall_standings({"x": X, "y": Y.subset(order)}, n_bootstrap=30)
    pd.testing.assert_frame_equal(base, other)


@pytest.mark.parametrize("n_bootstrap", [200, 0])
def test_identical_criteria_keep_one_criterion_s_uncertainty(n_bootstrap: int) -> None:
    """Two criteria with the same votes are one criterion twice: a joint resampling gives the
    single criterion's interval; resampling them independently would shrink it by ~1/sqrt(2)."""
    once = compute_overall_standings({"x": X}, n_bootstrap=n_bootstrap)
    twice = compute_overall_standings({"x": X, "copy": X}, n_bootstrap=n_bootstrap)
    assert np.allclose(once["score"], twice["score"])
    assert np.allclose(twice["ci_high"] - twice["ci_low"], once["ci_high"] - once["ci_low"])
    renamed = VoteArrays(X.models, tuple(f"other {p}" for p in PROMPTS), X.raters, X.a, X.b,
                         X.score_a, X.prompt, X.rater, X.time, X.excluded)
    independent = compute_overall_standings({"x": X, "copy": renamed}, n_bootstrap=n_bootstrap)
    ratio = np.mean((independent["ci_high"] - independent["ci_low"]) / (once["ci_high"] - once["ci_low"]))
    assert independent.attrs["prompts"] == 60
    assert ratio < 0.85  # different prompt names: resampled apart, so the copy looks like new evidence


def test_sandwich_agrees_with_the_bootstrap() -> None:
    boot = compute_overall_standings({"x": X, "y": Y}, n_bootstrap=400)
    fast = compute_overall_standings({"x": X, "y": Y}, n_bootstrap=0)
    assert fast.attrs["interval_method"] == "joint prompt sandwich"
    assert boot.attrs["interval_method"] == "joint prompt bootstrap"
    width = lambda t: (t["ci_high"] - t["ci_low"]).to_numpy()  # noqa: E731
    assert np.allclose(width(fast), width(boot), rtol=0.2)


def test_inverse_flips_one_criterion() -> None:
    table = compute_overall_standings({"x": X, "worse": Y}, inverse={"worse": True}, n_bootstrap=0)
    flipped = compute_standings(Y, inverse=True, n_bootstrap=0).set_index("name")["score"]
    assert np.allclose(table["score_worse"], flipped.loc[list(table["name"])])
    assert table.attrs["inverse"] == {"x": False, "worse": True}


def test_a_model_missing_from_a_criterion_is_listed_unranked() -> None:
    newcomer = relabel(X, MODELS + ("new",), PROMPTS)
    extra = VoteArrays(newcomer.models, PROMPTS, ("",), np.r_[newcomer.a, [8] * 20],
                       np.r_[newcomer.b, np.arange(20) % 8], np.r_[newcomer.score_a, np.ones(20)],
                       np.r_[newcomer.prompt, np.arange(20)], np.zeros(len(X) + 20, int),
                       np.zeros(len(X) + 20), np.zeros(len(X) + 20, bool))
    table = compute_overall_standings({"x": extra, "y": Y}, n_bootstrap=20)
    assert list(table["complete"]) == [True] * 8 + [False]
    row = table.iloc[-1]
    assert row["name"] == "new" and np.isnan(row["score"]) and np.isnan(row["ci_low"])
    assert np.isfinite(row["score_x"]) and np.isnan(row["score_y"]) and row["votes"] == 20
    assert (row["rank"], row["rank_low"], row["rank_high"]) == (9, 1, 9)
    ranked = table.iloc[:8]
    assert abs(ranked["score"].mean() - 1000) < 1e-9  # centred over the models it ranks


@pytest.mark.parametrize(("options", "message"), [
    (dict(weights={"x": 1, "z": 1}), "weights name unknown criterion 'z'"),
    (dict(weights={"x": 1}), "no weight for criterion 'y'"),
    (dict(weights={"x": 1, "y": 0}), "weight 0 of criterion 'y' must be a positive"),
    (dict(weights={"x": 1, "y": -2.0}), "weight -2.0 of criterion 'y'"),
    (dict(weights={"x": 1, "y": float("nan")}), "weight nan"),
    (dict(weights={"x": 1, "y": float("inf")}), "weight inf"),
    (dict(weights={"x": 1, "y": "2"}), "weight '2'"),
    (dict(weights={"x": 1, "y": True}), "weight True"),
    (dict(inverse={"z": True}), "inverse names unknown criterion 'z'"),
    (dict(inverse={"x": "yes"}), r"inverse\['x'\] is 'yes'"),
    (dict(confidence=1.5), "confidence=1.5"),
    (dict(n_bootstrap=-1), "n_bootstrap=-1"),
])
def test_bad_options_are_refused_in_one_line(options: dict, message: str) -> None:
    with pytest.raises(RankingError, match=message) as info:
        compute_overall_standings({"x": X, "y": Y}, **options)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("criteria", [{}, {"": X}, {3: X}, [X]])
def test_bad_criteria_are_refused(criteria: object) -> None:
    with pytest.raises(RankingError, match="criteri"):
        compute_overall_standings(criteria)  # type: ignore[arg-type]
