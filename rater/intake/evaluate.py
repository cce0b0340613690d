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
from rater.store import Store, catalog
from .validation import check_name, unregistered_prompt_error

__all__ = ["EvaluationResult", "add_model_media"]


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


def _check_copies(store: Store, leaderboard_id: str, name: str, files: list[MediaFile], strict: bool,
                  at: Callable[[int, str], str]) -> None:
    """Warn about (``strict``: refuse) files another model on the board already has."""
    others = catalog.models_with_blobs(store.conn, leaderboard_id, {f.sha256 for f in files}, name)
    copies = [(i, f) for i, f in enumerate(files) if f.sha256 in others]
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
    warnings.warn(f"{message} (added anyway; strict refuses it)", DuplicateMediaWarning, stacklevel=4)


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
    """Validate every item, copy the files, then store every row in one transaction, or nothing.

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
    remove_stale_temp_files(store.media_dir)  # what killed uploads left, an hour or more ago
    media_list = _as_list(media, "media")
    prompt_list = _as_list(prompts, "prompts")
    if not media_list:
        raise ValidationError("media is empty: give at least one media file")
    if len(media_list) != len(prompt_list):
        raise ValidationError(
            f"media and prompts must have the same length: got {len(media_list)} media "
            f"and {len(prompt_list)} prompts"
        )
    if sources is not None and len(sources) != len(media_list):
        raise ValidationError(f"sources must name each of the {len(media_list)} media, got {len(sources)}")

    def at(i: int, what: str) -> str:
        return f"{what}[{i}]" if sources is None else sources[i]

    registered = {p["text"]: p["id"] for p in catalog.list_prompts(store.conn, leaderboard_id)}
    for i, prompt in enumerate(prompt_list):
        if not isinstance(prompt, str):
            raise ValidationError(f"{at(i, 'prompts')} must be text, got {type(prompt).__name__}")
        if prompt not in registered:
            raise unregistered_prompt_error(prompt, list(registered), at(i, "prompts"))

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

    existing = catalog.media_keys(store.conn, leaderboard_id, name)
    seen: dict[tuple[int, str], int] = {}
    for i, (file, prompt) in enumerate(zip(files, prompt_list)):
        key = (registered[str(prompt)], file.sha256)
        if key in seen:
            raise MediaError(
                f"{at(i, 'media')} ({file.source}) is the same file as {at(seen[key], 'media')} for "
                f"prompt {prompt!r}: one model may not submit identical media twice for a prompt"
            )
        if key in existing:
            raise MediaError(
                f"{at(i, 'media')} ({file.source}) is already stored for model {name!r} and prompt "
                f"{prompt!r}"
            )
        seen[key] = i
    _check_copies(store, leaderboard_id, name, files, strict, at)

    now = time.time()
    with write_with_blobs(store, files) as (conn, new_files):
        is_new = name not in {m["name"] for m in catalog.list_models(conn, leaderboard_id)}
        model_id = catalog.get_or_create_model(conn, leaderboard_id, name, now)
        for file, prompt in zip(files, prompt_list):
            catalog.insert_blob(conn, file.sha256, file.kind, file.mime, file.ext, file.size)
            catalog.insert_media(
                conn, leaderboard_id, model_id, registered[str(prompt)], file.sha256,
                file.source.name, now,
            )
    return EvaluationResult(name, len(files), is_new, new_files)
