"""Incremental ratings for the matchmaker: absorb one vote, refit in about a millisecond.

:class:`RatingState` keeps the ``n x n`` matrices of games and scores between every pair
of models of a board and the current Bradley-Terry posterior mode ``mu`` (natural
log-odds units, prior ``N(0, 1/prior_precision)``, by default OpenSkill PlackettLuce's
prior, so ``mu`` matches ``compute_standings`` in link units). ``add`` only updates the
counts; ``refit`` runs a few warm-started Newton steps on the dense matrices (each a
100 x 100 Cholesky solve for 100 models), after which ``mu``, ``cov``, ``var_diff`` and
``standings()`` are fresh. Typical use::

    state = RatingState.from_votes(vote_arrays)
    state.add(i, j, 1.0)          # model i beat model j (0.5: tie, 0.0: j won)
    state.refit()
    se = state.var_diff(i, j) ** 0.5

Prompt clustering is ignored here (``cov`` is the model-based posterior covariance): it
is meant for choosing the next pair quickly, not for publishing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import linalg
from scipy.linalg import lapack
from scipy.special import expit

from ranking.errors import RankingError
from ranking.fit import inverse_from_factor
from ranking.openskill_models import resolve_scale
from ranking.votes import Vote, VoteArrays, as_vote_arrays

__all__ = ["RatingState"]


class RatingState:
    """Pair counts and a warm-started Bradley-Terry fit of one board.

    :param models: names of all models of the board (index ``i`` means ``models[i]``).
    :param games: ``n x n`` games between each pair (symmetric, zero diagonal).
    :param score: ``n x n``, ``score[i, j]`` = wins of ``i`` against ``j`` + ties/2.
    :param prior_precision: precision of each model's ``N(0, .)`` prior, in log-odds units.
    """

    def __init__(
        self,
        models: Sequence[str],
        games: np.ndarray,
        score: np.ndarray,
        *,
        prior_precision: float | None = None,
    ) -> None:
        self.models: tuple[str, ...] = tuple(models)
        n = len(self.models)
        self._games = np.array(games, dtype=np.float64)
        self._score = np.array(score, dtype=np.float64)
        if self._games.shape != (n, n) or self._score.shape != (n, n):
            raise RankingError(
                f"games and score must be {n} x {n} for {n} models, got "
                f"{self._games.shape} and {self._score.shape}."
            )
        if prior_precision is None:
            prior_precision = resolve_scale("plackett_luce").prior_precision
        if prior_precision <= 0:
            raise RankingError(f"prior_precision={prior_precision!r} must be > 0.")
        self.prior_precision = float(prior_precision)
        self._index = {name: k for k, name in enumerate(self.models)}
        self._name_rank = np.empty(n, dtype=np.int64)
        self._name_rank[sorted(range(n), key=self.models.__getitem__)] = np.arange(n)
        self._mu = np.zeros(n)
        self._chol: tuple[np.ndarray, bool] | None = None
        self._cov: np.ndarray | None = None
        self._dirty = True
        self.refit()

    @classmethod
    def from_votes(
        cls,
        votes: VoteArrays | Iterable[Vote],
        *,
        inverse: bool = False,
        prior_precision: float | None = None,
    ) -> RatingState:
        """Aggregate the board's votes (excluded ones left out) and fit.

        :param inverse: the chosen model is the worse one ("which is worse?" boards).
        """
        va = as_vote_arrays(votes)
        n = len(va.models)
        keep = va.used
        a, b = va.a[keep].astype(np.int64), va.b[keep].astype(np.int64)
        s = va.score_a[keep]
        if inverse:
            s = 1.0 - s
        games = np.bincount(a * n + b, minlength=n * n).reshape(n, n).astype(np.float64)
        wins_a = np.bincount(a * n + b, weights=s, minlength=n * n).reshape(n, n)
        wins_b = np.bincount(b * n + a, weights=1.0 - s, minlength=n * n).reshape(n, n)
        return cls(va.models, games + games.T, wins_a + wins_b, prior_precision=prior_precision)

    def _resolve(self, model: int | str) -> int:
        if isinstance(model, str):
            try:
                return self._index[model]
            except KeyError:
                raise RankingError(
                    f"Unknown model {model!r}; RatingState knows {len(self.models)} models."
                ) from None
        k = int(model)
        if not 0 <= k < len(self.models):
            raise RankingError(f"Model index {k} is outside 0..{len(self.models) - 1}.")
        return k

    def add(self, i: int | str, j: int | str, score_i: float, weight: float = 1.0) -> None:
        """Absorb one vote between ``i`` and ``j`` (indices or names).

        :param score_i: 1.0 when ``i`` was chosen, 0.0 when ``j`` was, 0.5 for a tie.
        :param weight: how many such votes (negative removes votes).
        Call :meth:`refit` before reading ``mu`` or ``cov`` again.
        """
        a, b = self._resolve(i), self._resolve(j)
        if a == b:
            raise RankingError(f"A vote needs two different models, got {self.models[a]!r} twice.")
        if not 0.0 <= score_i <= 1.0:
            raise RankingError(f"score_i={score_i!r} must be 1.0, 0.5 or 0.0.")
        self._games[a, b] += weight
        self._games[b, a] += weight
        self._score[a, b] += weight * score_i
        self._score[b, a] += weight * (1.0 - score_i)
        self._dirty = True

    def refit(self, *, tol: float = 1e-9, max_iter: int = 100) -> RatingState:
        """Newton's method from the current ``mu`` until no rating moves more than ``tol``."""
        n = len(self.models)
        mu = self._mu
        for _ in range(max_iter):
            p = expit(mu[:, None] - mu[None, :])
            grad = (self._score - self._games * p).sum(axis=1) - self.prior_precision * mu
            w = self._games * p * (1.0 - p)
            h = -w
            h[np.diag_indices(n)] = w.sum(axis=1) + self.prior_precision
            chol = linalg.cho_factor(h, check_finite=False)
            step = linalg.cho_solve(chol, grad, check_finite=False)
            biggest = np.abs(step).max(initial=0.0)
            mu = mu + (step if biggest <= 2.0 else step * (2.0 / biggest))
            self._chol = chol
            if biggest < tol:
                break
        self._mu, self._cov, self._dirty = mu, None, False
        return self

    def _fresh(self) -> None:
        if self._dirty:
            raise RankingError("RatingState has votes added since the last fit; call refit().")

    @property
    def mu(self) -> np.ndarray:
        """Posterior-mode ratings in natural log-odds units (sum ~0), one per model."""
        self._fresh()
        return self._mu.copy()

    @property
    def cov(self) -> np.ndarray:
        """Posterior covariance of ``mu`` (inverse information matrix incl. the prior)."""
        self._fresh()
        if self._cov is None:
            assert self._chol is not None
            self._cov = inverse_from_factor(self._chol)
        return self._cov

    def _solve(self, rhs: np.ndarray) -> np.ndarray:
        """``H^-1 rhs`` with the factor of the information matrix ``H`` at ``mu``."""
        assert self._chol is not None
        factor, lower = self._chol
        out, _ = lapack.dpotrs(factor, rhs, lower=int(lower))
        return out

    @property
    def n_games(self) -> np.ndarray:
        """Votes per model (ties included)."""
        return self._games.sum(axis=1)

    def var_diff(self, i: int | str, j: int | str) -> float:
        """Posterior variance of ``mu_i - mu_j``."""
        a, b = self._resolve(i), self._resolve(j)
        self._fresh()
        if self._cov is not None:
            return float(self._cov[a, a] + self._cov[b, b] - 2.0 * self._cov[a, b])
        contrast = np.zeros(len(self.models))
        contrast[a], contrast[b] = 1.0, -1.0
        return float(contrast @ self._solve(contrast))

    def win_probability(self, i: int | str, j: int | str) -> float:
        """Predicted probability that ``i`` is chosen over ``j``."""
        a, b = self._resolve(i), self._resolve(j)
        return float(expit(self.mu[a] - self.mu[b]))

    def standings(self) -> pd.DataFrame:
        """Quick table, best first: ``rank, name, score, mu, se, n_games`` (no intervals).

        Models without games come last, as in :func:`ranking.compute_standings`.
        ``score`` is ``1000 + 400 * log10-odds`` against the average, as in
        :func:`ranking.compute_standings`; ``se`` is the model-based standard error of
        ``mu`` relative to the average of the models that have played.
        """
        mu = self.mu
        n = len(mu)
        played = self.n_games > 0
        avg = played / played.sum() if played.any() else np.full(n, 1.0 / max(n, 1))
        centred = mu - avg @ mu
        cov = self.cov
        var = np.diag(cov) - 2.0 * (cov @ avg) + avg @ cov @ avg
        order = np.lexsort((self._name_rank, -centred, ~played))
        return pd.DataFrame(
            {
                "rank": np.arange(1, n + 1),
                "name": [self.models[k] for k in order],
                "score": 1000.0 + 400.0 / np.log(10.0) * centred[order],
                "mu": mu[order],
                "se": np.sqrt(np.maximum(var[order], 0.0)),
                "n_games": self.n_games[order].astype(np.int64),
            }
        )
