"""The joint fit behind :func:`ranking.compute_weighted_standings`: model strengths and, per
rater, a reliability ``w`` and a side preference ``lambda`` (see :mod:`ranking.weighted`).

Votes are aggregated by (prompt, rater, left model, right model, outcome) into keys, in a
canonical order (raters and models by name), so the order of the votes cannot matter and the
cost is that of the distinct keys. The posterior mode is found by Fisher scoring on all
parameters at once: the rater blocks are 2 x 2 and eliminated by a Schur complement, leaving
one ``n x n`` solve per step; steps are halved until the log-posterior rises, and ``w`` stays
in ``[0, 1]``. Each step costs O(keys + raters x models^2). (EM crawls here: lapses and a
wider spread of strengths explain votes almost equally well, and a random clicker's
reliability sits near 0 where EM is sublinear.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, sparse
from scipy.stats import norm

from ranking.fit import fit, laplacian, win_probability
from ranking.openskill_models import OpenSkillScale
from ranking.pairs import PairTable, pair_table
from ranking.prepare import Prepared

__all__ = [
    "SIDE_PRIOR", "TRUSTED_SHARE", "Keys", "Posterior", "RaterPrior", "aggregate", "fit_crowd", "fit_posterior",
    "log_posterior", "one_voice_start", "robust_covariance",
]

#: Pseudo-votes of the Beta prior centring each rater's side preference at 1/2.
SIDE_PRIOR = 2.0
#: Prior mean of the share of trusted raters (reliability in the spike at 1), where
#: :func:`fit_crowd` starts. A fixed 0.5 sometimes discounted an honest rater with a few unlucky
#: votes (benchmarks/weighted_scoring.py: all-honest standings worse than unweighted in 1 of 100
#: cases); a fixed 0.9 kept undetected random clickers (intervals covered 92.5%).
TRUSTED_SHARE = 0.9
_MAX_ITER = 200
_RATER_STEPS = 8  # raters alone only choose each rater's mode; the joint steps refine it
_EPS = 1e-9


@dataclass(frozen=True)
class Keys:
    """Votes aggregated by (cluster, rater, a, b, outcome), canonical order: ``left``/``right``
    count the choices of ``a``/``b`` (a tie adds half to each); ``cluster`` is -1 for votes
    that are their own resampling unit; ``pair`` indexes ``pairs`` (``a_low``: ``a < b``).
    Raters are numbered by name; ``rater_index[r]`` is rater ``r``'s index in ``va.raters``."""

    cluster: np.ndarray
    rater: np.ndarray
    a: np.ndarray
    b: np.ndarray
    left: np.ndarray
    right: np.ndarray
    pair: np.ndarray
    a_low: np.ndarray
    pairs: PairTable
    n_raters: int
    rater_index: np.ndarray


def aggregate(prep: Prepared, cluster: np.ndarray) -> Keys:
    """Keys of the used votes of ``prep``; ``cluster`` per vote (-1: a unit of its own)."""
    va = prep.va
    m = len(prep.rated)
    names = np.array(va.raters if va.raters else ("",), dtype=object)
    rank = np.empty(len(names), dtype=np.int64)
    rank[np.argsort(names, kind="stable")] = np.arange(len(names))
    r = rank[va.rater[prep.rows]] if len(va.raters) else np.zeros(len(prep.rows), np.int64)
    a, b = prep.local[prep.a], prep.local[prep.b]
    outcome = (2.0 * prep.score).astype(np.int64)  # 0: b chosen, 1: tie, 2: a chosen
    key = ((((cluster + 1) * len(names) + r) * m + a) * m + b) * 3 + outcome
    distinct, count = np.unique(key, return_counts=True)
    outcome_k, rest = distinct % 3, distinct // 3
    b_k, rest = rest % m, rest // m
    a_k, rest = rest % m, rest // m
    r_k, c_k = rest % len(names), rest // len(names)
    left = count * (outcome_k / 2.0)
    table, pair, _ = pair_table(np.minimum(a_k, b_k), np.maximum(a_k, b_k), np.ones(len(a_k)), m)
    return Keys(c_k - 1, r_k, a_k, b_k, left, count - left, pair, a_k < b_k, table, len(names),
                np.argsort(rank))


