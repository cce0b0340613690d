"""Test-side references for the ranking simulations (independent of ``ranking``)."""

from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy.special import expit


def bradley_terry_projection(expected: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Centred log-odds strengths ``phi`` whose Bradley-Terry expected scores match
    ``expected[i, j]`` (score of ``i`` against ``j``, every pair equally often) in each row
    sum: what a full-data fit tends to with endless votes. The diagonal is ignored."""
    expected = expected.copy()
    np.fill_diagonal(expected, 0.0)

    def equations(phi: np.ndarray) -> np.ndarray:
        model = expit(phi[:, None] - phi[None, :])
        np.fill_diagonal(model, 0.0)
        residual = (expected - model).sum(axis=1)
        residual[0] += phi.sum()
        return residual

    phi = optimize.root(equations, start, tol=1e-12).x
    return phi - phi.mean()
