"""Adding a model's media to a leaderboard, all or nothing.

Every file is checked first (nothing is copied if one is bad), then the files are copied into
the media store, and only then does the write transaction open, for the row inserts alone: a
vote arriving meanwhile waits milliseconds, not for the copying (see
:func:`rater.intake.media.write_with_blobs`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rater.errors import MediaError, ValidationError
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


def add_model_media(
    store: Store,
    leaderboard_id: str,
    name: str,
    media: Sequence[str | os.PathLike[str]],
    prompts: Sequence[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> EvaluationResult:
    """Validate every item, copy the files, then store every row in one transaction, or nothing.

    :param max_bytes: files larger than this are refused.
    :param max_pixels: images and video frames with more pixels than this are refused.
    :raises ValidationError: bad name, list lengths differ, empty lists, an unregistered prompt,
        the same file twice for one prompt, or a media file that is missing, unsupported,
        corrupt, truncated or too large.
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
    registered = {p["text"]: p["id"] for p in catalog.list_prompts(store.conn, leaderboard_id)}
    for i, prompt in enumerate(prompt_list):
        if not isinstance(prompt, str):
            raise ValidationError(f"prompts[{i}] must be text, got {type(prompt).__name__}")
        if prompt not in registered:
            raise unregistered_prompt_error(prompt, list(registered), f"prompts[{i}]")

    files: list[MediaFile] = []
    for i, item in enumerate(media_list):
        if not isinstance(item, (str, os.PathLike)):
            raise MediaError(f"media[{i}] must be a file path, got {type(item).__name__}")
        files.append(inspect_media(Path(item), max_bytes=max_bytes, max_pixels=max_pixels))

    existing = catalog.media_keys(store.conn, leaderboard_id, name)
    seen: dict[tuple[int, str], int] = {}
    for i, (file, prompt) in enumerate(zip(files, prompt_list)):
        key = (registered[str(prompt)], file.sha256)
        if key in seen:
            raise MediaError(
                f"media[{i}] ({file.source}) is the same file as media[{seen[key]}] for prompt "
                f"{prompt!r}: one model may not submit identical media twice for a prompt"
            )
        if key in existing:
            raise MediaError(
                f"media[{i}] ({file.source}) is already stored for model {name!r} and prompt "
                f"{prompt!r}"
            )
        seen[key] = i

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