def one_voice_start(k: Keys, scale: OpenSkillScale) -> np.ndarray:
    """Starting strengths: a fit where each rater has one voice per model pair (their share of
    wins on it), so that a prolific rater cannot start the fit in their own optimum."""
    n_pairs = len(k.pairs)
    cells, where = np.unique(k.rater.astype(np.int64) * n_pairs + k.pair, return_inverse=True)
    games = np.bincount(where, k.left + k.right, len(cells))
    won = np.bincount(where, np.where(k.a_low, k.left, k.right), len(cells))
    pair = cells % n_pairs
    table = PairTable(k.pairs.n, k.pairs.i, k.pairs.j, np.bincount(pair, minlength=n_pairs).astype(float),
                      np.bincount(pair, won / games, n_pairs))
    return fit(table, scale.link, scale.prior_precision).z


@dataclass(frozen=True)
class Posterior:
    """Posterior mode ``z`` (not centred), ``w`` and ``lam`` per rater, and at the mode the
    pieces of the Fisher information: ``schur`` (``n x n``, its inverse is the covariance of
    ``z`` with the raters' uncertainty included), ``cross`` (``(R, n, 2)``) and ``rater_inv``
    (``(R, 2, 2)`` inverse rater blocks)."""

    z: np.ndarray
    w: np.ndarray
    lam: np.ndarray
    schur: np.ndarray
    cross: np.ndarray
    rater_inv: np.ndarray
    iterations: int


