"""Everything a board's pages show, read through :mod:`rater.results.reader` and ranked by ranking.

The site builder never speaks SQL: it reads boards with :class:`rater.Client`, votes with
:func:`rater.results.reader.load_votes`, media and summaries through :mod:`rater.results.reader`, and
turns votes into standings with :mod:`ranking`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from warnings import catch_warnings, simplefilter

import numpy as np
import pandas as pd

import ranking
from ranking import HistoryWarning
from ranking.history import datable
from rater import Client, Leaderboard, ModelCard
from rater.results import reader
from rater.results.reader import load_votes, mark_preliminary, tag_mask

from .media import MediaItem
from .stats import Tally, included_oriented, pair_tally, prompt_tally, vote_log_hash

__all__ = ["BoardData", "Settings", "board_definition", "database_marker", "load_board",
           "media_item", "read_votes", "summarize"]


@dataclass(frozen=True)
class Settings:
    """How standings are computed and how much the pages show.

    :param method: OpenSkill model fitted by :func:`ranking.compute_standings`.
    :param confidence: level of the score intervals and rank ranges.
    :param n_bootstrap: bootstrap replicates for the intervals (0: fast sandwich intervals).
    :param tag_bootstrap: the same for per-tag standings (one fit per tag, so kept cheaper).
    :param seed: bootstrap seed; the same votes always give the same pages.
    :param heatmap_models: heatmaps on a board's page show this many best models; the full
        matrices get their own page when a board has more.
    :param history_models: rank-history charts follow this many best models.
    """

    method: str = "plackett_luce"
    confidence: float = 0.95
    n_bootstrap: int = 200
    tag_bootstrap: int = 0
    seed: int = 0
    heatmap_models: int = 20
    history_models: int = 10

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def standings_options(self) -> dict[str, Any]:
        return {"method": self.method, "confidence": self.confidence,
                "n_bootstrap": self.n_bootstrap, "seed": self.seed}


@dataclass
class BoardData:
    """One board, computed: what its pages and downloads are made from."""

    board: Leaderboard
    summary: dict[str, Any]
    status: Any  # rater.matchmaking.service.BoardStatus
    raw: ranking.VoteArrays  # every vote as stored (excluded ones flagged, choices as clicked)
    used: ranking.VoteArrays  # counted votes, oriented so score_a = 1 means "a was better"
    vote_hash: str
    standings: pd.DataFrame
    win_rate: pd.DataFrame
    counts: pd.DataFrame
    predicted: pd.DataFrame
    by_prompt: Tally
    by_pair: Tally
    media: list[dict[str, Any]]  # rater.reader.media_rows, with a MediaItem under "item"
    prompt_rows: list[dict[str, Any]]  # rater.reader.prompt_rows, with "asset" MediaItem|None
    tag_standings: dict[str, pd.DataFrame] = field(default_factory=dict)
    views: dict[str, pd.DataFrame] = field(default_factory=dict)  # label -> standings counted another way
    history: pd.DataFrame | None = None
    #: Each model's card (organisation, link, licence, release date, description), by name.
    cards: dict[str, ModelCard] = field(default_factory=dict)
    #: Problems worth telling the owner that did not stop the board (one line each).
    warnings: list[str] = field(default_factory=list)

    @property
    def model_status(self) -> dict[str, str]:
        """``placing`` or ``placed`` per model name."""
        return {m.name: m.status for m in self.status.models}

    @property
    def tags(self) -> list[str]:
        """Every tag used by a prompt, in first-use order."""
        return list(dict.fromkeys(t for group in self.board.tags for t in group))


def board_definition(board: Leaderboard) -> list[Any]:
    """What a board's pages depend on besides its votes: its definition and its models with
    their media counts (cheap to read; compared between builds)."""
    return [board.id, board.name, board.instruction, board.prompts, board.tags,
            board.show_prompt, board.show_prompt_asset, board.inverse_ranking,
            board.publish_prompts,
            board.min_votes,
            *([str(board.vote_aggregation), board.min_responses_per_matchup]
              if board.vote_aggregation == "majority" else []),
            *(["weighted"] if board.weighted_scoring else []),
            [str(p) if p else None for p in board.prompt_assets],
            [(m.name, m.media_count) for m in board.models()],
            [card.as_dict() for card in board.model_cards().values()]]


def database_marker(client: Client) -> list[Any]:
    """A cheap probe of the whole database's vote log (see :func:`rater.reader.change_marker`)."""
    return list(reader.change_marker(client.store))


def summarize(raw: ranking.VoteArrays) -> dict[str, Any]:
    """Votes, excluded votes, raters and the last vote time, from the loaded votes (times
    that no calendar can show, such as year 3000, are not taken as the last vote)."""
    dated = raw.time[datable(raw.time)]
    return {
        "votes": len(raw),
        "excluded_votes": int(raw.excluded.sum()),
        "last_vote_at": float(dated.max()) if len(dated) else None,
        "raters": int(len(np.unique(raw.rater))) if len(raw) else 0,
    }


