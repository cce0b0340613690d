"""Serving pairs to raters and recording their votes.

:func:`next_matchup` picks the next pair of media for a rater (see
:mod:`rater.matchmaking.pick` for the strategies and :mod:`rater.matchmaking.select` for the
stopping rule), stores it as served and returns it (the rater's judgement is stored by
:func:`rater.matchmaking.voting.record_vote`); :func:`board_status` says whether the board is settled and which models are still
being placed.

Gold pairs (known-answer pairs, :mod:`rater.matchmaking.gold`) are served first to raters who
must qualify, then as a share ``gold_share`` of the pairs; their votes judge the rater and count
nowhere else. Quality-control repeats: a share ``board.repeat_share`` of the pairs served repeats a pair the
same rater already voted on, sides swapped, stored with ``repeat_of`` set to the original
matchup. Their votes are kept for rater-agreement statistics but are not new information, so
neither the matchmaker nor the standings count them.

The functions take the store and the board's settings (not the API's Leaderboard, which sits
above this package). They are safe to call from several threads: each thread uses its own connection
(``store.conn``), and the in-memory state of a board is guarded by its own lock.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from rater.errors import ValidationError
from rater.matchmaking import gold
from rater.matchmaking.pick import Plan, pick_information, pick_uniform
from rater.matchmaking.select import MIN_PLACED_VOTES, Analysis, analyse
from rater.matchmaking.state import BoardState, MediaItem, RaterView, state_for
from rater.store import matchups as matchup_sql
from rater.store import votes
from rater.intake.validation import check_name

if TYPE_CHECKING:
    from rater.store import Store

__all__ = [
    "CHOICES",
    "STRATEGIES",
    "BoardStatus",
    "MatchSettings",
    "Matchup",
    "MatchupSide",
    "ModelStatus",
    "VoteReceipt",
    "board_status",
    "next_matchup",
]

STRATEGIES = ("information", "uniform")
CHOICES = ("left", "right", "tie")
_RECENT_NOT_REPEATED = 2  # the rater's latest pairs are not repeated straight away
#: On big boards, how many pairs that look separated each status call checks exactly (a few
#: ms each at 10,000 models); next_matchup uses the checks made so far.
_STATUS_CHECKS = 8


class MatchSettings(Protocol):
    """What matchmaking reads of a board (a :class:`rater.Leaderboard` has all of it)."""

    @property
    def id(self) -> str: ...
    @property
    def strategy(self) -> str: ...
    @property
    def repeat_share(self) -> float: ...
    @property
    def max_pair_votes(self) -> int: ...


@dataclass(frozen=True)
class MatchupSide:
    """One side of a matchup: the medium to show, and (never shown to raters) its model."""

    path: Path
    kind: str
    model: str
    media_id: int
    sha256: str


@dataclass(frozen=True)
class Matchup:
    """A pair of media for one prompt, served to one rater."""

    id: str
    leaderboard_id: str
    prompt: str
    prompt_asset: Path | None
    left: MatchupSide
    right: MatchupSide
    rater: str
    is_repeat: bool
    is_gold: bool = False  # never shown to raters: a gold pair looks like any other


@dataclass(frozen=True)
class VoteReceipt:
    """What :func:`record_vote` did. ``choice`` is the vote that stands: when the matchup had
    already been voted on (a double click, a replay), ``counted`` is False and ``choice`` is the
    first vote's."""

    matchup_id: str
    choice: str
    counted: bool


@dataclass(frozen=True)
class ModelStatus:
    """One model's progress: ``"placing"`` until it has enough votes and both its neighbours
    in the order are separated from it (or have had ``max_pair_votes`` votes with it)."""

    name: str
    status: str
    votes: int
    rank: int | None  # 1 = best in the matchmaker's current order; None if it cannot be matched


@dataclass(frozen=True)
class BoardStatus:
    """Whether the board needs more votes.

    ``votes`` counts the votes the ranking uses (quality-control repeats and excluded raters
    left out); ``pairs_resolved`` of ``pairs_total`` neighbouring pairs in the current order are
    separated or at ``max_pair_votes``; ``message`` is one line for the rater app.
    """

    settled: bool
    votes: int
    models: list[ModelStatus]
    message: str
    pairs_resolved: int
    pairs_total: int


def _check_strategy(board: MatchSettings, strategy: str | None) -> str:
    chosen = board.strategy if strategy is None else strategy
    if chosen not in STRATEGIES:
        raise ValidationError(
            f"strategy must be one of {', '.join(STRATEGIES)} (or None for the board's default "
            f"{board.strategy!r}), got {strategy!r}"
        )
    return chosen


