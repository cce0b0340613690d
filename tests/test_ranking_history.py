"""standings_history: per-day snapshots on hand-made timelines."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest

from ranking import HISTORY_COLUMNS, RankingError, Vote, compute_standings, standings_history


def _t(day: int, hour: int = 12) -> float:
    return datetime(2024, 2, day, hour, tzinfo=timezone.utc).timestamp()


def _timeline() -> list[Vote]:
    return (
        [Vote("A", "B", "a", time=_t(10, 9))] * 3
        + [Vote("A", "B", "b", time=_t(11, 23))] * 5  # B overtakes A on day 11
        + [Vote("C", "A", "a", time=_t(13, 0)), Vote("C", "B", "a", time=_t(13, 1))]
        + [Vote("C", "B", "b", time=_t(13, 2), excluded=True)]
    )


def test_daily_snapshots_by_hand() -> None:
    history = standings_history(_timeline())
    assert list(history.columns) == HISTORY_COLUMNS
    assert history["period"].unique().tolist() == ["2024-02-10", "2024-02-11", "2024-02-13"]
    day = {p: g.set_index("name") for p, g in history.groupby("period")}
    assert day["2024-02-10"]["rank"].to_dict() == {"A": 1, "B": 2}
    assert day["2024-02-11"]["rank"].to_dict() == {"B": 1, "A": 2}
    assert "C" not in day["2024-02-11"].index
    assert day["2024-02-13"].loc["C", "rank"] == 1
    assert day["2024-02-10"]["votes_so_far"].tolist() == [3, 3]
    assert day["2024-02-11"]["votes_so_far"].tolist() == [8, 8]
    assert day["2024-02-13"]["votes_so_far"].tolist() == [10, 10, 10]  # excluded left out
    assert day["2024-02-13"]["matches_so_far"].to_dict() == {"C": 2, "B": 9, "A": 9}
    assert day["2024-02-10"]["score"].mean() == pytest.approx(1000.0)


def test_last_snapshot_is_the_published_order() -> None:
    votes = _timeline()
    last = standings_history(votes).query("period == '2024-02-13'")
    published = compute_standings(votes, n_bootstrap=0)
    assert last["name"].tolist() == published["name"].tolist()
    assert last["score"].tolist() == pytest.approx(published["score"].tolist(), abs=1e-6)


def test_order_of_votes_does_not_matter() -> None:
    votes = _timeline()
    pd.testing.assert_frame_equal(standings_history(votes), standings_history(votes[::-1]))


def test_snapshots_are_capped_evenly() -> None:
    votes = [Vote("A", "B", "a" if d % 3 else "b", time=_t(1) + d * 86400.0) for d in range(100)]
    history = standings_history(votes, max_periods=10)
    periods = history["period"].unique().tolist()
    assert len(periods) == 10
    assert periods[0] == "2024-02-01" and periods[-1] == "2024-05-10"
    assert history["votes_so_far"].is_monotonic_increasing


def test_weeks_and_months() -> None:
    votes = _timeline()
    assert standings_history(votes, freq="week")["period"].unique().tolist() == [
        "2024-02-05/2024-02-11", "2024-02-12/2024-02-18",
    ]
    assert standings_history(votes, freq="month")["period"].unique().tolist() == ["2024-02"]


def test_inverse_and_errors() -> None:
    history = standings_history(_timeline(), inverse=True)
    first = history.query("period == '2024-02-10'").set_index("name")
    assert first.loc["B", "rank"] == 1
    with pytest.raises(RankingError, match="freq"):
        standings_history(_timeline(), freq="hour")
    assert standings_history([]).empty
