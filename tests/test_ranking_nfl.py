"""NFL 2019: our end-of-season order against FiveThirtyEight's end-of-season Elo.

The file has pre-game ratings only. 538's end-of-2019 rating of a team is its rating after
its last 2019 game, which we recompute with 538's published update (K=20, home advantage
65 unless neutral, margin-of-victory multiplier; fivethirtyeight/nfl-elo-game
``forecast.py``). As an independent check, 538 carries that rating into 2020 as
``2/3 * rating + 1/3 * 1505``, so inverting that on each team's first 2020 pre-game Elo
must give the same numbers.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import spearmanr

from ranking import Vote, compute_standings

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
GAMES = SHARED / "data" / "nfl_538_elo" / "nfl_games.csv"


@pytest.fixture(scope="module")
def games() -> pd.DataFrame:
    if not GAMES.exists():
        pytest.skip(f"NFL data not found at {GAMES} (needs ../shared/data beside the repo)")
    return pd.read_csv(GAMES)


def end_of_2019_elo(games: pd.DataFrame) -> pd.Series:
    """538's rating after each team's last 2019 game (their update rule)."""
    after: dict[str, float] = {}
    for g in games[games.season == 2019].itertuples():
        diff = g.elo1 - g.elo2 + (0 if g.neutral == 1 else 65.0)
        p1 = 1.0 / (10 ** (-diff / 400.0) + 1.0)
        margin = abs(g.score1 - g.score2)
        favourite_diff = 1.0 if g.result1 == 0.5 else (diff if g.result1 == 1 else -diff) * 0.001 + 2.2
        mult = math.log(max(margin, 1) + 1.0) * (2.2 / favourite_diff)
        shift = 20.0 * mult * (g.result1 - p1)
        after[g.team1], after[g.team2] = g.elo1 + shift, g.elo2 - shift
    return pd.Series(after)


def test_derived_end_of_season_elo_matches_the_2020_carry_over(games: pd.DataFrame) -> None:
    first_2020: dict[str, float] = {}
    for g in games[games.season == 2020].itertuples():
        first_2020.setdefault(g.team1, g.elo1)
        first_2020.setdefault(g.team2, g.elo2)
    carried = (pd.Series(first_2020) - 1505.0 / 3) * 1.5
    derived = end_of_2019_elo(games)
    assert len(derived) == 32
    assert (derived - carried.loc[derived.index]).abs().max() < 0.01


def test_our_2019_order_agrees_with_538(games: pd.DataFrame) -> None:
    season = games[games.season == 2019]
    outcome = {1.0: "a", 0.0: "b", 0.5: "tie"}
    votes = [
        Vote(g.team1, g.team2, outcome[g.result1], time=pd.Timestamp(g.date, tz="UTC").timestamp())
        for g in season.itertuples()
    ]
    assert len(votes) == 267  # regular season and playoffs
    ours = compute_standings(votes).set_index("name")["score"]
    theirs = end_of_2019_elo(games).loc[ours.index]
    rho = spearmanr(ours, theirs)[0]
    print(f"\nNFL 2019 Spearman vs 538 end-of-season Elo: {rho:.3f}")
    assert rho >= 0.9
