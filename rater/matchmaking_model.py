"""The matchmaker's rating model: a Bradley-Terry posterior on the board's pair counts.

The fit itself is :class:`ranking.RatingState` (warm-started Newton steps on ``n x n`` count
matrices, so a refit costs the same whatever the number of votes, about a millisecond at 100
models). The matchmaker uses its own prior, ``N(0, PRIOR_SD**2)`` in logits: wide enough that a
model without votes is plainly unplaced, narrow enough to keep early fits sensible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ranking import RatingState

__all__ = ["PRIOR_SD", "Posterior", "posterior_of", "rating_state"]

#: Prior standard deviation of a model's strength, in logits. A model without votes sits at 0
#: (the middle of the board) with this uncertainty, so the matchmaker sees it as unplaced.
PRIOR_SD = 2.0


@dataclass(frozen=True)
class Posterior:
    """Strengths ``mu`` (logits, higher is better) and their covariance ``cov``."""

    mu: np.ndarray
    cov: np.ndarray

    @property
    def sd(self) -> np.ndarray:
        """The posterior standard deviation of each strength."""
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))

    def var_diff(self, i: np.ndarray | int, j: np.ndarray | int) -> np.ndarray:
        """Variance of ``mu[i] - mu[j]`` (element-wise for arrays of indices)."""
        c = self.cov
        return np.clip(c[i, i] + c[j, j] - 2.0 * c[i, j], 1e-12, None)


def rating_state(names: list[str], wins: np.ndarray, games: np.ndarray) -> RatingState:
    """A :class:`ranking.RatingState` of these counts under the matchmaker's prior, fitted."""
    return RatingState(names, games, wins, prior_precision=1.0 / PRIOR_SD**2)


def posterior_of(rating: RatingState) -> Posterior:
    """Refit ``rating`` (warm-started: a step or two) and return its posterior."""
    rating.refit()
    return Posterior(rating.mu, rating.cov)
