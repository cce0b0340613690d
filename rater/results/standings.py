"""From stored votes to standings: the bridge between the store and the pure ``ranking`` package.

Votes are stored as *left/right/tie* on a served matchup; here they become
:class:`ranking.VoteArrays` (model a = left, model b = right) with the board's full model and
prompt lists, so models without votes still appear, ranked last.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

import ranking
from ranking import VoteArrays

from rater.errors import ValidationError
from rater.store import Store, catalog, votes
from rater.store.schema import DEFAULT_MIN_VOTES

__all__ = [
    "DEFAULT_MIN_VOTES", "BoardInfo", "board_votes", "get_standings", "get_win_loss_matrix", "load_votes",
    "mark_preliminary", "tag_mask",
]

_SCORE = {"left": 1.0, "right": 0.0, "tie": 0.5}


class BoardInfo(Protocol):
    """What standings read of a board besides its votes (a :class:`rater.Leaderboard` has it)."""

    @property
    def id(self) -> str: ...
    @property
    def prompts(self) -> list[str]: ...
    @property
    def tags(self) -> list[list[str]]: ...
    @property
    def inverse_ranking(self) -> bool: ...
    @property
    def min_votes(self) -> int: ...


def load_votes(store: Store, leaderboard_id: str) -> VoteArrays:
    """Every vote on the board, excluded ones flagged, as columnar arrays."""
    return _load(store, leaderboard_id)[0]


def _load(store: Store, leaderboard_id: str) -> tuple[VoteArrays, np.ndarray]:
    """The board's votes and, per vote, a key of the (unordered) media pair it judged."""
    conn = store.conn
    models = catalog.list_models(conn, leaderboard_id)
    prompts = catalog.list_prompts(conn, leaderboard_id)
    model_index = {m["id"]: i for i, m in enumerate(models)}
    prompt_index = {p["id"]: i for i, p in enumerate(prompts)}
    rows = votes.vote_columns(conn, leaderboard_id)
    rater_names = sorted({r[5] for r in rows})
    rater_index = {name: i for i, name in enumerate(rater_names)}
    n = len(rows)
    arrays = VoteArrays(
        models=tuple(m["name"] for m in models),
        prompts=tuple(p["text"] for p in prompts),
        raters=tuple(rater_names),
        a=np.fromiter((model_index[r[1]] for r in rows), dtype=np.int32, count=n),
        b=np.fromiter((model_index[r[2]] for r in rows), dtype=np.int32, count=n),
        score_a=np.fromiter((_SCORE[r[3]] for r in rows), dtype=np.float64, count=n),
        prompt=np.fromiter((prompt_index[r[4]] for r in rows), dtype=np.int32, count=n),
        rater=np.fromiter((rater_index[r[5]] for r in rows), dtype=np.int32, count=n),
        time=np.fromiter((r[6] for r in rows), dtype=np.float64, count=n),
        excluded=np.fromiter((bool(r[7]) for r in rows), dtype=bool, count=n),
    )
    pairs = np.fromiter(((min(r[8], r[9]) << 32) | max(r[8], r[9]) for r in rows), dtype=np.int64, count=n)
    return arrays, pairs


def board_votes(store: Store, board: BoardInfo, tags: Sequence[str] | str | None = None,
                raters: Collection[str] | None = None) -> VoteArrays:
    """The votes the board's standings count: on prompts carrying ``tags`` (all without), by
    ``raters`` (everyone without: e.g. the members of one audience), and with
    ``vote_aggregation`` "majority" one row per media pair judged by at least
    ``min_responses_per_matchup`` raters (:func:`ranking.majority_votes`)."""
    if tags is not None and not isinstance(tags, str) and (
        not isinstance(tags, (list, tuple, set, frozenset)) or not all(isinstance(t, str) for t in tags)
    ):
        raise ValidationError(f"tags must be a tag or a list of tags, got {tags!r}")
    arrays, pairs = _load(store, board.id)
    if tags:
        keep = tag_mask(board, arrays, [tags] if isinstance(tags, str) else list(tags))
        arrays, pairs = arrays.subset(keep), pairs[keep]
    if raters is not None:
        keep = np.isin(arrays.rater, [i for i, name in enumerate(arrays.raters) if name in set(raters)])
        arrays, pairs = arrays.subset(keep), pairs[keep]
    if getattr(board, "vote_aggregation", "all") == "majority":  # a str enum compares as its value
        arrays = ranking.majority_votes(arrays, pairs, int(getattr(board, "min_responses_per_matchup", 1)))
    return arrays


