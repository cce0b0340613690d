"""Reading a model's media manifest: which file was generated from which prompt.

Two formats, chosen by extension:

* CSV (``.csv``) with a header row naming exactly the columns ``media`` and ``prompt``;
* JSON Lines (``.jsonl``), one object per line with exactly the keys ``media`` and ``prompt``.

Relative media paths are resolved against the manifest's folder, and every media file must
be inside that folder: no ``..``, no absolute path elsewhere, no symlink pointing out of it (a
manifest from somewhere else must not reach into arbitrary folders). ``allow_outside=True``
(``add-model --allow-outside``) lifts that rule for a manifest you wrote yourself.

Each item remembers its file and line (1-based, counting a CSV's header line, as an editor
shows it), so an error about it later names ``manifest out/m.csv, line 3``, not an index.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

from rater.errors import ValidationError
from rater.formats import json_objects

__all__ = ["MANIFEST_COLUMNS", "Manifest", "read_manifest"]

MANIFEST_COLUMNS = ("media", "prompt")


@dataclass(frozen=True)
class Manifest:
    """Parallel lists: each media path, its prompt, and where it is written (file and line)."""

    media: list[Path]
    prompts: list[str]
    sources: list[str]


def _resolve(base: Path, raw: str, where: str, allow_outside: bool) -> Path:
    if not raw.strip():
        raise ValidationError(f"{where}: the media path is empty")
    path = Path(raw)
    resolved = path if path.is_absolute() else base / path
    if allow_outside:
        return resolved
    if ".." in path.parts:
        raise ValidationError(
            f"{where}: media path {raw!r} contains '..'; paths may not leave the manifest's folder "
            "(add-model --allow-outside allows it)"
        )
    real, folder = os.path.realpath(resolved), os.path.realpath(base)
    if os.path.commonpath([real, folder]) != folder:
        how = "an absolute path to" if path.is_absolute() else "a symlink to"
        raise ValidationError(
            f"{where}: media path {raw!r} is {how} {real}, outside the manifest's folder "
            f"{folder} (add-model --allow-outside allows it)"
        )
    return resolved


def _check_columns(found: list[str], where: str) -> None:
    missing = [c for c in MANIFEST_COLUMNS if c not in found]
    extra = [c for c in found if c not in MANIFEST_COLUMNS]
    if missing:
        raise ValidationError(f"{where}: missing column(s) {', '.join(missing)} (expected exactly: media, prompt)")
    if extra:
        raise ValidationError(f"{where}: unexpected column(s) {', '.join(map(repr, extra))} (expected exactly: media, prompt)")


def read_manifest(path: str | Path, *, allow_outside: bool = False) -> Manifest:
    """Parse a manifest into parallel lists of media paths, prompts and their file and line.

    :param allow_outside: accept media outside the manifest's folder (absolute paths, ``..``,
        symlinks pointing elsewhere).
    :raises ValidationError: unknown format, undecodable text (must be UTF-8), missing or extra
        columns, a malformed line, or (unless ``allow_outside``) a path that leaves the
        manifest's folder.
    """
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"manifest not found: {path}")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"manifest {path} is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    base = path.parent
    media: list[Path] = []
    prompts: list[str] = []
    sources: list[str] = []
    suffix = path.suffix.lower()
    if suffix == ".csv":
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if header is None:
            raise ValidationError(f"manifest {path} is empty")
        _check_columns([h.strip() for h in header], f"manifest {path}")
        index = {h.strip(): i for i, h in enumerate(header)}
        end = reader.line_num
        for row in reader:
            # A record starts on the line after the previous one ended (a quoted field may span lines).
            line_no, end = end + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            where = f"manifest {path}, line {line_no}"
            sources.append(where)
            if len(row) != len(header):
                raise ValidationError(f"{where}: expected {len(header)} fields, found {len(row)}")
            media.append(_resolve(base, row[index["media"]], where, allow_outside))
            prompts.append(row[index["prompt"]])
    elif suffix in (".jsonl", ".ndjson"):
        for line_no, item in json_objects(
            text, f"manifest {path}", ValidationError, "an object with keys media and prompt"
        ):
            where = f"manifest {path}, line {line_no}"
            sources.append(where)
            _check_columns(list(item), where)
            if not isinstance(item["media"], str) or not isinstance(item["prompt"], str):
                raise ValidationError(f"{where}: media and prompt must be strings")
            media.append(_resolve(base, item["media"], where, allow_outside))
            prompts.append(item["prompt"])
    else:
        raise ValidationError(f"manifest {path}: unknown format {suffix or '(no extension)'}; use .csv or .jsonl")
    if not media:
        raise ValidationError(f"manifest {path} lists no media")
    return Manifest(media, prompts, sources)
