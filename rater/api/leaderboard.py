"""A leaderboard: its definition, and the methods that add models, serve pairs and rank.

:class:`Leaderboard` is a thin facade: each method calls one function of a module with one
job (``evaluate``, ``matchmaking``, ``standings``, ``quality``), which is where the work and the
documentation of the details live.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rater.errors import LeaderboardNotFound, ValidationError, VoteError
from rater.intake.evaluate import EvaluationResult, add_model_media
from rater.intake.model_card import CARD_FIELDS, ModelCard
from rater.intake.validation import check_count, check_flag, check_name
from rater.store import catalog, votes

from .gold import GoldMethods
from .model_cards import CardMethods
from .owner import BoardOwner
from .settings import VoteAggregation

# matchmaking, standings and quality pull in numpy, scipy and pandas: they are imported by the
# methods that use them, so that opening a database (``rater list``) starts fast.
if TYPE_CHECKING:
    import pandas as pd

    from rater.exchange.votes import ExportResult

    from .participant import Job
    from rater.matchmaking.service import BoardStatus, Matchup, VoteReceipt
    from rater.results.quality import RaterStats

__all__ = ["CARD_FIELDS", "Leaderboard", "ModelCard", "ModelInfo"]


@contextmanager
def _admitted(rater_id: object, board_id: str) -> Iterator[None]:
    """The store's refusal of a rater outside the board's audiences, as a :class:`VoteError`."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if "not admitted" not in str(exc):
            raise
        raise VoteError(f"rater {rater_id!r} is not a current member of the audiences leaderboard "
                        f"{board_id} is restricted to (revoked, expired or never invited)") from None


@dataclass(frozen=True)
class ModelInfo:
    """A model entered on a leaderboard."""

    name: str
    media_count: int
    created_at: float


