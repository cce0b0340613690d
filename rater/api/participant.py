"""A benchmark's participants (models) and the runs of them on its leaderboards (jobs).

A :class:`Participant` is a handle: its name and status are read from the database each time,
so a participant disabled or renamed elsewhere (another process, the CLI) shows as it now is.
Statuses: ``created`` (media stored, not rated yet: :meth:`Participant.run` starts it),
``rating`` (rated on the benchmark's leaderboards), ``disabled`` (not served, left out of every
standing, votes kept: :meth:`Participant.enable` brings it back exactly as it was) and
``deleted`` (gone from the benchmark; its votes leave every standing; its name is free again).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rater.errors import NotFoundError, ValidationError
from rater.intake.evaluate import EvaluationResult, add_participant_media
from rater.intake.validation import check_name
from rater.store import benchmarks, catalog

if TYPE_CHECKING:
    from .owner import BoardOwner

__all__ = ["DATA_TYPES", "Job", "Participant", "media_paths"]

DATA_TYPES = ("media", "text")


def media_paths(media: object, data_type: str, folder: Path) -> list[Any]:
    """The files to store: ``media`` itself for ``data_type="media"``; for ``"text"`` each text
    written to a file in ``folder`` (see :func:`rater.intake.media.write_texts`)."""
    if data_type not in DATA_TYPES:
        raise ValidationError(f"data_type must be 'media' or 'text', got {data_type!r}")
    if data_type == "media":
        return media  # type: ignore[return-value]
    from rater.intake.media import write_texts

    if isinstance(media, str) or not isinstance(media, Sequence):
        raise ValidationError("media must be a list of texts for data_type='text'")
    return list(write_texts(media, folder))


@dataclass(frozen=True)
class Job:
    """One run of a participant on a leaderboard (the hosted service's evaluation job).

    ``status``: ``"rating"`` while it is served, ``"completed"`` once its votes since the run
    started reach the budget, ``"disabled"`` or ``"deleted"`` with its participant.
    """

    id: int
    leaderboard_id: str
    participant_id: int
    participant: str
    started_at: float
    budget: int | None
    votes: int
    status: str

    def get_status(self) -> str:
        """The job's status (as the hosted SDK's ``job.get_status()``)."""
        return self.status


def jobs(client: BoardOwner, leaderboard_id: str) -> list[Job]:
    """The leaderboard's runs, newest first."""
    out = []
    for r in benchmarks.run_rows(client.store.conn, leaderboard_id):
        if r["status"] != "rating":
            status = r["status"]
        elif r["budget"] is not None and r["votes"] >= r["budget"]:
            status = "completed"
        else:
            status = "rating"
        out.append(Job(int(r["id"]), leaderboard_id, int(r["model_id"]), str(r["name"]),
                       float(r["started_at"]), r["budget"], int(r["votes"]), status))
    return out