def next_matchup(
    store: Store,
    board: MatchSettings,
    rater_id: str,
    strategy: str | None = None,
    *,
    continue_when_settled: bool = False,
) -> Matchup | None:
    """The next pair for this rater, stored as served; None when nothing is left to show.

    Both media come from the same registered prompt and from two different models; the sides
    are random. None is returned when the board is settled (unless ``continue_when_settled``),
    when the rater has already been shown every pair of media, or when no two models have media
    for a common prompt.

    :param rater_id: who will judge it; only this rater may vote on the matchup.
    :param strategy: ``"information"`` or ``"uniform"``; None uses the board's default.
    :param continue_when_settled: keep serving pairs after the board has settled.
    :raises ValidationError: bad ``rater_id`` or ``strategy``.
    """
    rater = check_name(rater_id, "rater_id")
    chosen = _check_strategy(board, strategy)
    for _ in range(_PICKS):
        served = _serve(store, board, rater, chosen, continue_when_settled)
        if served is not _TAKEN:
            return served
    return None  # other hosts took every pair picked for this rater just now: as if none were left


#: Picks tried when another process serves the picked pair to the same rater meanwhile.
_PICKS = 8
_TAKEN = object()


def _serve(store: Store, board: MatchSettings, rater: str, chosen: str, continue_when_settled: bool) -> Any:
    """Pick and store one matchup; :data:`_TAKEN` when another process (another host on
    PostgreSQL, another app process on SQLite) served the same pair to this rater between the
    pick and the write: the check is repeated inside the write transaction, which every writer
    takes in turn, so a pair is never stored twice for a rater."""
    conn = store.conn
    state = state_for(store, board.id)
    with state.lock:
        state.refresh(conn)
        analysis = analyse(state, board.max_pair_votes)
        if analysis.settled and not continue_when_settled:
            return None
        history = state.rater_view(conn, rater)
        row = gold.gold_row(store, board.id, rater, state.rng)
        if row is None and board.repeat_share > 0 and state.rng.random() < board.repeat_share:
            row = _repeat_row(state, conn, board.id, rater)
        if row is None:
            plan = _plan(state, history, analysis, chosen, board.max_pair_votes)
            if plan is None:
                return None
            row = _plan_row(state, plan, board.id, rater)
        inflight = (rater, min(row["left_media"], row["right_media"]),
                    max(row["left_media"], row["right_media"]))
        state.inflight.add(inflight)
        if "gold_pair" in row:
            shown = _gold_shown(state, row)
        else:
            a, b = state.model_index[row["left_model"]], state.model_index[row["right_model"]]
            if row["repeat_of"] is None:
                state.pending[row["id"]] = (a, b, row["served_at"])
            shown = _shown(state, row, a, b)
    try:
        # Not synced on its own: a served matchup lost in a power cut is harmless, and the vote
        # on it (a durable commit, syncing the same log) makes it durable before it is counted.
        with store.write(durable=False) as wconn:
            if matchup_sql.served_meanwhile(wconn, row):
                with state.lock:
                    state.pending.pop(row["id"], None)
                return _TAKEN
            votes.insert_matchup(wconn, row)
            if row.get("qualifying"):
                gold.mark_qualifying(wconn, board.id, rater)
    except BaseException:
        with state.lock:
            state.pending.pop(row["id"], None)
        raise
    finally:
        with state.lock:
            state.inflight.discard(inflight)
    return _matchup(store, row, shown)


def _plan(
    state: BoardState, history: RaterView, analysis: Analysis, strategy: str, max_pair_votes: int
) -> Plan | None:
    if strategy == "uniform":
        return pick_uniform(state, history)
    pending = state.pending_counts(time.time()) if state.pending else {}
    return pick_information(state, history, analysis, max_pair_votes, pending)


def _plan_row(state: BoardState, plan: Plan, leaderboard_id: str, rater: str) -> dict[str, Any]:
    left, right = (plan.a, plan.media_a), (plan.b, plan.media_b)
    if state.rng.random() < 0.5:
        left, right = right, left
    return {
        "id": uuid.uuid4().hex, "leaderboard_id": leaderboard_id,
        "prompt_id": state.prompt_ids[plan.q],
        "left_media": left[1].id, "left_model": state.model_ids[left[0]],
        "right_media": right[1].id, "right_model": state.model_ids[right[0]],
        "rater": rater, "served_at": time.time(), "repeat_of": None,
    }


def _repeat_row(state: BoardState, conn: Any, leaderboard_id: str, rater: str) -> dict[str, Any] | None:
    """A repeat of a pair this rater voted on (not one of their latest), sides swapped."""
    candidates = matchup_sql.rater_repeat_candidates(conn, leaderboard_id, rater)
    candidates = [  # leave out the latest pairs first, then those of models not matchable now
        c for c in candidates[: max(0, len(candidates) - _RECENT_NOT_REPEATED)]
        if c["left_model"] in state.model_index and c["right_model"] in state.model_index
    ]
    if not candidates:
        return None
    original = candidates[int(state.rng.integers(len(candidates)))]
    return {
        "id": uuid.uuid4().hex, "leaderboard_id": leaderboard_id,
        "prompt_id": original["prompt_id"],
        "left_media": original["right_media"], "left_model": original["right_model"],
        "right_media": original["left_media"], "right_model": original["left_model"],
        "rater": rater, "served_at": time.time(), "repeat_of": original["id"],
    }