def tag_mask(board: BoardInfo, arrays: VoteArrays, tags: Sequence[str]) -> np.ndarray:
    """Rows whose prompt carries any of ``tags``.

    :raises ValidationError: a tag is not used by any prompt of the board.
    """
    known = {t for group in board.tags for t in group}
    unknown = [t for t in tags if t not in known]
    if unknown:
        raise ValidationError(
            f"tag {unknown[0]!r} is not used on leaderboard {board.id}; "
            f"known tags: {', '.join(sorted(known)) or 'none'}"
        )
    wanted = set(tags)
    prompts = [p for p, group in zip(board.prompts, board.tags) if wanted & set(group)]
    return ranking.prompt_mask(arrays, prompts)


def get_standings(
    store: Store, board: BoardInfo, tags: Sequence[str] | str | None = None,
    raters: Collection[str] | None = None, *, weighted: bool = False, **options: Any,
) -> pd.DataFrame:
    """Standings for the board (or the prompts carrying ``tags``), best first.

    Columns include ``name, wins, losses, ties, total_matches, win_rate, score, mu, sigma,
    ci_low, ci_high, rank, rank_low, rank_high, tied_group, preliminary`` (see
    :func:`mark_preliminary`: preliminary models come after the established ones);
    ``df.attrs["excluded_votes"]`` counts votes left out by quality control. ``options`` go to
    :func:`ranking.compute_standings` (``method``, ``n_bootstrap``, ``seed``, ...);
    ``raters`` counts only their votes (see :func:`board_votes`). With
    ``weighted`` each rater's votes count by a reliability estimated with the strengths
    (:func:`ranking.compute_weighted_standings`, which reads model a as the left side, as
    stored; ``df.attrs["rater_reliability"]`` per rater; its interval defaults to the sandwich).
    """
    if not isinstance(weighted, bool):
        raise ValidationError(f"weighted must be True or False, got {weighted!r}")
    arrays = board_votes(store, board, tags, raters)
    compute = ranking.compute_weighted_standings if weighted else ranking.compute_standings
    try:
        frame = compute(arrays, inverse=board.inverse_ranking, **options)
    except ranking.RankingError as exc:  # a bad option: method, confidence, n_bootstrap, ...
        raise ValidationError(str(exc)) from exc
    return mark_preliminary(frame, board.min_votes)


def mark_preliminary(frame: pd.DataFrame, min_votes: int = DEFAULT_MIN_VOTES) -> pd.DataFrame:
    """Add the ``preliminary`` column and publish established models first.

    A model is preliminary when its evidence is thin: fewer than ``min_votes`` votes, or (on
    boards of 6 models or more) a rank range ``rank_low..rank_high`` wider than half the board.
    On smaller boards close models with many votes span most of the board too: they are tied
    (see ``tied_group``), not unknown, so there only the vote count decides.
    Rows keep their order within each part; ``rank`` becomes the place in this published order
    (so a preliminary model is never rank 1 above an established one), while ``rank_low`` and
    ``rank_high`` stay the plausible ranks among all models. ``df.attrs["min_votes"]`` records
    the threshold. A new frame; ``frame`` is left as it was.
    """
    n = len(frame)
    span = frame["rank_high"].to_numpy() - frame["rank_low"].to_numpy() + 1
    thin = frame["total_matches"].to_numpy() < min_votes
    if n >= 6:
        thin |= span > n / 2
    order = np.r_[np.flatnonzero(~thin), np.flatnonzero(thin)]
    out = frame.iloc[order].reset_index(drop=True)
    out["rank"] = np.arange(1, n + 1, dtype=np.int64)
    out["preliminary"] = thin[order]
    out.attrs = {**frame.attrs, "min_votes": int(min_votes)}
    return out


def get_win_loss_matrix(store: Store, leaderboard_id: str, inverse_ranking: bool) -> pd.DataFrame:
    """Observed win rate of each row model against each column model (ties count half)."""
    arrays = load_votes(store, leaderboard_id)
    if inverse_ranking:
        arrays = _flip(arrays)
    return ranking.win_rate_matrix(arrays)


def _flip(arrays: VoteArrays) -> VoteArrays:
    """On "which is worse?" boards the chosen model lost: make ``score_a`` mean "a is better"."""
    from dataclasses import replace

    return replace(arrays, score_a=1.0 - arrays.score_a)
