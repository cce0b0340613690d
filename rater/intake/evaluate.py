"""Adding a model's media to a leaderboard, all or nothing.

Every file is checked first (nothing is copied if one is bad), then the files are copied into
the media store, and only then does the write transaction open, for the row inserts alone: a
vote arriving meanwhile waits milliseconds, not for the copying (see
:func:`rater.intake.media.write_with_blobs`).
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rater.errors import DuplicateMediaWarning, MediaError, ValidationError
from .gc import remove_stale_temp_files
from .media import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, MediaFile, inspect_media, write_with_blobs
from rater.store import Store, benchmarks, catalog
from .validation import check_name, unregistered_prompt_error

__all__ = ["EvaluationResult", "add_model_media", "add_participant_media", "resolve_prompts"]


@dataclass(frozen=True)
class EvaluationResult:
    """What one ``evaluate_model`` call stored."""

    model: str
    media_added: int
    new_model: bool
    new_files: int  # blobs that were not in the media store before


def _as_list(value: object, what: str) -> list[object]:
    if isinstance(value, (str, bytes, os.PathLike)):
        raise ValidationError(f"{what} must be a list, got a single {type(value).__name__}")
    try:
        return list(value)  # type: ignore[call-overload]
    except TypeError:
        raise ValidationError(f"{what} must be a list, got {type(value).__name__}") from None


def _check_copies(store: Store, benchmark_id: str, name: str, files: list[MediaFile], strict: bool,
                  at: Callable[[int, str], str]) -> None:
    """Warn about (``strict``: refuse) files another model on the board already has. Texts are
    left out: two models giving the same short answer ("4", "Yes") is normal, not a copy mistake."""
    others = benchmarks.participants_with_blobs(store.conn, benchmark_id, {f.sha256 for f in files}, name)
    copies = [(i, f) for i, f in enumerate(files) if f.sha256 in others and f.kind != "text"]
    if not copies:
        return
    shown = "; ".join(f"{at(i, 'media')} ({f.source}) is also stored for model(s) "
                      f"{', '.join(map(repr, others[f.sha256]))}" for i, f in copies[:3])
    more = f" (and {len(copies) - 3} more)" if len(copies) > 3 else ""
    message = (f"{len(copies)} of {len(files)} media for model {name!r} are byte-identical to another "
               f"model's on this board: {shown}{more}; two models with identical output is almost always "
               "a copy mistake")
    if strict:
        raise MediaError(f"{message}; nothing added (strict)")
    warnings.warn(f"{message} (added anyway; strict refuses it)", DuplicateMediaWarning, stacklevel=5)


def resolve_prompts(
    rows: Sequence[dict[str, object]], identifiers: Sequence[object] | None, prompts: Sequence[object] | None,
    n: int, at: Callable[[int, str], str],
) -> list[int]:
    """The prompt id for each of ``n`` media, from ``identifiers`` or from prompt texts
    (``prompts``; a text registered under several identifiers must be named by identifier).

    :raises ValidationError: neither or both given, a length differs, a value is not text.
    :raises UnregisteredPromptError: an identifier or prompt is not registered (the closest
        one is named).
    """
    if (identifiers is None) == (prompts is None):
        raise ValidationError("give either identifiers or prompts for the media (one, not both)")
    given, what, key = ((identifiers, "identifiers", "identifier") if identifiers is not None
                        else (prompts, "prompts", "text"))
    values = _as_list(given, what)
    if len(values) != n:
        raise ValidationError(f"media and {what} must have the same length: got {n} media and {len(values)} {what}")
    registered: dict[str, list[int]] = {}
    for row in rows:
        registered.setdefault(str(row[key]), []).append(int(row["id"]))  # type: ignore[call-overload]
    out = []
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise ValidationError(f"{at(i, what)} must be text, got {type(value).__name__}")
        if value not in registered:
            raise unregistered_prompt_error(value, list(registered), at(i, what),
                                            "identifier" if key == "identifier" else "prompt")
        if len(registered[value]) > 1:
            idents = [str(r["identifier"]) for r in rows if r["text"] == value]
            raise ValidationError(
                f"{at(i, what)} {value!r} is registered under several identifiers "
                f"({', '.join(map(repr, idents[:5]))}): give identifiers= instead of prompts=")
        out.append(registered[value][0])
    return out


def _inspect(media_list: list[object], max_bytes: int, max_pixels: int, sources: Sequence[str] | None,
             at: Callable[[int, str], str]) -> list[MediaFile]:
    files: list[MediaFile] = []
    for i, item in enumerate(media_list):
        if not isinstance(item, (str, os.PathLike)):
            raise MediaError(f"{at(i, 'media')} must be a file path, got {type(item).__name__}")
        try:
            files.append(inspect_media(Path(item), max_bytes=max_bytes, max_pixels=max_pixels))
        except MediaError as exc:
            if sources is None:
                raise
            raise type(exc)(f"{sources[i]}: {exc}") from None
    return files


def _check_repeats(files: list[MediaFile], prompt_ids: list[int], labels: dict[int, str],
                   existing: set[tuple[int, str]], name: str, at: Callable[[int, str], str]) -> None:
    seen: dict[tuple[int, str], int] = {}
    for i, (file, prompt_id) in enumerate(zip(files, prompt_ids)):
        key = (prompt_id, file.sha256)
        if key in seen:
            raise MediaError(
                f"{at(i, 'media')} ({file.source}) is the same file as {at(seen[key], 'media')} for "
                f"prompt {labels[prompt_id]!r}: one model may not submit identical media twice for a prompt"
            )
        if key in existing:
            raise MediaError(
                f"{at(i, 'media')} ({file.source}) is already stored for model {name!r} and prompt "
                f"{labels[prompt_id]!r}"
            )
        seen[key] = i


def _prepare(store: Store, benchmark_id: str, name: str, media: object, prompt_rows: list[dict[str, object]],
             identifiers: Sequence[object] | None, prompts: Sequence[object] | None,
             existing: set[tuple[int, str]], max_bytes: int, max_pixels: int, strict: bool,
             sources: Sequence[str] | None) -> tuple[list[MediaFile], list[int]]:
    """Every check of an upload, before anything is copied: the files and their prompt ids."""
    remove_stale_temp_files(store.media_dir)  # what killed uploads left, an hour or more ago
    media_list = _as_list(media, "media")
    if not media_list:
        raise ValidationError("media is empty: give at least one media file")
    if sources is not None and len(sources) != len(media_list):
        raise ValidationError(f"sources must name each of the {len(media_list)} media, got {len(sources)}")

    def at(i: int, what: str) -> str:
        return f"{what}[{i}]" if sources is None else sources[i]

    prompt_ids = resolve_prompts(prompt_rows, identifiers, prompts, len(media_list), at)
    files = _inspect(media_list, max_bytes, max_pixels, sources, at)
    labels = {int(r["id"]): str(r["text"] if prompts is not None else r["identifier"])  # type: ignore[call-overload]
              for r in prompt_rows}
    _check_repeats(files, prompt_ids, labels, existing, name, at)
    _check_copies(store, benchmark_id, name, files, strict, at)
    return files, prompt_ids


def add_model_media(
    store: Store,
    leaderboard_id: str,
    name: str,
    media: Sequence[str | os.PathLike[str]],
    prompts: Sequence[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    strict: bool = False,
    sources: Sequence[str] | None = None,
) -> EvaluationResult:
    """Validate every item, copy the files, then store every row in one transaction, or nothing
    (a leaderboard's ``evaluate_model``: the model is a participant of the board's benchmark,
    rated on this board).

    A file byte-identical to one already stored for another model on the board (almost always a
    copy mistake) gets a :class:`~rater.errors.DuplicateMediaWarning`, or with ``strict`` is refused.

    :param max_bytes: files larger than this are refused.
    :param max_pixels: images and video frames with more pixels than this are refused.
    :param strict: refuse files another model on the board already has, instead of warning.
    :param sources: for each item, where it came from, named in errors instead of ``media[i]``
        (``rater add-model`` gives the manifest's file and line).
    :raises ValidationError: bad name, list lengths differ, empty lists, an unregistered prompt,
        the same file twice for one prompt, a media file that is missing, unsupported,
        corrupt, truncated or too large, or (``strict``) a file another model has.
    """
    name = check_name(name, "model name")
    prompt_list = _as_list(prompts, "prompts")
    media_count = len(_as_list(media, "media"))
    if media_count and len(prompt_list) != media_count:
        raise ValidationError(
            f"media and prompts must have the same length: got {media_count} media "
            f"and {len(prompt_list)} prompts"
        )
    benchmark_id = catalog.board_benchmark(store.conn, leaderboard_id)
    existing = catalog.media_keys(store.conn, leaderboard_id, name)
    files, prompt_ids = _prepare(store, benchmark_id, name, media, catalog.list_prompts(store.conn, leaderboard_id),
                                 None, prompt_list, existing, max_bytes, max_pixels, strict, sources)
    now = time.time()
    with write_with_blobs(store, files) as (conn, new_files):
        is_new = name not in {m["name"] for m in catalog.list_models(conn, leaderboard_id)}
        model_id = catalog.get_or_create_model(conn, leaderboard_id, name, now)
        _insert(conn, benchmark_id, model_id, files, prompt_ids, now)
    return EvaluationResult(name, len(files), is_new, new_files)


def _insert(conn: object, benchmark_id: str, model_id: int, files: list[MediaFile], prompt_ids: list[int],
            now: float) -> None:
    for file, prompt_id in zip(files, prompt_ids):
        catalog.insert_blob(conn, file.sha256, file.kind, file.mime, file.ext, file.size)  # type: ignore[arg-type]
        benchmarks.insert_participant_media(conn, benchmark_id, model_id, prompt_id,  # type: ignore[arg-type]
                                            file.sha256, file.source.name, now)


def add_participant_media(
    store: Store,
    benchmark_id: str,
    name: str,
    media: Sequence[str | os.PathLike[str]],
    *,
    identifiers: Sequence[str] | None = None,
    prompts: Sequence[str] | None = None,
    model_id: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    strict: bool = False,
    sources: Sequence[str] | None = None,
) -> tuple[int, EvaluationResult]:
    """Store a participant's media on a benchmark, all or nothing: a new participant named
    ``name`` (status ``created``), or more media for the existing one ``model_id``.

    Media are matched to prompts by ``identifiers`` or by prompt texts (``prompts``). Returns
    the participant's id and what was stored; ``sources`` as :func:`add_model_media`.

    :raises ValidationError: as :func:`add_model_media`; also a name already used by another
        participant of the benchmark.
    """
    name = check_name(name, "model name")
    if model_id is None and any(p["name"] == name for p in benchmarks.participants(store.conn, benchmark_id)):
        raise ValidationError(
            f"benchmark {benchmark_id!r} already has a participant named {name!r}: pick another name, "
            "or add media to it (participant.upload_media, `rater participant add-media`)")
    existing = set()
    if model_id is not None:
        existing = {(int(r["prompt_id"]), str(r["sha256"])) for r in benchmarks.participant_media(store.conn, model_id)}
    files, prompt_ids = _prepare(store, benchmark_id, name, media, benchmarks.benchmark_prompts(store.conn, benchmark_id),
                                 identifiers, prompts, existing, max_bytes, max_pixels, strict, sources)
    now = time.time()
    with write_with_blobs(store, files) as (conn, new_files):
        new = model_id is None
        if model_id is None:
            model_id = benchmarks.insert_participant(conn, benchmark_id, name, now)
        _insert(conn, benchmark_id, model_id, files, prompt_ids, now)
    return model_id, EvaluationResult(name, len(files), new, new_files)
