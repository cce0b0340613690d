"""Full-data paired-comparison fits by Newton's method on aggregated pair counts.

The model: ``P(i beats j) = F(z_i - z_j)`` with ``F`` the logistic (``link="logit"``,
Bradley-Terry) or the normal CDF (``link="probit"``, Thurstone-Mosteller); a tie counts
half a win each way; an independent ``N(0, 1/prior_precision)`` prior on each ``z``
keeps unbeaten models finite and fixes the free offset (at the optimum ``sum(z) = 0``).
The log-posterior is strictly concave; Fisher scoring (which is Newton's method for the
logistic) converges in a handful of steps, with steps capped at 2 units for robustness
far from the optimum.
Everything is vectorised over pairs, and :func:`fit_batch` over bootstrap replicates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, sparse
from scipy.linalg import lapack
from scipy.special import expit, ndtr

from ranking.pairs import PairTable

__all__ = [
    "FitResult", "fit", "fit_batch", "information", "inverse_from_factor", "laplacian", "pair_terms",
    "win_probability",
]

_MAX_STEP = 2.0
_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_PROBIT_LIMIT = 35.0
_COLUMN_BY_COLUMN = 300


def win_probability(d: np.ndarray, link: str) -> np.ndarray:
    """``P(i beats j)`` for link-unit differences ``d = z_i - z_j``."""
    return expit(d) if link == "logit" else ndtr(d)


def pair_terms(
    d: np.ndarray, games: np.ndarray, score: np.ndarray, link: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: derivative of the log-likelihood in ``d`` and the Fisher information.

    :param d: ``z_i - z_j`` per pair.
    :param games: games per pair; ``score``: score of ``i`` (wins + ties/2).
    """
    if link == "logit":
        p = expit(d)
        return score - games * p, games * p * (1.0 - p)
    d = np.clip(d, -_PROBIT_LIMIT, _PROBIT_LIMIT)  # keeps both tails above underflow
    pdf = np.exp(-0.5 * d * d - _LOG_SQRT_2PI)
    small = ndtr(-np.abs(d))  # the smaller tail, computed directly for precision
    large = 1.0 - small
    cdf, sf = np.where(d < 0, small, large), np.where(d < 0, large, small)
    grad = score * (pdf / cdf) - (games - score) * (pdf / sf)
    return grad, games * (pdf / cdf) * (pdf / sf)


def laplacian(i: np.ndarray, j: np.ndarray, weight: np.ndarray, n: int) -> np.ndarray:
    """Dense weighted graph Laplacian: ``sum_k weight_k (e_i - e_j)(e_i - e_j)^T``."""
    flat = np.bincount(i * n + j, weights=weight, minlength=n * n).reshape(n, n)
    out = -(flat + flat.T)
    out[np.diag_indices(n)] += np.bincount(i, weight, n) + np.bincount(j, weight, n)
    return out


def information(table: PairTable, weight: np.ndarray, prior_precision: float) -> np.ndarray:
    """Dense ``n x n`` information matrix: the weighted graph Laplacian plus the prior."""
    h = laplacian(table.i, table.j, weight, table.n)
    h[np.diag_indices(table.n)] += prior_precision
    return h


@dataclass(frozen=True)
class FitResult:
    """A converged fit: ratings ``z`` (link units) and the information matrix there."""

    z: np.ndarray
    hessian: np.ndarray
    iterations: int

    def covariance(self) -> np.ndarray:
        """Posterior covariance ``H^-1`` (Laplace approximation), in link units squared."""
        return inverse_from_factor(linalg.cho_factor(self.hessian))


def inverse_from_factor(chol: tuple[np.ndarray, bool]) -> np.ndarray:
    """``H^-1`` from ``scipy.linalg.cho_factor(H)``.

    Up to a few hundred rows it solves one column at a time: a multi-column solve is
    faster on an idle machine but can take tens of milliseconds when the cores are busy
    (threaded BLAS), which would break the matchmaker's latency budget.
    """
    factor, lower = chol
    n = factor.shape[0]
    if n > _COLUMN_BY_COLUMN:
        return linalg.cho_solve(chol, np.eye(n), check_finite=False)
    out = np.empty((n, n))
    unit = np.zeros(n)
    for k in range(n):
        unit[k] = 1.0
        out[:, k], _ = lapack.dpotrs(factor, unit, lower=int(lower))
        unit[k] = 0.0
    return out


