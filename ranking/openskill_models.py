"""The three selectable OpenSkill models, their pairwise likelihood, and online replay.

What OpenSkill is used for here (see also :mod:`ranking.standings`):

* **The model family and its constants.** ``method`` picks an OpenSkill model class
  (``PlackettLuce``, ``BradleyTerryFull``, ``ThurstoneMostellerFull``) or is an object of
  one; that object supplies ``mu`` (prior mean, 25 by default), ``sigma`` (prior standard
  deviation, 25/3) and ``beta`` (performance noise, 25/6). Our full-data fit uses exactly the two-player
  likelihood that model's ``rate()`` update is a one-step approximation of, in the limit
  of known skills (``sigma -> 0``): ``P(i beats j) = F((mu_i - mu_j) / c)`` with
  ``c = sqrt(2) * beta``, ``F`` the logistic for PlackettLuce and BradleyTerryFull and the
  normal CDF for ThurstoneMostellerFull (its draw margin ``epsilon`` is not used: a tie
  counts half a win each way). The prior is OpenSkill's own ``N(mu, sigma^2)`` per model.
  With two entrants per match PlackettLuce and BradleyTerryFull share one likelihood, so
  their published standings coincide.
* **Online replay.** :func:`replay_openskill` runs the model's ``rate()`` over the votes
  one match at a time, as OpenSkill is normally used. It only ever issues two-player
  calls (a tie is ``ranks=[0, 0]``): openskill 6.2.0 mishandles ties among three or more
  entrants in one call. The replay depends on vote order; it is offered for comparison
  and is the speed baseline of ``benchmarks/ranking_speed.py``, not the published order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from openskill.models import BradleyTerryFull, PlackettLuce, ThurstoneMostellerFull

from ranking.errors import RankingError
from ranking.votes import Vote, VoteArrays, as_vote_arrays

__all__ = [
    "METHODS", "OpenSkillModel", "OpenSkillScale", "make_model", "method_name", "replay_openskill",
    "resolve_scale",
]

#: ``method`` names accepted by the ranking functions, and the OpenSkill class of each.
METHODS: dict[str, type] = {
    "plackett_luce": PlackettLuce,
    "bradley_terry_full": BradleyTerryFull,
    "thurstone_mosteller_full": ThurstoneMostellerFull,
}

#: A probit difference of 1 is about this many logits (the classic 1.702 matching).
PROBIT_TO_LOGIT = 1.702
#: Display score points per natural-log-odds unit: 400 points = 10:1 odds, as in Elo.
ELO_PER_LOGIT = 400.0 / math.log(10.0)
#: Display score of an average model.
SCORE_CENTRE = 1000.0


@dataclass(frozen=True)
class OpenSkillScale:
    """Constants of one OpenSkill model, and conversions between our three scales.

    * *link units* ``z``: what the fit works in (log-odds, or probit units for Thurstone);
    * OpenSkill's scale: ``mu = mu0 + c * z``, ``c = sqrt(2) * beta``;
    * display score: ``1000 + 400 * log10-odds``, i.e. ``1000 + (400 / ln 10) * k * z``
      with ``k = 1`` for logistic models and ``k = 1.702`` for Thurstone (approximate).
    """

    method: str
    link: str
    mu0: float
    sigma0: float
    beta: float

    @property
    def c(self) -> float:
        """OpenSkill's two-player spread ``sqrt(2) * beta`` (skill uncertainty -> 0)."""
        return math.sqrt(2.0) * self.beta

    @property
    def prior_precision(self) -> float:
        """Precision of OpenSkill's ``N(mu0, sigma0^2)`` prior, in link units."""
        return (self.c / self.sigma0) ** 2

    @property
    def score_per_unit(self) -> float:
        """Display score points per link unit."""
        return ELO_PER_LOGIT * (PROBIT_TO_LOGIT if self.link == "probit" else 1.0)

    def to_mu(self, z: np.ndarray) -> np.ndarray:
        """Link units to OpenSkill ``mu``."""
        return self.mu0 + self.c * np.asarray(z)

    def to_score(self, z: np.ndarray) -> np.ndarray:
        """Link units to the display score."""
        return SCORE_CENTRE + self.score_per_unit * np.asarray(z)


