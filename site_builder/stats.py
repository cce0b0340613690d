"""Counting for the evidence pages: per model and prompt, and per pair of models.

These are tallies, not estimates (estimates come from :mod:`ranking`): how often each model
was chosen on each prompt and against each opponent. Every function takes votes that are
already *oriented* (``score_a`` is 1 when model a was judged better, also on "which is
worse?" boards) and already stripped of votes excluded by quality control.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from ranking import VoteArrays

__all__ = ["Tally", "included_oriented", "pair_tally", "prompt_tally", "vote_log_hash"]


@dataclass(frozen=True)
class Tally:
    """Wins, losses and ties of the row entity, one array each of the same shape."""

    wins: np.ndarray
    losses: np.ndarray
    ties: np.ndarray

    @cached_property
    def votes(self) -> np.ndarray:
        return self.wins + self.losses + self.ties

    @cached_property
    def win_rate(self) -> np.ndarray:
        """Ties count half; NaN where there are no votes."""
        total = self.votes
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, (self.wins + 0.5 * self.ties) / np.maximum(total, 1), np.nan)


def included_oriented(votes: VoteArrays, inverse: bool) -> VoteArrays:
    """The votes that count (quality control's exclusions dropped), with ``score_a`` meaning
    "a was judged better" even when the board asks which is worse."""
    kept = votes.subset(~votes.excluded) if bool(votes.excluded.any()) else votes
    return replace(kept, score_a=1.0 - kept.score_a) if inverse else kept


def _tally(votes: VoteArrays, col_a: np.ndarray, col_b: np.ndarray, cols: int) -> Tally:
    """Wins, losses and ties of each model (rows) by column: model a's row is counted in
    column ``col_a`` and model b's in ``col_b`` of the same vote."""
    n = len(votes.models)
    size = n * cols
    ka = votes.a.astype(np.int64) * cols + col_a
    kb = votes.b.astype(np.int64) * cols + col_b
    s = votes.score_a
    a_won, b_won, tie = s == 1.0, s == 0.0, s == 0.5

    def count(first: np.ndarray, second: np.ndarray) -> np.ndarray:
        both = np.bincount(first, minlength=size)[:size] + np.bincount(second, minlength=size)[:size]
        return both.astype(np.int64).reshape(n, cols)

    return Tally(count(ka[a_won], kb[b_won]), count(ka[b_won], kb[a_won]), count(ka[tie], kb[tie]))


def prompt_tally(votes: VoteArrays) -> Tally:
    """Per model (rows) and prompt (columns)."""
    prompt = votes.prompt.astype(np.int64)
    return _tally(votes, prompt, prompt, max(len(votes.prompts), 1))


def pair_tally(votes: VoteArrays) -> Tally:
    """Per model (rows) against each opponent (columns)."""
    return _tally(votes, votes.b.astype(np.int64), votes.a.astype(np.int64), len(votes.models))


def vote_log_hash(votes: VoteArrays) -> str:
    """SHA-256 of the whole vote log as loaded, excluded votes and their flags included.

    Hashed, in order: the JSON list ``[models, prompts, raters]``, then the bytes of the
    columns ``a, b`` (int32), ``score_a`` (float64), ``prompt, rater`` (int32), ``time``
    (float64) and ``excluded`` (bool), little-endian, in vote-id order. Two sites carrying the
    same hash were built from exactly the same votes.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps([votes.models, votes.prompts, votes.raters],
                             ensure_ascii=False).encode("utf-8"))
    for column, dtype in (("a", "<i4"), ("b", "<i4"), ("score_a", "<f8"), ("prompt", "<i4"),
                          ("rater", "<i4"), ("time", "<f8"), ("excluded", "?")):
        digest.update(np.ascontiguousarray(getattr(votes, column), dtype=dtype).tobytes())
    return digest.hexdigest()