def _terms(k: Keys, scale: OpenSkillScale, z: np.ndarray, w: np.ndarray, lam: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per key: ``dlogL/dP`` summed over its votes, its Fisher weight ``n / (P (1 - P))``, and
    the derivatives of ``P`` in ``d``, ``w`` and ``lambda``."""
    d = z[k.a] - z[k.b]
    f = win_probability(d, scale.link)
    density = f * (1.0 - f) if scale.link == "logit" else norm.pdf(d)
    wr, lr = w[k.rater], lam[k.rater]
    p = np.clip(wr * f + (1.0 - wr) * lr, 1e-12, 1.0 - 1e-12)
    score = k.left / p - k.right / (1.0 - p)
    return score, (k.left + k.right) / (p * (1.0 - p)), wr * density, f - lr, 1.0 - wr


@dataclass(frozen=True)
class RaterPrior:
    """The reliability prior: with probability ``trusted`` a spike ``Beta(strength + 1, 1)``
    at 1, else uniform on ``[0, 1]``."""

    strength: float
    trusted: float


def _reliability_prior(w: np.ndarray, prior: RaterPrior) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Log-density, slope and (non-negative) curvature of the reliability prior at ``w``, and
    the spike's share of the density there."""
    strength = prior.strength
    log_spike = np.log(prior.trusted * (strength + 1.0)) + strength * np.log(w)
    value = np.logaddexp(log_spike, np.log1p(-prior.trusted))
    r = np.exp(log_spike - value)  # how much of the density is the spike's
    slope = r * strength / w
    curvature = np.maximum(r * strength * (1.0 - strength * (1.0 - r)) / w**2, 0.0) + 1.0  # + 1: steady steps
    return value, slope, curvature, r


def log_posterior(k: Keys, scale: OpenSkillScale, prior: RaterPrior, z: np.ndarray, w: np.ndarray,
                  lam: np.ndarray) -> float:
    """Log-posterior (up to a constant) of strengths ``z`` and raters' ``w`` and ``lam``."""
    f = win_probability(z[k.a] - z[k.b], scale.link)
    p = np.clip(w[k.rater] * f + (1.0 - w[k.rater]) * lam[k.rater], 1e-300, 1.0 - 1e-16)
    # Elementwise sums, not dot products: threaded BLAS is slow on a busy machine (see fit.py).
    value = float(np.sum(k.left * np.log(p) + k.right * np.log1p(-p)))
    value -= 0.5 * scale.prior_precision * float(np.sum(z * z))
    value += float(_reliability_prior(w, prior)[0].sum())
    return value + SIDE_PRIOR / 2 * float(np.log(lam).sum() + np.log1p(-lam).sum())


def _information(k: Keys, scale: OpenSkillScale, prior: RaterPrior, z: np.ndarray, w: np.ndarray,
                 lam: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradient (``z``; ``(R, 2)`` raters) and Fisher information blocks at a point."""
    m, n_r = len(z), k.n_raters
    score, c, pd_, pw, pl = _terms(k, scale, z, w, lam)
    g_z = np.bincount(k.a, score * pd_, m) - np.bincount(k.b, score * pd_, m) - scale.prior_precision * z
    _, slope, curvature, _ = _reliability_prior(w, prior)
    g_r = np.stack([np.bincount(k.rater, score * pw, n_r) + slope,
                    np.bincount(k.rater, score * pl, n_r) + SIDE_PRIOR / 2 * (1 / lam - 1 / (1 - lam))], 1)
    h_zz = laplacian(k.a, k.b, c * pd_ * pd_, m).astype(float)
    h_zz[np.diag_indices(m)] += scale.prior_precision
    h_rr = np.empty((n_r, 2, 2))
    h_rr[:, 0, 0] = np.bincount(k.rater, c * pw * pw, n_r) + curvature
    h_rr[:, 0, 1] = h_rr[:, 1, 0] = np.bincount(k.rater, c * pw * pl, n_r)
    h_rr[:, 1, 1] = np.bincount(k.rater, c * pl * pl, n_r) + SIDE_PRIOR / 2 * (1 / lam**2 + 1 / (1 - lam) ** 2)
    cross = np.zeros((n_r, m, 2))
    for col, part in enumerate((pw, pl)):
        value = c * pd_ * part
        flat = np.bincount(k.rater * m + k.a, value, n_r * m) - np.bincount(k.rater * m + k.b, value, n_r * m)
        cross[:, :, col] = flat.reshape(n_r, m)
    # A reliability at 1 that wants to rise is held there (its row becomes the identity).
    held = (w >= 1.0 - _EPS) & (g_r[:, 0] > 0)
    g_r[held, 0], cross[held, :, 0] = 0.0, 0.0
    h_rr[held, 0, :], h_rr[held, :, 0] = 0.0, 0.0
    h_rr[held, 0, 0] = 1.0
    return g_z, g_r, h_zz, h_rr, cross


def _inverse_2x2(h: np.ndarray) -> np.ndarray:
    det = h[:, 0, 0] * h[:, 1, 1] - h[:, 0, 1] * h[:, 1, 0]
    out = np.empty_like(h)
    out[:, 0, 0], out[:, 1, 1] = h[:, 1, 1] / det, h[:, 0, 0] / det
    out[:, 0, 1], out[:, 1, 0] = -h[:, 0, 1] / det, -h[:, 1, 0] / det
    return out


def _apply(inv: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``J_r^-1 g_r`` for every rater: ``(R, 2, 2)`` times ``(R, 2)``."""
    return inv[:, :, 0] * g[:, :1] + inv[:, :, 1] * g[:, 1:]


def _schur(h_zz: np.ndarray, cross: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """``H_zz - sum_r C_r J_r^-1 C_r^T``: the information on ``z`` once the raters are
    eliminated (one matrix product)."""
    m = h_zz.shape[0]
    pushed = cross[:, :, :1] * inv[:, None, 0, :] + cross[:, :, 1:] * inv[:, None, 1, :]  # C_r J_r^-1
    return h_zz - pushed.transpose(1, 0, 2).reshape(m, -1) @ cross.transpose(1, 0, 2).reshape(m, -1).T


def _rater_values(k: Keys, prior: RaterPrior, f: np.ndarray, w: np.ndarray, lam: np.ndarray,
                  keys: np.ndarray | None = None) -> np.ndarray:
    """Each rater's share of the log-posterior (raters are independent given the strengths),
    ``f`` being each key's ``F(z_a - z_b)``; only from the ``keys`` selected, when given."""
    r, left, right = k.rater, k.left, k.right
    if keys is not None:
        r, left, right, f = r[keys], left[keys], right[keys], f[keys]
    p = np.clip(w[r] * f + (1.0 - w[r]) * lam[r], 1e-300, 1.0 - 1e-16)
    value = np.bincount(r, left * np.log(p) + right * np.log1p(-p), k.n_raters)
    return value + _reliability_prior(w, prior)[0] + SIDE_PRIOR / 2 * (np.log(lam) + np.log1p(-lam))


def _rater_steps(k: Keys, scale: OpenSkillScale, prior: RaterPrior, z: np.ndarray, w: np.ndarray,
                 lam: np.ndarray, dr: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Apply each rater's step ``dr``, halved for that rater until its own share of the
    log-posterior rises; return the new ``w``, ``lam`` and the total gain."""
    f = win_probability(z[k.a] - z[k.b], scale.link)
    old = _rater_values(k, prior, f, w, lam)
    step = np.ones(len(w))
    new_w, new_lam = np.clip(w + dr[:, 0], _EPS, 1.0), np.clip(lam + dr[:, 1], _EPS, 1.0 - _EPS)
    new = _rater_values(k, prior, f, new_w, new_lam)
    slack = 1e-12 * (1.0 + np.abs(old))  # a rater already at its mode only loses rounding
    for _ in range(20):
        worse = new < old - slack
        if not worse.any():
            break
        step = np.where(worse, step / 2.0, step)
        new_w = np.where(worse, np.clip(w + step * dr[:, 0], _EPS, 1.0), new_w)
        new_lam = np.where(worse, np.clip(lam + step * dr[:, 1], _EPS, 1.0 - _EPS), new_lam)
        new = np.where(worse, _rater_values(k, prior, f, new_w, new_lam, worse[k.rater]), new)
    keep = new >= old
    return (np.where(keep, new_w, w), np.where(keep, new_lam, lam),
            float(np.where(keep, new - old, 0.0).sum()))


def _climb(k: Keys, scale: OpenSkillScale, prior: RaterPrior, z: np.ndarray, w: np.ndarray, lam: np.ndarray,
           raters_only: bool, tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Fisher scoring steps, halved until the log-posterior rises, until it stops rising."""
    value = log_posterior(k, scale, prior, z, w, lam)
    iteration = 0
    for iteration in range(1, (_RATER_STEPS if raters_only else _MAX_ITER) + 1):
        g_z, g_r, h_zz, h_rr, cross = _information(k, scale, prior, z, w, lam)
        inv = _inverse_2x2(h_rr)
        if raters_only:  # independent given z: each rater halves its own step
            w, lam, gain = _rater_steps(k, scale, prior, z, w, lam, _apply(inv, g_r))
            value += gain
            if gain <= tol * max(1.0, abs(value)):
                break
            continue
        rhs = g_z - (cross * _apply(inv, g_r)[:, None, :]).sum(axis=(0, 2))
        dz = linalg.cho_solve(linalg.cho_factor(_schur(h_zz, cross, inv)), rhs)
        dr = _apply(inv, g_r - (cross * dz[None, :, None]).sum(axis=1))
        step, new = 1.0, value
        for _ in range(40):
            nz, nw = z + step * dz, np.clip(w + step * dr[:, 0], _EPS, 1.0)
            nl = np.clip(lam + step * dr[:, 1], _EPS, 1.0 - _EPS)
            new = log_posterior(k, scale, prior, nz, nw, nl)
            if new >= value:
                z, w, lam = nz, nw, nl
                break
            step /= 2.0
        gain, value = max(new - value, 0.0), max(new, value)
        if gain <= tol * max(1.0, abs(value)):
            break
    return z, w, lam, iteration


def fit_posterior(k: Keys, scale: OpenSkillScale, prior: RaterPrior, z0: np.ndarray,
                  w0: np.ndarray | None = None, lam0: np.ndarray | None = None,
                  tol: float = 1e-9) -> Posterior:
    """Posterior mode by Fisher scoring from ``z0`` (and ``w0``, ``lam0``).

    Without ``w0`` the raters are first fitted to ``z0`` alone, where they are independent of
    each other: from "trusted" (``w = 1``) and from "unreliable" (``w = 0.3``), each rater
    keeping the better of the two (the spike-and-slab prior has a mode of each kind); the
    first joint step then already discounts raters who contradict the start."""
    n_r = k.n_raters
    z = np.array(z0, dtype=np.float64)
    half = np.full(n_r, 0.5)
    lam = half if lam0 is None else np.clip(np.nan_to_num(lam0, nan=0.5), _EPS, 1 - _EPS)
    steps = 0
    if w0 is None:
        _, w_hi, lam_hi, s1 = _climb(k, scale, prior, z, np.ones(n_r), lam, True, tol)
        _, w_lo, lam_lo, s2 = _climb(k, scale, prior, z, np.full(n_r, 0.3), lam, True, tol)
        f = win_probability(z[k.a] - z[k.b], scale.link)
        better = _rater_values(k, prior, f, w_hi, lam_hi) >= _rater_values(k, prior, f, w_lo, lam_lo)
        w, lam, steps = np.where(better, w_hi, w_lo), np.where(better, lam_hi, lam_lo), s1 + s2
    else:
        w = np.clip(np.nan_to_num(w0, nan=1.0), _EPS, 1.0)
    z, w, lam, iterations = _climb(k, scale, prior, z, w, lam, False, tol)
    _, _, h_zz, h_rr, cross = _information(k, scale, prior, z, w, lam)
    inv = _inverse_2x2(h_rr)
    return Posterior(z, w, lam, _schur(h_zz, cross, inv), cross, inv, steps + iterations)


def fit_crowd(k: Keys, scale: OpenSkillScale, strength: float, z0: np.ndarray) -> tuple[Posterior, RaterPrior]:
    """:func:`fit_posterior` with the prior share of trusted raters estimated too: the share
    of raters in the spike at the mode (a ``Beta(9, 1)`` hyperprior, prior mean 0.9, kept in
    ``[0.5, 0.99]``), refitted until it moves less than 0.01 (at most 3 refits). An honest
    crowd so keeps its raters trusted (share ~0.99), and a crowd with many bad raters lets
    them go more easily."""
    prior = RaterPrior(strength, TRUSTED_SHARE)
    post = fit_posterior(k, scale, prior, z0)
    used = np.bincount(k.rater, k.left + k.right, k.n_raters) > 0
    for _ in range(3):
        spike = _reliability_prior(post.w[used], prior)[3]
        share = float(np.clip((spike.sum() + 8.0) / (used.sum() + 8.0), 0.5, 0.99))
        if abs(share - prior.trusted) < 0.01:
            break
        prior = RaterPrior(strength, share)
        post = fit_posterior(k, scale, prior, post.z)  # each rater picks its mode again
    return post, prior


def robust_covariance(k: Keys, scale: OpenSkillScale, post: Posterior) -> np.ndarray:
    """Cluster-robust covariance of ``z``: the ``z`` rows of ``J^-1 M J^-1`` over all
    parameters, ``M`` summing the outer products of each resampling unit's score vector (a
    cluster, or each single vote of a key with ``cluster`` -1)."""
    score, _, pd_, pw, pl = _terms(k, scale, post.z, post.w, post.lam)
    # Each key's score in the raters' parameters enters z-space as - C_r J_r^-1 g_r.
    push = np.einsum("rmi,rij->rmj", post.cross, post.rater_inv)
    pushed = -(push[k.rater, :, 0] * (score * pw)[:, None] + push[k.rater, :, 1] * (score * pl)[:, None])
    rows = np.arange(len(score))
    pushed[rows, k.a] += score * pd_
    pushed[rows, k.b] -= score * pd_
    single = k.cluster < 0
    meat = (pushed[single].T / (k.left + k.right)[single]) @ pushed[single]
    if (~single).any():
        c = k.cluster[~single]
        members = sparse.csr_matrix((np.ones(len(c)), (c, np.arange(len(c)))), shape=(int(c.max()) + 1, len(c)))
        g = np.asarray(members @ pushed[~single])
        meat += g.T @ g
    chol = linalg.cho_factor(post.schur)
    return linalg.cho_solve(chol, linalg.cho_solve(chol, meat).T)
