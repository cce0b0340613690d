"""A benchmark's participants (models) and the runs of them on its leaderboards (jobs).

A :class:`Participant` is a handle: its name and status are read from the database each time,
so a participant disabled or renamed elsewhere (another process, the CLI) shows as it now is.
Statuses: ``created`` (media stored, not rated yet: :meth:`Participant.run` starts it),
``rating`` (rated on the benchmark's leaderboards), ``disabled`` (not served, left out of every
standing, votes kept: :meth:`Participant.enable` brings it back exactly as it was) and
``deleted`` (gone from the benchmark; its votes leave every standing; its name is free again).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections import Counter
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
        row = benchmarks.participant_row(self._client.store.conn, self.benchmark_id, self.id)
        if row is not None:
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
        out: dict[str, list[Path]] = {}
        for r in benchmarks.participant_media(self._client.store.conn, self.id):
            out.setdefault(r["identifier"], []).append(self._client.store.media_file(r["sha256"], r["ext"]))
        return out

    def missing_counts(self, identifiers: Sequence[str] | None = None) -> Counter[str]:
        """How many media each identifier is still short of, as the hosted SDK answers it:
        ``identifiers`` is the full list intended for the participant (an identifier given
        twice means two media), by default every registered identifier once. Identifiers
        that are complete are absent, so an empty counter means nothing is outstanding."""
        if identifiers is None:
            identifiers = [p["identifier"] for p in benchmarks.benchmark_prompts(self._client.store.conn, self.benchmark_id)]
        elif isinstance(identifiers, str) or not isinstance(identifiers, Sequence):
            raise ValidationError("identifiers must be a list of identifiers")
        intended = Counter(str(i) for i in identifiers)
        intended.subtract(Counter(r["identifier"] for r in benchmarks.participant_media(self._client.store.conn, self.id)))
        return Counter({k: v for k, v in intended.items() if v > 0})

    def retry_missing(self, media: Sequence[str | os.PathLike[str]], identifiers: Sequence[str], *,
                      data_type: str = "media") -> EvaluationResult:
        """Store what :meth:`missing_counts` reports as missing, from the full intended lists:
        the items of identifiers that are short are uploaded, except files the participant
        already has for that identifier (so calling it again adds nothing). All or nothing.

        :raises ValidationError: the lists differ in length (or as :meth:`upload_media`).
        """
        if isinstance(media, (str, os.PathLike)) or isinstance(identifiers, str):
            raise ValidationError("media and identifiers must be lists")
        items, idents = list(media), list(identifiers)
        if len(items) != len(idents):
            raise ValidationError(f"media and identifiers must have the same length: got {len(items)} and {len(idents)}")
        short = self.missing_counts(idents)
        with tempfile.TemporaryDirectory(prefix="rater-texts-") as folder:
            paths = media_paths(items, data_type, Path(folder))
            held = {(r["identifier"], r["sha256"]) for r in benchmarks.participant_media(self._client.store.conn, self.id)}
            todo = [(m, i) for m, i in zip(paths, idents) if i in short and (i, _sha256(m)) not in held]
            if not todo:
                return EvaluationResult(self.name, 0, False, 0)
            return self.upload_media([m for m, _ in todo], [i for _, i in todo])

    def get_elo(self) -> float | None:
        """Its score in the benchmark's overall standings (all leaderboards), or None before
        it has votes on every one."""
        table = self._client.mri.get_benchmark_by_id(self.benchmark_id).get_overall_standings()
        row = table[table["name"] == self.name]
        if row.empty:
            return None
        value = float(row["score"].iloc[0])
        return None if value != value else value


def _sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes (how the store names a medium); "" when it cannot be read,
    so that the upload that follows reports the problem."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()
