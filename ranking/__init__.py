"""Ranking generative models from human pairwise preference votes.

Pure computation: votes in (:class:`Vote` or columnar :class:`VoteArrays`), tables out.
Nothing here touches storage, the web or the rest of the project.

Main entry points:

* :func:`compute_standings`: published standings (OpenSkill model likelihood and prior,
  fitted on all votes at once so vote order cannot matter; prompt-clustered intervals;
  rank ranges and tied groups). See :mod:`ranking.standings` for what is used for what.
* :func:`compute_weighted_standings`: the same table with each rater's votes weighted by a
  reliability estimated jointly with the model strengths (lapses and side preference).
* :func:`compute_overall_standings`: one ranking across several criteria of a benchmark
  (weighted mean of the criteria's ratings, prompts resampled jointly over criteria).
* :func:`majority_votes`: one majority vote per matchup (media pair).
* :func:`win_rate_matrix`, :func:`win_count_matrix`, :func:`vote_count_matrix`,
  :func:`predicted_win_matrix`.
* :func:`prompt_mask` / :func:`standings_by_prompt` for slices, ``inverse=True`` for
  "which is worse?" boards.
* :func:`standings_history`: standings at the end of each day.
* :func:`arena_elo`: Chatbot/GenAI-Arena compatible ratings.
* :class:`RatingState`: incremental fit for the matchmaker (~1 ms per vote).
* :func:`replay_openskill`: classic online OpenSkill, vote by vote (order-dependent).
"""

from ranking.aggregate import majority_votes
from ranking.arena import arena_elo
from ranking.errors import RankingError, RankingWarning
from ranking.history import HISTORY_COLUMNS, HistoryWarning, standings_history
from ranking.matrices import predicted_win_matrix, vote_count_matrix, win_count_matrix, win_rate_matrix
from ranking.online import RatingState
from ranking.openskill_models import METHODS, OpenSkillModel, replay_openskill
from ranking.overall import OVERALL_COLUMNS, compute_overall_standings
from ranking.simulate import simulate_votes
from ranking.standings import STANDINGS_COLUMNS, compute_standings, standings_by_prompt
from ranking.votes import OUTCOMES, Vote, VoteArrays, as_vote_arrays, prompt_mask
from ranking.weighted import compute_weighted_standings

__all__ = [
    "HISTORY_COLUMNS",
    "HistoryWarning",
    "METHODS",
    "OUTCOMES",
    "OVERALL_COLUMNS",
    "OpenSkillModel",
    "STANDINGS_COLUMNS",
    "RankingError",
    "RankingWarning",
    "RatingState",
    "Vote",
    "VoteArrays",
    "arena_elo",
    "as_vote_arrays",
    "compute_overall_standings",
    "compute_standings",
    "compute_weighted_standings",
    "majority_votes",
    "predicted_win_matrix",
    "prompt_mask",
    "replay_openskill",
    "simulate_votes",
    "standings_by_prompt",
    "standings_history",
    "vote_count_matrix",
    "win_count_matrix",
    "win_rate_matrix",
]