def _media_item(state: BoardState, model: int, q: int, media_id: int) -> MediaItem:
    for item in state.media[(model, q)]:
        if item.id == media_id:
            return item
    raise KeyError(media_id)  # cannot happen: the state holds every medium of the board


@dataclass(frozen=True)
class _Shown:
    """What a matchup shows, read from the board's state under its lock; its files are found
    after (:func:`_matchup`: on PostgreSQL a host may first have to copy them out of the
    database, which must not hold up the board's other requests)."""

    prompt: str
    prompt_asset: tuple[str, str] | None  # (sha256, ext)
    sides: tuple[tuple[str, str, str, str, int], ...]  # (sha256, ext, kind, model, media id) x 2


def _shown(state: BoardState, row: dict[str, Any], a: int, b: int) -> _Shown:
    q = state.prompt_index[row["prompt_id"]]
    items = (_media_item(state, a, q, row["left_media"]), _media_item(state, b, q, row["right_media"]))
    return _Shown(state.prompt_texts[q], state.prompt_assets[q], tuple(
        (item.sha256, item.ext, item.kind, state.model_names[model], item.id)
        for model, item in zip((a, b), items)))


def _gold_shown(state: BoardState, row: dict[str, Any]) -> _Shown:
    """A gold pair, shown exactly like any other (its media are not in the state: their
    hidden participants are rated nowhere)."""
    q = state.prompt_index[row["prompt_id"]]
    return _Shown(state.prompt_texts[q], state.prompt_assets[q], tuple(
        (row[f"{key}_sha256"], row[f"{key}_ext"], row[f"{key}_kind"], "", row[f"{key}_media"])
        for key in ("left", "right")))


def _matchup(store: Store, row: dict[str, Any], shown: _Shown) -> Matchup:
    left, right = (MatchupSide(store.media_file(sha, ext), kind, model, media_id, sha)
                   for sha, ext, kind, model, media_id in shown.sides)
    return Matchup(
        id=row["id"], leaderboard_id=row["leaderboard_id"], prompt=shown.prompt,
        prompt_asset=store.media_file(*shown.prompt_asset) if shown.prompt_asset else None,
        left=left, right=right, rater=row["rater"], is_repeat=row["repeat_of"] is not None,
        is_gold="gold_pair" in row,
    )


def _model_statuses(state: BoardState, analysis: Analysis) -> list[ModelStatus]:
    """One :class:`ModelStatus` per model; only those that changed since the last call are
    made anew (a board of 10,000 models changes a few per vote)."""
    rank = np.zeros(len(state.model_names), dtype=np.int64)
    rank[analysis.order] = np.arange(1, len(analysis.order) + 1)
    games = state.model_games.astype(np.int64)
    keys = np.stack([analysis.placed, games, rank])
    last_keys, rows = state.status_rows
    if last_keys.shape == keys.shape:
        changed = np.flatnonzero((last_keys != keys).any(axis=0))
    else:
        changed, rows = np.arange(len(state.model_names)), [None] * len(state.model_names)
    rows = list(rows)
    for k, placed, votes_k, r in zip(changed.tolist(), analysis.placed[changed].tolist(),
                                     games[changed].tolist(), rank[changed].tolist()):
        rows[k] = ModelStatus(state.model_names[k], "placed" if placed else "placing", votes_k, r or None)
    state.status_rows = (keys, rows)
    return list(rows)


def board_status(store: Store, leaderboard_id: str, max_pair_votes: int) -> BoardStatus:
    """Whether the board is settled, and each model's placing / placed status."""
    state = state_for(store, leaderboard_id)
    with state.lock:
        state.refresh(store.conn)
        analysis = analyse(state, max_pair_votes, _STATUS_CHECKS)
        models = _model_statuses(state, analysis)
        counted = state.votes_counted
    resolved, total = int(analysis.resolved.sum()), len(analysis.resolved)
    if analysis.settled:
        message = "settled: thank you"
    elif len(analysis.order) < 2:
        message = "waiting for models: two models need media for the same prompt"
    else:
        placing = [m for m in models if m.status == "placing" and m.rank is not None]
        newest = placing[-1]
        if newest.votes < MIN_PLACED_VOTES or len(placing) == 1:
            message = f"placing {newest.name}: {newest.votes} votes so far"
        else:
            message = (
                f"ranking {len(analysis.order)} models: {resolved} of {total} neighbouring pairs "
                f"settled, {counted} votes so far"
            )
    return BoardStatus(analysis.settled, counted, models, message, resolved, total)

