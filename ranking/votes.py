"""Votes: one human judgement between two models, and the columnar form big boards use.

:class:`Vote` is the row-at-a-time form other layers build; :class:`VoteArrays` is what
every computation in :mod:`ranking` works on. Every public entry point accepts either and
converts with :func:`as_vote_arrays`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields

import numpy as np

from ranking.errors import RankingError, RankingWarning

__all__ = ["OUTCOMES", "Vote", "VoteArrays", "as_vote_arrays", "prompt_mask"]

#: Accepted values of :attr:`Vote.outcome` and the score of ``model_a`` each stands for.
OUTCOMES: dict[str, float] = {"a": 1.0, "b": 0.0, "tie": 0.5}


@dataclass(frozen=True)
class Vote:
    """One human judgement between two models' media for the same prompt.

    ``outcome`` is ``"a"`` (``model_a`` chosen), ``"b"`` (``model_b`` chosen) or ``"tie"``.
    ``excluded`` marks a rater excluded by quality control: the vote is kept but left out
    of standings. ``anonymous`` says the rater did not see which model made which medium
    (only :func:`ranking.arena_elo` with ``anonymous_only=True`` looks at it).
    A vote between a model and itself (found in imported data) can be made, but every
    computation drops it with a :class:`~ranking.RankingWarning` when the votes are loaded.
    """

    model_a: str
    model_b: str
    outcome: str
    prompt: str = ""
    rater: str = ""
    time: float = 0.0
    excluded: bool = False
    anonymous: bool = True

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise RankingError(
                f"Vote outcome {self.outcome!r} is not one of {sorted(OUTCOMES)}; "
                "use 'a' when model_a was chosen, 'b' for model_b, 'tie' otherwise."
            )
        if not self.model_a or not self.model_b:
            raise RankingError(
                f"Vote between {self.model_a!r} and {self.model_b!r} has an empty model name."
            )


def _array(values: object, dtype: type, name: str, length: int | None) -> np.ndarray:
    arr = np.asarray(values, dtype=dtype)
    if arr.ndim != 1:
        raise RankingError(f"VoteArrays.{name} must be one-dimensional, got shape {arr.shape}.")
    if length is not None and len(arr) != length:
        raise RankingError(
            f"VoteArrays.{name} has {len(arr)} rows but VoteArrays.a has {length}; "
            "every column needs one entry per vote."
        )
    return arr


def _check_index(arr: np.ndarray, size: int, name: str, names: str) -> None:
    if len(arr) and (int(arr.min()) < 0 or int(arr.max()) >= size):
        bad = int(arr.min()) if int(arr.min()) < 0 else int(arr.max())
        raise RankingError(
            f"VoteArrays.{name} holds index {bad}, outside the {size} entries of "
            f"VoteArrays.{names}; add the missing name to {names}."
        )


@dataclass(frozen=True, eq=False)
class VoteArrays:
    """Votes of one board as columns (what the store hands over for big boards).

    ``models`` lists every model of the board, including ones with no votes yet; ``a`` and
    ``b`` index into it. ``score_a`` is 1.0 when ``model_a`` was chosen, 0.0 for
    ``model_b`` and 0.5 for a tie. ``prompt`` and ``rater`` index into ``prompts`` and
    ``raters``; an empty prompt name means "unknown prompt" and such votes are treated as
    independent of each other. ``anonymous`` is optional (``None`` means all anonymous).
    Arrays are converted to the documented dtypes on construction. Rows with ``a == b`` (a
    model against itself) are kept, counted by :attr:`self_votes`, reported with a
    :class:`~ranking.RankingWarning` and left out of every computation.
    """

    models: tuple[str, ...]
    prompts: tuple[str, ...]
    raters: tuple[str, ...]
    a: np.ndarray
    b: np.ndarray
    score_a: np.ndarray
    prompt: np.ndarray
    rater: np.ndarray
    time: np.ndarray
    excluded: np.ndarray
    anonymous: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        for name in ("models", "prompts", "raters"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if len(set(self.models)) != len(self.models):
            raise RankingError("VoteArrays.models lists a model twice; names must be unique.")
        a = _array(self.a, np.int32, "a", None)
        n = len(a)
        columns = {
            "a": a,
            "b": _array(self.b, np.int32, "b", n),
            "score_a": _array(self.score_a, np.float64, "score_a", n),
            "prompt": _array(self.prompt, np.int32, "prompt", n),
            "rater": _array(self.rater, np.int32, "rater", n),
            "time": _array(self.time, np.float64, "time", n),
            "excluded": _array(self.excluded, np.bool_, "excluded", n),
        }
        if self.anonymous is not None:
            columns["anonymous"] = _array(self.anonymous, np.bool_, "anonymous", n)
        for name, value in columns.items():
            object.__setattr__(self, name, value)
        _check_index(columns["a"], len(self.models), "a", "models")
        _check_index(columns["b"], len(self.models), "b", "models")
        _check_index(columns["prompt"], max(len(self.prompts), 1), "prompt", "prompts")
        _check_index(columns["rater"], max(len(self.raters), 1), "rater", "raters")
        same = np.flatnonzero(columns["a"] == columns["b"])
        if len(same):
            warnings.warn(
                f"{len(same)} vote(s) compare a model with itself (first: row {int(same[0])}, "
                f"model {self.models[columns['a'][same[0]]]!r}); they are left out of the "
                "standings, since such a vote cannot move any rating.",
                RankingWarning,
                stacklevel=3,
            )
        s = columns["score_a"]
        if n and not bool(np.all((s == 0.0) | (s == 0.5) | (s == 1.0))):
            raise RankingError(
                "VoteArrays.score_a must be 1.0 (a chosen), 0.0 (b chosen) or 0.5 (tie)."
            )

    def __len__(self) -> int:
        """Number of votes (rows), excluded ones included."""
        return len(self.a)

    @property
    def used(self) -> np.ndarray:
        """Boolean mask of the rows computations use: not excluded, two different models."""
        return ~self.excluded & (self.a != self.b)

    @property
    def self_votes(self) -> int:
        """Number of rows comparing a model with itself (left out of every computation)."""
        return int(np.count_nonzero(self.a == self.b))

    @classmethod
    def from_votes(
        cls,
        votes: Iterable[Vote],
        models: Sequence[str] | None = None,
        prompts: Sequence[str] | None = None,
    ) -> VoteArrays:
        """Build the columnar form from :class:`Vote` objects.

        :param votes: the votes, in any order.
        :param models: all models of the board, in the order to index them; defaults to the
            models that appear in ``votes``, sorted by name. Pass it to keep models that have
            no votes yet.
        :param prompts: all prompts, likewise; defaults to the sorted prompts of ``votes``.
        :raises RankingError: when a vote names a model or prompt missing from the lists.
        """
        votes = list(votes)
        if models is None:
            models = sorted({v.model_a for v in votes} | {v.model_b for v in votes})
        if prompts is None:
            prompts = sorted({v.prompt for v in votes})
        raters = sorted({v.rater for v in votes})
        model_index = {m: i for i, m in enumerate(models)}
        prompt_index = {p: i for i, p in enumerate(prompts)}
        rater_index = {r: i for i, r in enumerate(raters)}
        try:
            a = [model_index[v.model_a] for v in votes]
            b = [model_index[v.model_b] for v in votes]
        except KeyError as err:
            raise RankingError(
                f"A vote names model {err.args[0]!r}, which is not in the models passed to "
                "VoteArrays.from_votes; add it to models (or pass models=None)."
            ) from None
        try:
            prompt = [prompt_index[v.prompt] for v in votes]
        except KeyError as err:
            raise RankingError(
                f"A vote names prompt {err.args[0]!r}, which is not in the prompts passed to "
                "VoteArrays.from_votes; add it to prompts (or pass prompts=None)."
            ) from None
        return cls(
            models=tuple(models),
            prompts=tuple(prompts),
            raters=tuple(raters),
            a=np.array(a, dtype=np.int32),
            b=np.array(b, dtype=np.int32),
            score_a=np.array([OUTCOMES[v.outcome] for v in votes], dtype=np.float64),
            prompt=np.array(prompt, dtype=np.int32),
            rater=np.array([rater_index[v.rater] for v in votes], dtype=np.int32),
            time=np.array([v.time for v in votes], dtype=np.float64),
            excluded=np.array([v.excluded for v in votes], dtype=np.bool_),
            anonymous=np.array([v.anonymous for v in votes], dtype=np.bool_),
        )

    def subset(self, mask: np.ndarray) -> VoteArrays:
        """The same models, prompts and raters with only the rows selected by ``mask``.

        :param mask: a boolean array with one entry per vote, or an array of row indices.
        """
        mask = np.asarray(mask)
        if mask.dtype == np.bool_ and mask.shape != (len(self),):
            raise RankingError(
                f"subset mask has shape {mask.shape}; it needs one boolean per vote ({len(self)})."
            )
        # Rows of validated arrays need no new checks (and self-votes were reported once).
        out = object.__new__(VoteArrays)
        columns = dict(
            models=self.models,
            prompts=self.prompts,
            raters=self.raters,
            a=self.a[mask],
            b=self.b[mask],
            score_a=self.score_a[mask],
            prompt=self.prompt[mask],
            rater=self.rater[mask],
            time=self.time[mask],
            excluded=self.excluded[mask],
            anonymous=None if self.anonymous is None else self.anonymous[mask],
        )
        for f in fields(VoteArrays):
            object.__setattr__(out, f.name, columns[f.name])
        return out

    def to_votes(self) -> list[Vote]:
        """The rows as :class:`Vote` objects (slow for big boards; meant for small ones)."""
        outcome = {1.0: "a", 0.0: "b", 0.5: "tie"}
        anonymous = self.anonymous if self.anonymous is not None else np.ones(len(self), bool)
        return [
            Vote(
                model_a=self.models[self.a[k]],
                model_b=self.models[self.b[k]],
                outcome=outcome[float(self.score_a[k])],
                prompt=self.prompts[self.prompt[k]] if self.prompts else "",
                rater=self.raters[self.rater[k]] if self.raters else "",
                time=float(self.time[k]),
                excluded=bool(self.excluded[k]),
                anonymous=bool(anonymous[k]),
            )
            for k in range(len(self))
        ]


def as_vote_arrays(votes: VoteArrays | Iterable[Vote]) -> VoteArrays:
    """Return ``votes`` as :class:`VoteArrays`, converting an iterable of :class:`Vote`."""
    if isinstance(votes, VoteArrays):
        return votes
    if isinstance(votes, (str, bytes)):
        raise RankingError("Expected VoteArrays or an iterable of Vote, got a string.")
    votes = list(votes)
    for v in votes:
        if not isinstance(v, Vote):
            raise RankingError(
                f"Expected VoteArrays or an iterable of Vote, found {type(v).__name__}."
            )
    return VoteArrays.from_votes(votes)


def prompt_mask(votes: VoteArrays | Iterable[Vote], prompt_names: Iterable[str]) -> np.ndarray:
    """Boolean mask of the votes whose prompt is one of ``prompt_names``.

    Use it to rank a slice (a tag is a set of prompts)::

        standings = compute_standings(arrays.subset(prompt_mask(arrays, ["a cat"])))

    Names that are not prompts of the board select nothing.
    """
    va = as_vote_arrays(votes)
    wanted = set(prompt_names)
    keep = np.array([p in wanted for p in va.prompts], dtype=np.bool_)
    if len(keep) == 0:
        return np.zeros(len(va), dtype=np.bool_)
    return keep[va.prompt]