class Participant:
    """A model entered on a benchmark. Get it from ``benchmark.participants``,
    ``benchmark.add_model`` or ``benchmark.participant(name)``."""

    def __init__(self, client: BoardOwner, benchmark_id: str, participant_id: int) -> None:
        self._client = client
        self.benchmark_id = benchmark_id
        self.id = int(participant_id)

    def _row(self) -> dict[str, Any]:
        for row in benchmarks.participants(self._client.store.conn, self.benchmark_id, deleted=True):
            if row["id"] == self.id:
                return row
        raise NotFoundError(f"benchmark {self.benchmark_id!r} has no participant {self.id}")

    @property
    def name(self) -> str:
        """The participant's name as it now is."""
        return str(self._row()["name"])

    @property
    def status(self) -> str:
        """``created``, ``rating``, ``disabled`` or ``deleted``."""
        return str(self._row()["status"])

    def __repr__(self) -> str:
        row = self._row()
        return f"Participant(id={self.id}, name={row['name']!r}, status={row['status']!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Participant) and (other.benchmark_id, other.id) == (self.benchmark_id, self.id)

    def __hash__(self) -> int:
        return hash((self.benchmark_id, self.id))

    # -- lifecycle ----------------------------------------------------------------------------

    def _alive(self) -> dict[str, Any]:
        row = self._row()
        if row["status"] == "deleted":
            raise NotFoundError(f"participant {row['name']!r} of benchmark {self.benchmark_id!r} was deleted")
        return row

    def run(self) -> Participant:
        """Submit the participant for rating: it is served on every leaderboard of the
        benchmark (a run starts on each it has none on yet, with that board's budget).

        :raises ValidationError: it is disabled (``enable`` it) or has no media.
        """
        row = self._alive()
        if row["status"] == "disabled":
            raise ValidationError(f"participant {row['name']!r} is disabled: enable() it to rate it again")
        if not row["media"]:
            raise ValidationError(f"participant {row['name']!r} has no media yet: upload_media first")
        now = time.time()
        with self._client.store.write() as conn:
            rated = benchmarks.run_boards(conn, self.id)
            for board in catalog.benchmark_leaderboards(conn, self.benchmark_id):
                if board["id"] not in rated:
                    benchmarks.add_run(conn, board["id"], self.id, now)
            benchmarks.set_participant_status(conn, self.id, "rating")
        return self

    def _set_status(self, status: str, allowed: tuple[str, ...]) -> Participant:
        row = self._alive()
        if row["status"] not in allowed:
            raise ValidationError(f"participant {row['name']!r} is {row['status']}, cannot be {status}")
        with self._client.store.write() as conn:
            benchmarks.set_participant_status(conn, self.id, status)
        return self

    def disable(self) -> Participant:
        """Stop serving it and leave it out of every standing; its votes are kept, so
        :meth:`enable` brings its standings back exactly as they were."""
        return self._set_status("disabled", ("created", "rating", "disabled"))

    def enable(self) -> Participant:
        """Undo :meth:`disable`: rated again where it has runs (``created`` if it never ran)."""
        row = self._alive()
        if row["status"] != "disabled":
            return self
        ran = benchmarks.run_boards(self._client.store.conn, self.id)
        return self._set_status("rating" if ran else "created", ("disabled",))

    def rename(self, name: str) -> Participant:
        """Give it a new name (on every leaderboard, standing and page).

        :raises ValidationError: a bad name, or one another participant of the benchmark has.
        """
        name = check_name(name, "model name")
        row = self._alive()
        taken = [p for p in benchmarks.participants(self._client.store.conn, self.benchmark_id)
                 if p["name"] == name and p["id"] != self.id]
        if taken:
            raise ValidationError(f"benchmark {self.benchmark_id!r} already has a participant named {name!r}")
        if name != row["name"]:
            with self._client.store.write() as conn:
                benchmarks.rename_participant(conn, self.id, name)
        return self

    def delete(self) -> None:
        """Remove it from the benchmark: it is no longer served or shown anywhere, its votes
        leave every standing and its name is free. Cannot be undone. Its media that were never
        served are unreferenced (``rater gc --delete`` then removes their files); served ones
        stay as rows, so the votes cast on them keep their history."""
        self._alive()
        with self._client.store.write() as conn:
            benchmarks.set_participant_status(conn, self.id, "deleted")
            benchmarks.delete_unserved_media(conn, self.id)

    # -- media -------------------------------------------------------------------------------

    def upload_media(self, media: Sequence[str | os.PathLike[str]], identifiers: Sequence[str] | None = None,
                     *, prompts: Sequence[str] | None = None, data_type: str = "media",
                     strict: bool = False, sources: Sequence[str] | None = None) -> EvaluationResult:
        """Add media to the participant, each with the identifier (or prompt text) it was
        generated for; all or nothing. A participant already rated is served with them at once.
        ``sources`` name each item in errors (a manifest's file and line) instead of ``media[i]``."""
        row = self._alive()
        with tempfile.TemporaryDirectory(prefix="rater-texts-") as folder:
            _, result = add_participant_media(
                self._client.store, self.benchmark_id, row["name"], media_paths(media, data_type, Path(folder)),
                identifiers=identifiers, prompts=prompts, model_id=self.id,
                max_bytes=self._client.max_media_bytes, max_pixels=self._client.max_pixels, strict=strict,
                sources=sources)
        return result

    def media(self) -> dict[str, list[Path]]:
        """The participant's stored files, per identifier."""
        from rater.intake.media import blob_path

        out: dict[str, list[Path]] = {}
        for r in benchmarks.participant_media(self._client.store.conn, self.id):
            out.setdefault(r["identifier"], []).append(blob_path(self._client.store.media_dir, r["sha256"], r["ext"]))
        return out

    def missing_counts(self) -> dict[str, int]:
        """For each registered identifier the participant has no media for: how many are
        missing (1 each; a prompt needs one medium to be rated). Empty when nothing is missing."""
        have = set(self.media())
        return {p["identifier"]: 1 for p in benchmarks.benchmark_prompts(self._client.store.conn, self.benchmark_id)
                if p["identifier"] not in have}

    def retry_missing(self, media: Sequence[str | os.PathLike[str]], identifiers: Sequence[str] | None = None,
                      *, prompts: Sequence[str] | None = None, data_type: str = "media") -> EvaluationResult:
        """Fill the prompts :meth:`missing_counts` reports: like :meth:`upload_media`, but
        every item must be for a prompt the participant has no media for yet.

        :raises ValidationError: an item is for a prompt that already has media.
        """
        missing = self.missing_counts()
        rows = benchmarks.benchmark_prompts(self._client.store.conn, self.benchmark_id)
        by_text = {p["text"]: p["identifier"] for p in rows}
        wanted = list(identifiers) if identifiers is not None else [by_text.get(t, t) for t in (prompts or [])]
        done = [w for w in wanted if isinstance(w, str) and w not in missing and w in {p["identifier"] for p in rows}]
        if done:
            raise ValidationError(f"participant already has media for {done[0]!r}; retry_missing only fills "
                                  f"missing prompts ({len(missing)} missing)")
        return self.upload_media(media, identifiers, prompts=prompts, data_type=data_type)

    def get_elo(self) -> float | None:
        """Its score in the benchmark's overall standings (all leaderboards), or None before
        it has votes on every one."""
        table = self._client.mri.get_benchmark_by_id(self.benchmark_id).get_overall_standings()
        row = table[table["name"] == self.name]
        if row.empty:
            return None
        value = float(row["score"].iloc[0])
        return None if value != value else value
