"""The matchmaker's rating model: a Bradley-Terry posterior on the board's pair counts.

Two forms of the same posterior (same likelihood, same prior):

* boards of up to :data:`DENSE_MODELS` models: :class:`ranking.RatingState` (warm-started
  Newton steps on ``n x n`` count matrices, about a millisecond at 100 models) and the exact
  covariance, :class:`Posterior`;
* bigger boards: :class:`LocalPosterior`, fitted on the sparse list of pairs that have met
  (Newton steps solved by conjugate gradients, O(pairs) each), with the covariance taken block
  by block along the current order: each block of :data:`BLOCK` consecutive models is the
  inverse of the information matrix restricted to them. Models outside a block are treated as
  known, so a block's variances are lower bounds of the true ones (by the Schur complement; a
  block that holds every model is exact): a pair that is not separated under them is not
  separated, and a pair that looks separated is checked exactly by :meth:`exact_var_diff`
  (conjugate gradients on the sparse information matrix). Memory and time grow with the
  number of models and pairs, never with its square.

The matchmaker uses its own prior, ``N(0, PRIOR_SD**2)`` in logits: wide enough that a model
without votes is plainly unplaced, narrow enough to keep early fits sensible.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from ranking import RatingState

__all__ = [
    "BLOCK",
    "DENSE_MODELS",
    "PRIOR_SD",
    "LocalPosterior",
    "Posterior",
    "local_posterior",
    "nudge",
    "posterior_of",
    "rating_state",
    "var_diff",
]

#: Prior standard deviation of a model's strength, in logits. A model without votes sits at 0
#: (the middle of the board) with this uncertainty, so the matchmaker sees it as unplaced.
PRIOR_SD = 2.0
#: Boards with more models than this use :class:`LocalPosterior` (a dense fit of ``n`` models
#: costs ``n**3`` per refit: 4 s and gigabytes at 3,000 models).
DENSE_MODELS = 300
#: Models per covariance block of :class:`LocalPosterior`; blocks overlap by half.
BLOCK = 32
_PRIOR_PRECISION = 1.0 / PRIOR_SD**2


def var_diff(cov: np.ndarray, i: np.ndarray | int, j: np.ndarray | int) -> np.ndarray:
    """Variance of ``mu[i] - mu[j]`` under covariance ``cov`` (element-wise for arrays)."""
    return np.clip(cov[i, i] + cov[j, j] - 2.0 * cov[i, j], 1e-12, None)


@dataclass(frozen=True)
class Posterior:
    """Strengths ``mu`` (logits, higher is better) and their covariance ``cov``."""

    mu: np.ndarray
    cov: np.ndarray

    def var_diff(self, i: np.ndarray | int, j: np.ndarray | int) -> np.ndarray:
        """Variance of ``mu[i] - mu[j]`` (element-wise for arrays of indices)."""
        return var_diff(self.cov, i, j)


def rating_state(names: list[str], wins: np.ndarray, games: np.ndarray) -> RatingState:
    """A :class:`ranking.RatingState` of these counts under the matchmaker's prior, fitted."""
    return RatingState(names, games, wins, prior_precision=_PRIOR_PRECISION)


def posterior_of(rating: RatingState) -> Posterior:
    """Refit ``rating`` (warm-started: a step or two) and return its posterior."""
    rating.refit()
    return Posterior(rating.mu, rating.cov)


