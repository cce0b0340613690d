"""Benchmarks: one prompt set, several criteria (leaderboards), models managed as participants.

The names follow the hosted service's current SDK, so its getting-started code runs here by
changing the client line::

    bench = client.mri.create_new_benchmark("T2I 2026", prompts=[...], identifiers=[...])
    aesthetics = bench.create_leaderboard("Aesthetics", "Which image looks better?")
    alignment = bench.create_leaderboard("Alignment", "Which image fits the description?",
                                         show_prompt=True)
    bench.evaluate_model("MyModel_v2", media=[...], identifiers=[...])  # rated on both
    bench.get_overall_standings()

A model's media are stored once, in the benchmark, and rated on every leaderboard; each
leaderboard has its own votes, matchmaking and standings (votes on one never move another).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rater.errors import NotFoundError, ValidationError
from rater.intake.evaluate import add_participant_media
from rater.intake.validation import check_count, check_flag
from rater.store import audiences, benchmarks, catalog

from .audience import audience_id_of
from .ids import new_leaderboard_id
from .participant import Participant, media_paths
from .settings import (
    BenchmarkNotFound, Tag, VoteAggregation, check_prompt_lists, check_tag_lists, check_tags, resolve_level,
)

if TYPE_CHECKING:
    import pandas as pd

    from .leaderboard import Leaderboard
    from .owner import BoardOwner

__all__ = ["Benchmark"]

class Benchmark:
    """A prompt set with its participants and leaderboards. Get it from ``client.mri``;
    its lists (prompts, participants, leaderboards) are read from the database each time."""

    def __init__(self, client: BoardOwner, row: dict[str, Any]) -> None:
        self._client = client
        self.id: str = row["id"]
        self.name: str = row["name"]
        self.created_at: float = float(row["created_at"])

    @classmethod
    def load(cls, client: BoardOwner, benchmark_id: str) -> Benchmark:
        row = benchmarks.get_benchmark(client.store.conn, str(benchmark_id))
        if row is None:
            raise BenchmarkNotFound(f"no benchmark with id {benchmark_id!r} in {client.store.location} "
                                    "(`rater benchmark list` shows the ids)")
        return cls(client, row)

    def __repr__(self) -> str:
        return f"Benchmark(id={self.id!r}, name={self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Benchmark) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    # -- prompts ----------------------------------------------------------------------------

    def _prompts(self) -> list[dict[str, Any]]:
        return benchmarks.benchmark_prompts(self._client.store.conn, self.id)

    @property
    def identifiers(self) -> list[str]:
        """The registered identifiers, in order."""
        return [p["identifier"] for p in self._prompts()]

    @property
    def prompts(self) -> list[str | None]:
        """The prompt texts, in order (None for a prompt that is only an asset)."""
        return [p["text"] or None for p in self._prompts()]

    @property
    def tags(self) -> list[list[str]]:
        """Each prompt's tag values."""
        return [p["tags"] for p in self._prompts()]

    @property
    def structured_tags(self) -> list[list[Tag]]:
        """Each prompt's tags with their categories."""
        return [[Tag(t, p["tag_categories"].get(t)) for t in p["tags"]] for p in self._prompts()]

    @property
    def prompt_assets(self) -> list[Path | None]:
        """Each prompt's stored asset file, or None."""
        return [self._client.store.media_file(p["asset_sha256"], p["asset_ext"]) if p["asset_sha256"]
                else None for p in self._prompts()]

    def add_prompts(self, identifiers: Sequence[str] | None = None, prompts: Sequence[str | None] | None = None,
                    prompt_assets: Sequence[str | os.PathLike[str] | None] | None = None,
                    tags: Sequence[Sequence[str | Tag] | None] | None = None) -> None:
        """Register more prompts (matched by index; identifiers default to the texts). They are
        served from now on to every participant that has media for them; all or nothing."""
        from rater.intake.media import write_with_blobs

        idents, texts = check_prompt_lists(identifiers, prompts, prompt_assets, tags, self.identifiers)
        tag_lists = check_tag_lists(tags, len(idents))
        assets = self._client.mri._check_assets(prompt_assets, len(idents))
        with write_with_blobs(self._client.store, [a for a in assets if a is not None]) as (conn, _):
            for a in assets:
                if a is not None:
                    catalog.insert_blob(conn, a.sha256, a.kind, a.mime, a.ext, a.size)
            benchmarks.insert_prompts(conn, self.id, [
                (i, t, g[0], g[1], a.sha256 if a else None) for i, t, g, a in zip(idents, texts, tag_lists, assets)])

    def update_prompt(self, identifier: str, tags: Sequence[str | Tag] | None = None) -> None:
        """Replace a prompt's tags (a leaderboard's tag scope follows at once; votes already
        recorded stay in its standings).

        :raises NotFoundError: no prompt has that identifier.
        """
        if tags is None:
            raise ValidationError("nothing to change: give tags")
        values, categories = check_tags(tags, "tags")
        with self._client.store.write() as conn:
            found = benchmarks.update_prompt_tags(conn, self.id, str(identifier), values, categories)
        if not found:
            raise NotFoundError(f"benchmark {self.id!r} has no prompt with identifier {identifier!r}")

    # -- leaderboards -----------------------------------------------------------------------

    @property
    def leaderboards(self) -> list[Leaderboard]:
        """The benchmark's leaderboards (criteria), oldest first."""
        return [self._client.mri.get_leaderboard_by_id(r["id"])
                for r in catalog.benchmark_leaderboards(self._client.store.conn, self.id)]

    def create_leaderboard(
        self, name: str, instruction: str, show_prompt: bool = False, show_prompt_asset: bool = False,
        inverse_ranking: bool = False, level_of_detail: str | int | None = None,
        min_responses_per_matchup: int | None = None, vote_aggregation: VoteAggregation | str = VoteAggregation.ALL_VOTES,
        included_tags: Sequence[str] | None = None, excluded_tags: Sequence[str] | None = None,
        skip_initial_run: bool = False, audience_id: object = None, *, strategy: str = "information",
        repeat_share: float = 0.05, max_pair_votes: int = 60, show_standings: bool = False,
        publish_prompts: bool = True, min_votes: int | None = None, weighted_scoring: bool = False,
    ) -> Leaderboard:
        """Add a criterion: a leaderboard rating this benchmark's participants.

        :param level_of_detail: the response budget of a participant's run (``"debug"`` 20,
            ``"low"`` 2,000, ``"medium"`` 4,000, ``"high"`` 8,000, ``"very high"`` 16,000 votes,
            or a number); our stopping rule may end a run earlier, never later. None: no budget.
        :param min_responses_per_matchup: with ``MAJORITY_VOTE``, raters a media pair needs
            before it counts (default 1).
        :param included_tags: only prompts carrying one of these tags are served (none: all).
        :param excluded_tags: prompts carrying one of these are never served (wins over included).
        :param skip_initial_run: do not rate the participants already rated elsewhere on this
            board; only those run later are.
        :param weighted_scoring: the board's standings weigh each rater by a reliability
            estimated with the strengths (the unweighted ones are reported beside them).
        :param audience_id: an audience (:class:`rater.Audience` or its id) the board is restricted
            to: only its members rate it (by invite or study link). None: open to everyone with
            the passcode.
        Other parameters as :meth:`rater.LeaderboardManager.create_new_leaderboard`.
        """
        from rater.store.schema import DEFAULT_MIN_VOTES

        audience = None if audience_id is None else self._client.audience.get_audience_by_id(
            audience_id_of(audience_id))
        level, budget = resolve_level(level_of_detail)
        aggregation = VoteAggregation(vote_aggregation) if not isinstance(vote_aggregation, VoteAggregation) \
            else vote_aggregation
        responses = 1 if min_responses_per_matchup is None else check_count(min_responses_per_matchup,
                                                                            "min_responses_per_matchup", 1)
        scope = {k: check_tags(v, k)[0] for k, v in (("included_tags", included_tags), ("excluded_tags", excluded_tags))}
        board = self._client.mri._check_board(
            name, instruction, show_prompt=show_prompt, show_prompt_asset=show_prompt_asset,
            inverse_ranking=inverse_ranking, strategy=strategy, repeat_share=repeat_share,
            max_pair_votes=max_pair_votes, show_standings=show_standings, publish_prompts=publish_prompts,
            min_votes=DEFAULT_MIN_VOTES if min_votes is None else min_votes)
        if show_prompt_asset and not any(p["asset_sha256"] for p in self._prompts()):
            raise ValidationError("show_prompt_asset is on but the benchmark has no prompt assets")
        board.update(benchmark_id=self.id, vote_aggregation=aggregation.value, min_responses_per_matchup=responses,
                     level_of_detail=level, response_budget=budget,
                     weighted_scoring=int(check_flag(weighted_scoring, "weighted_scoring")), **scope)
        check_flag(skip_initial_run, "skip_initial_run")
        with self._client.store.write() as conn:
            if benchmarks.get_benchmark(conn, self.id) is None:
                raise BenchmarkNotFound(f"no benchmark with id {self.id!r} (it was deleted)")
            while catalog.get_leaderboard(conn, board["id"]) is not None:
                board["id"] = new_leaderboard_id()
            catalog.insert_leaderboard(conn, board)
            if audience is not None:
                audiences.attach(conn, board["id"], audience.id)
            if not skip_initial_run:
                now = time.time()
                for p in benchmarks.participants(conn, self.id):
                    if p["status"] in ("rating", "disabled") and benchmarks.run_boards(conn, p["id"]):
                        benchmarks.add_run(conn, board["id"], p["id"], now, budget)
        return self._client.mri.get_leaderboard_by_id(board["id"])

    # -- participants -----------------------------------------------------------------------

    @property
    def participants(self) -> list[Participant]:
        """The participants (deleted ones aside), in the order they were added."""
        return [Participant(self._client, self.id, r["id"]) for r in benchmarks.participants(self._client.store.conn, self.id)]

    def participant(self, name: str) -> Participant:
        """The participant of that name.

        :raises NotFoundError: none has it.
        """
        rows = benchmarks.participants(self._client.store.conn, self.id)
        for p in rows:
            if p["name"] == name:
                return Participant(self._client, self.id, p["id"])
        names = ", ".join(repr(p["name"]) for p in rows[:10])
        raise NotFoundError(f"benchmark {self.id!r} has no participant {name!r} (participants: {names or 'none'})")

    def add_model(self, name: str, media: Sequence[str | os.PathLike[str]], identifiers: Sequence[str] | None = None,
                  prompts: Sequence[str] | None = None, data_type: str = "media", *, strict: bool = False,
                  sources: Sequence[str] | None = None) -> Participant:
        """Add a participant with its media, matched by identifier (or prompt text), without
        rating it yet (status ``created``): :meth:`Participant.run` or :meth:`run` starts it.
        All or nothing; ``data_type="text"`` takes the texts themselves as ``media``;
        ``sources`` name each item in errors (a manifest's file and line) instead of ``media[i]``.
        """
        with tempfile.TemporaryDirectory(prefix="rater-texts-") as folder:
            model_id, _ = add_participant_media(
                self._client.store, self.id, name, media_paths(media, data_type, Path(folder)),
                identifiers=identifiers, prompts=prompts, max_bytes=self._client.max_media_bytes,
                max_pixels=self._client.max_pixels, strict=check_flag(strict, "strict"), sources=sources)
        return Participant(self._client, self.id, model_id)

    def evaluate_model(self, name: str, media: Sequence[str | os.PathLike[str]], identifiers: Sequence[str] | None = None,
                       prompts: Sequence[str] | None = None, data_type: str = "media", *, strict: bool = False) -> Participant:
        """:meth:`add_model` and :meth:`Participant.run`: the model is rated on every
        leaderboard of the benchmark at once."""
        return self.add_model(name, media, identifiers, prompts, data_type, strict=strict).run()

    def run(self) -> list[Participant]:
        """Submit every participant still ``created``; returns them."""
        started = [p for p in self.participants if p.status == "created"]
        for p in started:
            p.run()
        return started

    # -- results ----------------------------------------------------------------------------

    def _boards(self, leaderboard_ids: Sequence[str] | None) -> list[Leaderboard]:
        boards = self.leaderboards
        if leaderboard_ids is None:
            return boards
        known = {b.id: b for b in boards}
        for i in leaderboard_ids:
            if i not in known:
                raise ValidationError(f"leaderboard {i!r} is not one of benchmark {self.id!r}'s "
                                      f"({', '.join(known) or 'none yet'})")
        return [known[i] for i in leaderboard_ids]

    def get_overall_standings(self, tags: Sequence[str] | None = None, leaderboard_ids: Sequence[str] | None = None,
                              *, weights: dict[str, float] | None = None, **options: Any) -> pd.DataFrame:
        """One ranking across the chosen leaderboards (all by default), with honest uncertainty.

        Each criterion's ratings are combined as a weighted mean (``weights`` by leaderboard
        id; equal by default), and the prompt-clustered resampling is done jointly over the
        criteria (a prompt is resampled in every criterion at once), so intervals and rank
        ranges stay valid. See :func:`rater.results.criteria.overall_standings`.
        """
        from rater.results import criteria

        return criteria.overall_standings(self._client.store, self._boards(leaderboard_ids), tags=tags,
                                          weights=weights, **options)

    def get_win_loss_matrix(self, tags: Sequence[str] | None = None, participant_ids: Sequence[int] | None = None,
                            leaderboard_ids: Sequence[str] | None = None,
                            use_weighted_scoring: bool = False) -> pd.DataFrame:
        """Win counts summed over the chosen leaderboards: cell ``[row, col]`` is how often the
        row participant beat the column one (ties add half to both). See
        :func:`rater.results.criteria.win_loss_matrix` for the weights."""
        from rater.results import criteria

        return criteria.win_loss_matrix(self._client.store, self._boards(leaderboard_ids), tags=tags,
                                        participant_ids=participant_ids,
                                        use_weighted_scoring=check_flag(use_weighted_scoring, "use_weighted_scoring"))