def _capped(step: np.ndarray) -> np.ndarray:
    biggest = np.abs(step).max(axis=-1, keepdims=True)
    return step * np.minimum(1.0, _MAX_STEP / np.maximum(biggest, 1e-300))


def fit(
    table: PairTable,
    link: str,
    prior_precision: float,
    z0: np.ndarray | None = None,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> FitResult:
    """Posterior mode of the ratings given pair counts.

    :param table: pair counts of ``table.n`` models.
    :param link: ``"logit"`` or ``"probit"``.
    :param prior_precision: precision of the ``N(0, .)`` prior per model (> 0).
    :param z0: warm start (defaults to zeros).
    :param tol: stop when no rating moves more than this.
    """
    n = table.n
    z = np.zeros(n) if z0 is None else np.array(z0, dtype=np.float64)
    iteration = 0
    for iteration in range(1, max_iter + 1):
        grad_d, weight = pair_terms(z[table.i] - z[table.j], table.games, table.score, link)
        g = np.bincount(table.i, grad_d, n) - np.bincount(table.j, grad_d, n)
        g -= prior_precision * z
        h = information(table, weight, prior_precision)
        step = _capped(linalg.cho_solve(linalg.cho_factor(h), g))
        z = z + step
        if np.abs(step).max(initial=0.0) < tol:
            break
    _, weight = pair_terms(z[table.i] - z[table.j], table.games, table.score, link)
    return FitResult(z, information(table, weight, prior_precision), iteration)


def _factors(h: np.ndarray) -> np.ndarray:
    """Upper Cholesky factors of a stack of symmetric positive definite matrices.

    One LAPACK call per matrix (and single right-hand sides in :func:`_solve`): that stays
    fast when the machine is busy, where threaded batched solves can slow down tenfold.
    """
    out = np.empty_like(h)
    for k in range(len(h)):
        out[k], info = lapack.dpotrf(h[k], lower=0, clean=1)
        if info != 0:
            raise FloatingPointError(f"information matrix {k} is not positive definite")
    return out


def _solve(factors: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Solve ``H_k x_k = g_k`` for each ``k`` given the factors of ``H_k``."""
    out = np.empty_like(g)
    for k in range(len(g)):
        out[k], _ = lapack.dpotrs(factors[k], g[k], lower=0)
    return out


def fit_batch(
    table: PairTable,
    games: np.ndarray,
    score: np.ndarray,
    link: str,
    prior_precision: float,
    z0: np.ndarray,
    *,
    tol: float = 1e-7,
    max_iter: int = 60,
    refresh: int = 4,
) -> np.ndarray:
    """Fit many replicates of the same pairs at once (the bootstrap).

    Each replicate's information matrix is factored at the warm start and reused for
    ``refresh`` steps (a chord method: bootstrap optima lie close to the warm start, so
    this converges fast), then recomputed for replicates that have not converged yet.

    :param table: gives the pairs ``(i, j)`` and ``n``; its counts are not used.
    :param games: ``(B, pairs)`` games per replicate; ``score``: scores of ``i``.
    :param z0: warm start, ``(n,)`` or ``(B, n)``.
    :return: ``(B, n)`` posterior modes.
    """
    n, n_rep = table.n, games.shape[0]
    z = np.array(np.broadcast_to(z0, (n_rep, n)), dtype=np.float64)
    rows = np.arange(len(table))
    incidence = sparse.csr_matrix(
        (np.r_[np.ones(len(rows)), -np.ones(len(rows))], (np.r_[rows, rows], np.r_[table.i, table.j])),
        shape=(len(rows), n),
    )
    absolute = abs(incidence)
    upper, lower, diag = table.i * n + table.j, table.j * n + table.i, np.arange(n) * (n + 1)
    active = np.arange(n_rep)
    factors = np.zeros((0, n, n))
    for iteration in range(max_iter):
        za = z[active]
        grad_d, weight = pair_terms(
            za[:, table.i] - za[:, table.j], games[active], score[active], link
        )
        g = np.asarray((incidence.T @ grad_d.T).T) - prior_precision * za
        if iteration % refresh == 0:
            h = np.zeros((len(active), n * n))
            h[:, upper] = -weight
            h[:, lower] = -weight
            h[:, diag] = np.asarray((absolute.T @ weight.T).T) + prior_precision
            factors = _factors(h.reshape(-1, n, n))
        step = _capped(_solve(factors, g))
        z[active] = za + step
        moving = np.abs(step).max(axis=1) >= tol
        active, factors = active[moving], factors[moving]
        if len(active) == 0:
            break
    return z