@dataclass(frozen=True)
class LocalPosterior:
    """Strengths ``mu`` and the covariance by blocks of the order (see the module docstring).

    ``information`` is the sparse information matrix at ``mu`` (the Fisher information
    ``games * p(1 - p)`` of each pair, the prior on the diagonal); ``order`` lists every model best first and ``position`` inverts it; block ``k``
    covers positions ``starts[k]`` to ``starts[k] + size - 1`` and ``block_cov[k]`` is its
    covariance.
    """

    mu: np.ndarray
    information: sp.csr_matrix
    order: np.ndarray
    position: np.ndarray
    starts: np.ndarray
    block_cov: np.ndarray
    checked: dict[tuple[int, int], float]  # exact variances of differences found so far

    def _block_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """For positions ``x <= y``: the block holding both whose middle is nearest theirs,
        or -1."""
        size = self.block_cov.shape[1]
        stride = max(1, size // 2)
        last = len(self.starts) - 1
        mid = (x + y) / 2.0
        best = np.clip(np.rint((mid - (size - 1) / 2.0) / stride).astype(np.intp), 0, last)
        start = self.starts[best]
        missed = np.flatnonzero((x < start) | (y >= start + size))
        for m in missed.tolist():  # rare: near the shifted last block, or pairs far apart
            fits = np.flatnonzero((self.starts <= x[m]) & (y[m] < self.starts + size))
            centre = np.abs(self.starts[fits] + (size - 1) / 2.0 - mid[m])
            best[m] = fits[np.argmin(centre)] if len(fits) else -1
        return best

    def var_diff(self, i: np.ndarray | int, j: np.ndarray | int) -> np.ndarray:
        """Variance of ``mu[i] - mu[j]``, from the block that holds both nearest its middle;
        pairs further apart than a block get ``var[i] + var[j]`` (correlation ignored)."""
        pi, pj = np.atleast_1d(self.position[i]), np.atleast_1d(self.position[j])
        x, y = np.minimum(pi, pj), np.maximum(pi, pj)
        k = self._block_of(x, y)
        inside = k >= 0
        kk = np.where(inside, k, 0)
        start = self.starts[kk]
        xl = np.clip(x - start, 0, self.block_cov.shape[1] - 1)
        yl = np.clip(y - start, 0, self.block_cov.shape[1] - 1)
        c = self.block_cov
        within = c[kk, xl, xl] + c[kk, yl, yl] - 2.0 * c[kk, xl, yl]
        out = np.where(inside, within, self.var(x) + self.var(y))
        out = np.clip(out, 1e-12, None)
        return out if np.ndim(i) or np.ndim(j) else out[0]

    def var(self, positions: np.ndarray) -> np.ndarray:
        """Variance of the models at these positions of the order, from their central block."""
        k = self._block_of(positions, positions)
        local = positions - self.starts[k]
        return self.block_cov[k, local, local]

    def covariance(self, models: np.ndarray) -> np.ndarray:
        """Covariance of these models' strengths, the others treated as known (exact when
        ``models`` are all the models of the board)."""
        return np.linalg.inv(self.information[models][:, models].toarray())

    def exact_var_diff(self, i: np.ndarray, j: np.ndarray, budget: int) -> np.ndarray:
        """The exact variance of ``mu[i] - mu[j]`` for each pair, NaN where it is not known
        yet: at most ``budget`` new pairs are solved (a few ms each at 10,000 models) and kept
        for later calls on this fit."""
        keys = [(int(a), int(b)) if a < b else (int(b), int(a)) for a, b in zip(i, j)]
        todo = list(dict.fromkeys(k for k in keys if k not in self.checked))[:max(0, budget)]
        if todo:
            n, cols = len(self.mu), np.arange(len(todo))
            rhs = np.zeros((n, len(todo)))
            rhs[[a for a, _ in todo], cols] = 1.0
            rhs[[b for _, b in todo], cols] = -1.0
            solved = _solve_many(self.information, rhs)
            for key, value in zip(todo, (rhs * solved).sum(axis=0)):
                self.checked[key] = float(value)
        return np.array([self.checked.get(k, np.nan) for k in keys], dtype=float)


def _solve_many(h: sp.csr_matrix, rhs: np.ndarray, rtol: float = 1e-8) -> np.ndarray:
    """``h^-1 rhs`` column by column at once: conjugate gradients with a Jacobi preconditioner
    (``h`` is symmetric positive definite and diagonally dominant)."""
    inv_diag = (1.0 / h.diagonal())[:, None]
    x = np.zeros_like(rhs)
    r = rhs.copy()
    z = r * inv_diag
    p = z.copy()
    rz = (r * z).sum(axis=0)
    stop = rtol * np.sqrt((rhs * rhs).sum(axis=0)).max()
    for _ in range(10 * len(rhs)):
        q = h @ p
        alpha = rz / np.maximum((p * q).sum(axis=0), 1e-300)
        x += p * alpha
        r -= q * alpha
        if np.sqrt((r * r).sum(axis=0)).max() <= stop:
            break
        z = r * inv_diag
        rz_new = (r * z).sum(axis=0)
        p = z + p * (rz_new / np.maximum(rz, 1e-300))
        rz = rz_new
    return x


def _information(
    n: int, lo: np.ndarray, hi: np.ndarray, w: np.ndarray, pattern: sp.csr_matrix | None = None,
) -> sp.csr_matrix:
    """The information matrix: ``-w`` off the diagonal, the row sums plus the prior on it.
    With ``pattern`` (an earlier result for the same pairs) only the values are replaced."""
    diag = np.bincount(lo, w, minlength=n) + np.bincount(hi, w, minlength=n) + _PRIOR_PRECISION
    values = np.concatenate([-w, -w, diag])
    if pattern is None:  # data holds, for each stored entry, which of ``values`` it is
        where = np.arange(len(values), dtype=float)
        pattern = sp.csr_matrix(
            (where, (np.concatenate([lo, hi, np.arange(n)]), np.concatenate([hi, lo, np.arange(n)]))),
            shape=(n, n),
        )
        pattern.sort_indices()
        pattern.slots = pattern.data.astype(np.intp)  # type: ignore[attr-defined]
    h = pattern.copy()
    h.data = values[pattern.slots]  # type: ignore[attr-defined]
    h.slots = pattern.slots  # type: ignore[attr-defined]
    return h


def _fit_sparse(
    n: int, lo: np.ndarray, hi: np.ndarray, games: np.ndarray, wins: np.ndarray, mu: np.ndarray,
    *, tol: float = 1e-9, max_iter: int = 100,
) -> tuple[np.ndarray, sp.csr_matrix]:
    """Newton's method on the pairs ``(lo, hi)`` from ``mu``; returns ``mu`` and the
    information matrix there."""
    h = None
    for _ in range(max_iter):
        p = expit(mu[lo] - mu[hi])
        r = wins - games * p
        grad = np.bincount(lo, r, minlength=n) - np.bincount(hi, r, minlength=n) - _PRIOR_PRECISION * mu
        h = _information(n, lo, hi, games * p * (1.0 - p), h)
        step = _solve_many(h, grad[:, None], rtol=1e-8)[:, 0]
        biggest = np.abs(step).max(initial=0.0)
        mu = mu + (step if biggest <= 2.0 else step * (2.0 / biggest))
        if biggest < tol:
            break
    p = expit(mu[lo] - mu[hi])
    return mu, _information(n, lo, hi, games * p * (1.0 - p), h)


def local_posterior(
    n: int, lo: np.ndarray, hi: np.ndarray, games: np.ndarray, wins: np.ndarray,
    start: np.ndarray | None = None,
) -> LocalPosterior:
    """Fit the pairs ``(lo, hi)`` with ``games`` votes of which ``lo`` won ``wins`` (ties
    count half) and invert the blocks of the new order. From ``start`` (the last fit's
    strengths, padded with zeros for new models), one Newton step: a refit follows a few new
    votes, so the fit stays converged over successive refits at a fraction of the cost."""
    mu0 = np.zeros(n) if start is None else np.pad(np.asarray(start, dtype=float), (0, n - len(start)))
    mu, information = _fit_sparse(n, lo, hi, games, wins, mu0, max_iter=100 if start is None else 1)
    precision = information.diagonal()
    p = expit(mu[lo] - mu[hi])
    w = games * p * (1.0 - p)
    order = np.argsort(-mu, kind="stable")
    position = np.empty(n, dtype=np.intp)
    position[order] = np.arange(n)
    size = min(BLOCK, n)
    stride = max(1, size // 2)
    blocks = 1 if n <= size else -(-(n - size) // stride) + 1
    starts = np.minimum(np.arange(blocks) * stride, n - size)
    h = np.zeros((blocks, size, size))
    local = np.arange(size)
    h[:, local, local] = precision[order[starts[:, None] + local[None, :]]]
    px, py = position[lo], position[hi]
    x, y = np.minimum(px, py), np.maximum(px, py)
    k0 = np.minimum(x // stride, blocks - 1)
    for k in (k0 - 1, k0, k0 + 1):
        kc = np.clip(k, 0, blocks - 1)
        ok = (k >= 0) & (k < blocks) & (starts[kc] <= x) & (y < starts[kc] + size)
        kk, xl, yl = kc[ok], x[ok] - starts[kc[ok]], y[ok] - starts[kc[ok]]
        h[kk, xl, yl] = -w[ok]
        h[kk, yl, xl] = -w[ok]
    return LocalPosterior(mu, information, order, position, starts, np.linalg.inv(h), {})


def nudge(
    post: LocalPosterior, models: np.ndarray, lo: np.ndarray, hi: np.ndarray, games: np.ndarray,
    wins: np.ndarray,
) -> LocalPosterior:
    """Between full refits: one Newton step for each of ``models`` alone (the others held),
    on the pairs ``(lo, hi)`` that involve them, so a newcomer moves after every vote. The
    order, blocks and exact checks are kept until the next refit."""
    n = len(post.mu)
    mu = post.mu.copy()
    p = expit(mu[lo] - mu[hi])
    r, w = wins - games * p, games * p * (1.0 - p)
    grad = np.bincount(lo, r, minlength=n) - np.bincount(hi, r, minlength=n) - _PRIOR_PRECISION * mu
    curve = np.bincount(lo, w, minlength=n) + np.bincount(hi, w, minlength=n) + _PRIOR_PRECISION
    mu[models] += np.clip(grad[models] / curve[models], -2.0, 2.0)
    return replace(post, mu=mu)