#: An OpenSkill model object of one of the :data:`METHODS` classes.
OpenSkillModel = PlackettLuce | BradleyTerryFull | ThurstoneMostellerFull


def make_model(method: str | OpenSkillModel) -> Any:
    """The OpenSkill model object for ``method``: a fresh one for a name in :data:`METHODS`,
    or ``method`` itself when it already is such a model (e.g. ``PlackettLuce(mu=1500)``)."""
    if isinstance(method, tuple(METHODS.values())):
        return method
    try:
        return METHODS[method]()
    except (KeyError, TypeError):
        raise RankingError(
            f"Unknown rating method {method!r}; choose one of {sorted(METHODS)} "
            "or pass an OpenSkill model object of one of those classes."
        ) from None


def method_name(method: str | OpenSkillModel) -> str:
    """The :data:`METHODS` name of ``method`` (a name or an OpenSkill model object)."""
    model = make_model(method)
    return next(name for name, cls in METHODS.items() if type(model) is cls)


def resolve_scale(method: str | OpenSkillModel) -> OpenSkillScale:
    """Read the prior and noise constants from the OpenSkill model of ``method``."""
    model = make_model(method)
    name = method_name(model)
    return OpenSkillScale(
        method=name,
        link="probit" if name == "thurstone_mosteller_full" else "logit",
        mu0=float(model.mu),
        sigma0=float(model.sigma),
        beta=float(model.beta),
    )


def replay_openskill(
    votes: VoteArrays | Iterable[Vote],
    *,
    method: str | OpenSkillModel = "plackett_luce",
    order: str = "time",
    inverse: bool = False,
) -> pd.DataFrame:
    """Classic online OpenSkill: call ``rate()`` once per vote, in order.

    Each vote is a two-player match; a tie is ``ranks=[0, 0]``. Excluded votes are left
    out. The result depends on the order of the votes (that is why published standings
    come from :func:`ranking.compute_standings` instead).

    :param method: a name from :data:`METHODS` or an OpenSkill model object.
    :param order: ``"time"`` replays by ``time`` (stable, so equal times keep their
        given order); ``"given"`` replays in the order of the input.
    :param inverse: the chosen model is the worse one (a "which is worse?" board).
    :return: one row per model that took part: ``name, mu, sigma, ordinal, matches``,
        sorted by ``mu`` (best first).
    """
    va = as_vote_arrays(votes)
    if order not in ("time", "given"):
        raise RankingError(f"Unknown replay order {order!r}; use 'time' or 'given'.")
    model = make_model(method)
    keep = np.flatnonzero(va.used)
    if order == "time":
        keep = keep[np.argsort(va.time[keep], kind="stable")]
    ratings: dict[int, Any] = {}
    matches: dict[int, int] = {}
    a_col, b_col = va.a[keep].tolist(), va.b[keep].tolist()
    score = va.score_a[keep]
    if inverse:
        score = 1.0 - score
    for i, j, s in zip(a_col, b_col, score.tolist(), strict=True):
        ri = ratings[i] if i in ratings else model.rating()
        rj = ratings[j] if j in ratings else model.rating()
        if s == 0.5:
            [[ri], [rj]] = model.rate([[ri], [rj]], ranks=[0, 0])
        elif s == 1.0:
            [[ri], [rj]] = model.rate([[ri], [rj]], ranks=[0, 1])
        else:
            [[ri], [rj]] = model.rate([[ri], [rj]], ranks=[1, 0])
        ratings[i], ratings[j] = ri, rj
        matches[i] = matches.get(i, 0) + 1
        matches[j] = matches.get(j, 0) + 1
    rows = [
        {
            "name": va.models[k],
            "mu": r.mu,
            "sigma": r.sigma,
            "ordinal": r.mu - 3.0 * r.sigma,
            "matches": matches[k],
        }
        for k, r in ratings.items()
    ]
    df = pd.DataFrame(rows, columns=["name", "mu", "sigma", "ordinal", "matches"])
    return df.sort_values(["mu", "name"], ascending=[False, True], ignore_index=True)