def media_item(store: Any, sha: str, ext: str, kind: str, mime: str) -> MediaItem:
    return MediaItem(sha256=sha, ext=ext, kind=kind, mime=mime,
                     source=reader.media_path(store, sha, ext))


def _frame(matrix: pd.DataFrame, names: tuple[str, ...]) -> pd.DataFrame:
    return matrix.reindex(index=list(names), columns=list(names))


def other_views(client: Client, board: Leaderboard, counted: ranking.VoteArrays,
                options: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Standings counted another way, shown beside the board's: one per audience when the board
    is restricted to two or more (only that audience's votes)."""
    views: dict[str, pd.DataFrame] = {}
    audiences = client.audience.board_audiences(board.id)
    if len(audiences) >= 2:
        found = sorted((client.audience.get_audience_by_id(a) for a in audiences), key=lambda a: a.name.casefold())
        for audience in found:
            views[f"Votes of {audience.name}"] = board.get_standings(audience=audience.id, weighted=False, **options)
    return views


def read_votes(client: Client, board: Leaderboard) -> ranking.VoteArrays:
    """Every vote of the board, as stored (see :func:`rater.results.reader.load_votes`)."""
    return load_votes(client.store, board.id)


def load_board(client: Client, board: Leaderboard, settings: Settings,
               raw: ranking.VoteArrays | None = None) -> BoardData:
    """Compute everything one board's pages show.

    :param raw: the board's votes when already read (:func:`read_votes`).
    :raises rater.LeaderboardError: the store cannot be read.
    :raises ranking.RankingError: the votes cannot be ranked with these settings.
    """
    store = client.store
    raw = read_votes(client, board) if raw is None else raw
    used = included_oriented(raw, board.inverse_ranking)
    options = settings.standings_options()
    # standings count what the board counts: with majority aggregation, one outcome per media
    # pair (as Leaderboard.get_standings); the evidence pages and votes.csv show every vote
    majority = board.vote_aggregation == "majority"
    counted = reader.board_votes(store, board) if majority else raw
    standings = mark_preliminary(ranking.compute_standings(counted, inverse=board.inverse_ranking,
                                                           **options), board.min_votes)
    views = other_views(client, board, counted, options)
    if board.weighted_scoring:  # the board counts raters by reliability; unweighted is shown beside
        views = {"Unweighted": standings, **views}
        standings = mark_preliminary(ranking.compute_weighted_standings(
            counted, inverse=board.inverse_ranking, method=options["method"],
            confidence=options["confidence"], seed=options["seed"]), board.min_votes)

    tag_standings: dict[str, pd.DataFrame] = {}
    tags = list(dict.fromkeys(t for group in board.tags for t in group))
    for tag in tags:
        subset = (reader.board_votes(store, board, [tag]) if majority
                  else raw.subset(tag_mask(board, raw, [tag])))
        tag_standings[tag] = mark_preliminary(ranking.compute_standings(
            subset, inverse=board.inverse_ranking, **{**options, "n_bootstrap": settings.tag_bootstrap}),
            board.min_votes)

    history = None
    warnings: list[str] = []
    dated = used.time[datable(used.time)]
    if len(dated):
        freq = "day" if np.ptp(dated) <= 90 * 86400 else "week"
        with catch_warnings():
            simplefilter("ignore", HistoryWarning)  # counted in attrs, reported below
            history = ranking.standings_history(raw, freq=freq, method=settings.method,
                                                inverse=board.inverse_ranking)
        history.attrs["freq"] = freq
    untimed = int(len(used) - len(dated))
    if untimed:
        warnings.append(f"{untimed} vote(s) have a time no calendar can show (such as "
                        f"{float(used.time[~datable(used.time)][0])!r}): counted in the "
                        "standings, left out of the rank history")

    media_rows = reader.media_rows(store, board.id)
    for row in media_rows:
        row["item"] = media_item(store, row["sha256"], row["ext"], row["kind"], row["mime"])
    prompt_rows = reader.prompt_rows(store, board.id)
    for row in prompt_rows:
        row["asset"] = (media_item(store, row["asset_sha256"], row["asset_ext"],
                                    row["asset_kind"], row["asset_mime"])
                        if row["asset_sha256"] else None)

    return BoardData(
        board=board,
        summary=summarize(raw),
        status=board.status(),
        raw=raw,
        used=used,
        vote_hash=vote_log_hash(raw),
        standings=standings,
        win_rate=_frame(ranking.win_rate_matrix(raw, inverse=board.inverse_ranking), raw.models),
        counts=_frame(ranking.vote_count_matrix(raw), raw.models).fillna(0),
        predicted=_frame(ranking.predicted_win_matrix(standings), raw.models),
        by_prompt=prompt_tally(used),
        by_pair=pair_tally(used),
        media=media_rows,
        prompt_rows=prompt_rows,
        tag_standings=tag_standings,
        views=views,
        history=history,
        warnings=warnings,
        cards=board.model_cards(),
    )