@dataclass(frozen=True)
class Leaderboard(GoldMethods, CardMethods):
    """One leaderboard. Get it from ``client.mri``; do not construct it yourself."""

    id: str
    name: str
    instruction: str
    prompts: list[str]
    show_prompt: bool
    tags: list[list[str]]
    prompt_assets: list[Path | None]
    show_prompt_asset: bool
    inverse_ranking: bool
    strategy: str
    repeat_share: float
    max_pair_votes: int
    created_at: float
    show_standings: bool
    publish_prompts: bool
    min_votes: int
    benchmark_id: str = ""
    included_tags: list[str] = field(default_factory=list)
    excluded_tags: list[str] = field(default_factory=list)
    vote_aggregation: VoteAggregation = VoteAggregation.ALL_VOTES
    min_responses_per_matchup: int = 1
    level_of_detail: str | None = None
    response_budget: int | None = None
    weighted_scoring: bool = False
    identifiers: list[str] = field(default_factory=list)
    _client: BoardOwner = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    @classmethod
    def from_row(cls, client: BoardOwner, row: dict[str, Any]) -> Leaderboard:
        """Build from a ``leaderboards`` row plus its prompts."""
        prompts = catalog.list_prompts(client.store.conn, row["id"])
        media_file = client.store.media_file
        return cls(
            id=row["id"],
            name=row["name"],
            instruction=row["instruction"],
            prompts=[p["text"] for p in prompts],
            show_prompt=bool(row["show_prompt"]),
            tags=[p["tags"] for p in prompts],
            prompt_assets=[
                media_file(p["asset_sha256"], p["asset_ext"]) if p["asset_sha256"] else None
                for p in prompts
            ],
            show_prompt_asset=bool(row["show_prompt_asset"]),
            inverse_ranking=bool(row["inverse_ranking"]),
            strategy=row["strategy"],
            repeat_share=float(row["repeat_share"]),
            max_pair_votes=int(row["max_pair_votes"]),
            created_at=float(row["created_at"]),
            show_standings=bool(row.get("show_standings", 0)),
            publish_prompts=bool(row.get("publish_prompts", 1)),
            min_votes=int(row["min_votes"]),
            benchmark_id=row["benchmark_id"],
            included_tags=list(row["included_tags"]),
            excluded_tags=list(row["excluded_tags"]),
            vote_aggregation=VoteAggregation(row["vote_aggregation"]),
            min_responses_per_matchup=int(row["min_responses_per_matchup"]),
            level_of_detail=row["level_of_detail"],
            response_budget=row["response_budget"],
            weighted_scoring=bool(row.get("weighted_scoring", 0)),
            identifiers=[p["identifier"] for p in prompts],
            _client=client,
        )

    @property
    def benchmark(self) -> Any:
        """The :class:`rater.Benchmark` this leaderboard is a criterion of."""
        return self._client.mri.get_benchmark_by_id(self.benchmark_id)  # type: ignore[no-any-return]

    @property
    def jobs(self) -> list[Job]:
        """The runs of participants on this leaderboard, newest first (see :class:`rater.Job`)."""
        from .participant import jobs

        return jobs(self._client, self.id)

    def update(self, *, show_standings: bool | None = None, publish_prompts: bool | None = None,
               min_votes: int | None = None, name: str | None = None,
               level_of_detail: str | int | None = None, min_responses_per_matchup: int | None = None,
               vote_aggregation: VoteAggregation | str | None = None,
               weighted_scoring: bool | None = None) -> Leaderboard:
        """Change the board's settings (those given; ``None`` leaves one as it is), all in one
        transaction; returns the board as it now is.

        :param name: the board's new name.
        :param level_of_detail: the response budget of runs started from now on (a named level
            or a number; see :func:`rater.api.benchmark.resolve_level`); reads back as
            ``"custom"`` with ``response_budget`` the number.
        :param min_responses_per_matchup: with majority aggregation, raters a pair needs.
        :param vote_aggregation: how votes count (:class:`rater.VoteAggregation`); standings
            are computed from the stored votes each time, so this changes them at once.
        :param weighted_scoring: the board's standings weigh raters by estimated reliability
            (the site and the app show the unweighted ones beside them).

        :param show_standings: whether raters see the live standings in the rating app (owners
            always do). Off by default, so that raters judge the pairs, not the table.
        :param publish_prompts: whether the static site publishes the prompt texts (on the
            board, prompt pages, podium caption and downloads); apart from ``show_prompt``,
            which is only what raters see. On by default.
        :param min_votes: votes a model needs before it is ranked with the established models;
            below that it is *preliminary* (see :func:`rater.results.standings.mark_preliminary`).
        :raises ValidationError: a setting is malformed, or nothing to change; nothing changes then.
        :raises LeaderboardNotFound: the board was deleted.
        """
        from .settings import resolve_level

        settings = {"show_standings": show_standings, "publish_prompts": publish_prompts,
                    "weighted_scoring": weighted_scoring}
        given: dict[str, Any] = {k: int(check_flag(v, k)) for k, v in settings.items() if v is not None}
        if min_votes is not None:
            given["min_votes"] = check_count(min_votes, "min_votes")
        if name is not None:
            given["name"] = check_name(name, "leaderboard name")
        if level_of_detail is not None:
            given["level_of_detail"], given["response_budget"] = resolve_level(level_of_detail)
        if min_responses_per_matchup is not None:
            given["min_responses_per_matchup"] = check_count(min_responses_per_matchup, "min_responses_per_matchup", 1)
        if vote_aggregation is not None:
            try:
                given["vote_aggregation"] = VoteAggregation(vote_aggregation).value
            except ValueError:
                raise ValidationError(f"vote_aggregation must be VoteAggregation.ALL_VOTES or "
                                      f"MAJORITY_VOTE, got {vote_aggregation!r}") from None
        if not given:
            raise ValidationError("nothing to change: give a setting (name, level_of_detail, "
                                  "min_responses_per_matchup, vote_aggregation, weighted_scoring, "
                                  "show_standings, publish_prompts or min_votes)")
        with self._client.store.write() as conn:
            found = catalog.update_leaderboard(conn, self.id, given)
        if not found:
            raise LeaderboardNotFound(f"no leaderboard with id {self.id!r} (it was deleted)")
        return self._client.mri.get_leaderboard_by_id(self.id)

    def export_votes(self, path: str | os.PathLike[str]) -> ExportResult:
        """Write the board's matchups and votes to ``path`` (JSON Lines) for another host.

        See :func:`rater.exchange.votes.export_votes`; :meth:`Client.import_votes` reads it.
        """
        from rater.exchange.votes import export_votes

        return export_votes(self._client.store, self, path)

    # -- models and media ---------------------------------------------------------------------

    def evaluate_model(
        self,
        name: str,
        media: Sequence[str | os.PathLike[str]],
        prompts: Sequence[str],
        *,
        strict: bool = False,
        sources: Sequence[str] | None = None,
    ) -> EvaluationResult:
        """Add a model's media, each paired with the registered prompt that produced it.

        Several media per prompt are allowed; calling again with the same model name adds media to
        it. All or nothing: if any item is bad, nothing is stored.

        :param name: the model's name on this board.
        :param media: paths of image, video or audio files (recognised by content).
        :param prompts: for each media file, the exact registered prompt that produced it.
        :param strict: refuse (``MediaError``, nothing added) a file byte-identical to one another
            model on the board has; without it such a file gets a ``DuplicateMediaWarning``.
        :param sources: for each item, where it came from (e.g. a manifest's file and line),
            named in errors instead of ``media[i]``.
        :raises UnregisteredPromptError: a prompt is not registered (the closest one is named).
        :raises MediaError: a file is missing, empty, corrupt, truncated, too large (bytes, or
            pixels: see ``Client(max_pixels=...)``) or not a media file.
        :raises ValidationError: bad name, mismatched lengths, a file given twice for one prompt.
        """

        return add_model_media(
            self._client.store, self.id, name, media, prompts,
            max_bytes=self._client.max_media_bytes, max_pixels=self._client.max_pixels,
            strict=check_flag(strict, "strict"), sources=sources,
        )

    def models(self) -> list[ModelInfo]:
        """The models on this board, in the order they were added."""
        return [
            ModelInfo(r["name"], int(r["media"]), float(r["created_at"]))
            for r in catalog.list_models(self._client.store.conn, self.id)
        ]

    def model_media(self, name: str) -> dict[str, list[Path]]:
        """A model's stored media files per prompt (prompts without media are left out)."""
        out: dict[str, list[Path]] = {}
        for row in catalog.list_media(self._client.store.conn, self.id, name):
            out.setdefault(row["prompt"], []).append(
                self._client.store.media_file(row["sha256"], row["ext"])
            )
        return out

    def summary(self) -> dict[str, Any]:
        """Counts for listings: ``models, votes, excluded_votes, raters, last_vote_at``."""
        conn = self._client.store.conn
        return {"models": len(catalog.list_models(conn, self.id)), **votes.vote_summary(conn, self.id)}

    # -- rating ---------------------------------------------------------------------------------

    def next_matchup(self, rater_id: str, strategy: str | None = None, *, continue_when_settled: bool = False) -> Matchup | None:
        """The next pair for this rater to judge, or None when nothing is left to show.

        See :func:`rater.matchmaking.service.next_matchup`.
        """
        from rater.matchmaking import service as matchmaking

        with _admitted(rater_id, self.id):
            return matchmaking.next_matchup(self._client.store, self, rater_id, strategy,
                                            continue_when_settled=continue_when_settled)

    def record_vote(self, matchup_id: str, choice: str, rater_id: str) -> VoteReceipt:
        """Store a rater's judgement of a served matchup: ``"left"``, ``"right"`` or ``"tie"``.

        Returns once the vote is durably stored. See :func:`rater.matchmaking.voting.record_vote`.
        """
        from rater.matchmaking import voting

        with _admitted(rater_id, self.id):
            return voting.record_vote(self._client.store, self.id, matchup_id, choice, rater_id)

    def catalog_version(self) -> int:
        """A number that moves whenever a participant anywhere in the database is disabled,
        enabled, renamed, deleted or run, or a prompt is re-tagged: a pair served before it
        moved may show a participant no longer rated here."""
        from rater.store import matchups

        return matchups.change_probe(self._client.store.conn)[4]

    def status(self) -> BoardStatus:
        """Whether the board is settled, and each model's placing / placed status."""
        from rater.matchmaking import service as matchmaking

        return matchmaking.board_status(self._client.store, self.id, self.max_pair_votes)

    # -- standings ------------------------------------------------------------------------------

    def get_standings(self, tags: Sequence[str] | None = None, audience: Any = None, *,
                      weighted: bool | None = None, **options: Any) -> pd.DataFrame:
        """Standings as a DataFrame: one row per model, best first.

        :param tags: only votes on prompts carrying any of these tags.
        :param audience: only votes of this audience's members (an :class:`rater.Audience` or its id).
        :param weighted: weigh each rater's votes by a reliability estimated with the strengths
            (:func:`ranking.compute_weighted_standings`); None: as the board's
            ``weighted_scoring`` setting says (off unless the owner turned it on).
        See :func:`rater.results.standings.get_standings` for the columns and ``options``.
        """
        from rater.results import standings

        raters = None if audience is None else self._client.audience.member_raters(audience)
        use = self.weighted_scoring if weighted is None else weighted
        table = standings.get_standings(self._client.store, self, tags=tags, raters=raters, weighted=use, **options)
        found = self.model_cards()
        for column in CARD_FIELDS:
            table[column] = [getattr(found[n], column) if n in found else "" for n in table["name"]]
        return table

    def get_win_loss_matrix(self, tags: Sequence[str] | None = None, use_weighted_scoring: bool = False) -> pd.DataFrame:
        """Win counts: cell ``[row, col]`` is how often the row model beat the column model
        (ties add half to both), as the hosted SDK returns it. ``use_weighted_scoring`` weighs
        each vote by its rater's quality (see :func:`rater.results.criteria.rater_weights`).
        :meth:`get_win_rate_matrix` gives the observed win rates."""
        from rater.results import criteria

        return criteria.win_loss_matrix(self._client.store, [self], tags=tags,
                                        use_weighted_scoring=check_flag(use_weighted_scoring, "use_weighted_scoring"))

    def get_win_rate_matrix(self) -> pd.DataFrame:
        """Observed win rate of each row model against each column model (ties count half)."""
        from rater.results import standings

        return standings.get_win_loss_matrix(self._client.store, self.id, self.inverse_ranking)

    # -- raters and quality control ----------------------------------------------------------

    def raters(self) -> list[RaterStats]:
        """Per-rater quality figures: votes, self-agreement on repeats, left-side rate, speed,
        gold accuracy, and why a rater is excluded."""
        from rater.results import quality

        return quality.rater_stats(self._client.store, self.id)

    def exclude_rater(self, rater_id: str) -> None:
        """Leave a rater's votes out of standings (they stay stored)."""
        from rater.results import quality

        quality.set_rater_excluded(self._client.store, self.id, rater_id, True)

    def include_rater(self, rater_id: str) -> None:
        """Count a previously excluded rater's votes again (also one excluded automatically,
        or still qualifying: no automatic rule changes that rater afterwards)."""
        from rater.results import quality

        quality.set_rater_excluded(self._client.store, self.id, rater_id, False)
