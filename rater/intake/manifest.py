"""Reading the files the CLI takes: a model's media manifest and a benchmark's prompt file.

**Media manifests**, chosen by extension:

* CSV (``.csv``) with a header row naming exactly the columns ``media`` and ``prompt``;
* JSON Lines (``.jsonl``), one object per line with exactly the keys ``media`` and ``prompt``.

With ``identifiers=True`` (``rater participant add``) the column ``identifier`` may stand
instead of ``prompt``: media are then matched to a benchmark's prompts by identifier.

Relative media paths are resolved against the manifest's folder, and every media file must
be inside that folder: no ``..``, no absolute path elsewhere, no symlink pointing out of it (a
manifest from somewhere else must not reach into arbitrary folders). ``allow_outside=True``
(``add-model --allow-outside``) lifts that rule for a manifest you wrote yourself.

**Prompt files** (:func:`read_prompt_file`, for ``rater benchmark create`` and ``add-prompts``):

* plain text (``.txt``): one prompt per line, blank lines skipped (the text is the identifier);
* JSON Lines (``.jsonl``): one object per line with the keys ``prompt`` (text), ``identifier``
  (default: the text), ``asset`` (a file path, relative to the prompt file's folder, under the
  same rule as media) and ``tags`` (a list of strings or ``{"value": ..., "category": ...}``),
  every key but one of ``prompt``/``asset`` optional;
* CSV (``.csv``): a header naming some of ``identifier, prompt, asset, tags``, tags separated
  by ``;``.

Each item remembers its file and line (1-based, counting a CSV's header line, as an editor
shows it), so an error about it later names ``manifest out/m.csv, line 3``, not an index.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rater.errors import ValidationError
from rater.formats import json_objects
from rater.intake.validation import MAX_TAG_LENGTH, check_name, check_text

__all__ = ["MANIFEST_COLUMNS", "PROMPT_COLUMNS", "Manifest", "PromptFile", "read_manifest", "read_prompt_file"]

MANIFEST_COLUMNS = ("media", "prompt")
PROMPT_COLUMNS = ("identifier", "prompt", "asset", "tags")
_HINT = "add-model --allow-outside allows it"


@dataclass(frozen=True)
class Manifest:
    """Parallel lists: each media path, its prompt (or, from an ``identifier`` column, its
    identifier: then ``prompts`` is empty), and where it is written (file and line)."""

    media: list[Path]
    prompts: list[str]
    sources: list[str]
    identifiers: list[str] | None = None

    def matched_by(self) -> dict[str, list[str]]:
        """``{"identifiers": [...]}`` or ``{"prompts": [...]}``, as ``Benchmark.add_model`` takes them."""
        return {"prompts": self.prompts} if self.identifiers is None else {"identifiers": self.identifiers}


@dataclass(frozen=True)
class PromptFile:
    """Parallel lists of a prompt file's prompts (see the module docstring). ``assets`` is None
    when no line names one; a tag is ``(value, category or None)``."""

    identifiers: list[str]
    prompts: list[str | None]
    assets: list[Path | None] | None
    tags: list[list[tuple[str, str | None]]]
    sources: list[str]


def _resolve(base: Path, raw: str, where: str, allow_outside: bool, hint: str = _HINT,
             what: str = "media") -> Path:
    if not raw.strip():
        raise ValidationError(f"{where}: the {what} path is empty")
    path = Path(raw)
    resolved = path if path.is_absolute() else base / path
    if allow_outside:
        return resolved
    if ".." in path.parts:
        raise ValidationError(
            f"{where}: {what} path {raw!r} contains '..'; paths may not leave the manifest's folder ({hint})"
        )
    real, folder = os.path.realpath(resolved), os.path.realpath(base)
    if os.path.commonpath([real, folder]) != folder:
        how = "an absolute path to" if path.is_absolute() else "a symlink to"
        raise ValidationError(
            f"{where}: {what} path {raw!r} is {how} {real}, outside the manifest's folder {folder} ({hint})"
        )
    return resolved


def _check_columns(found: list[str], where: str, columns: tuple[str, ...] = MANIFEST_COLUMNS,
                   expected: str = "media, prompt") -> None:
    missing = [c for c in columns if c not in found]
    extra = [c for c in found if c not in columns]
    if missing:
        raise ValidationError(f"{where}: missing column(s) {', '.join(missing)} (expected exactly: {expected})")
    if extra:
        raise ValidationError(f"{where}: unexpected column(s) {', '.join(map(repr, extra))} (expected exactly: {expected})")


def _read_text(path: Path, what: str) -> str:
    if not path.is_file():
        raise ValidationError(f"{what} not found: {path}")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{what} {path} is not UTF-8 text (byte {exc.start}: {exc.reason})") from None


def _records(path: Path, text: str, what: str, check: Callable[[list[str], str], None],
             expected: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, record)`` for each non-blank CSV row or JSONL object; ``check(columns, where)``
    vets a CSV's header once, each JSONL object's keys."""
    if path.suffix.lower() == ".csv":
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if header is None:
            raise ValidationError(f"{what} {path} is empty")
        names = [h.strip() for h in header]
        check(names, f"{what} {path}")
        end = reader.line_num
        for row in reader:
            # A record starts on the line after the previous one ended (a quoted field may span lines).
            line_no, end = end + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            where = f"{what} {path}, line {line_no}"
            if len(row) != len(header):
                raise ValidationError(f"{where}: expected {len(header)} fields, found {len(row)}")
            yield where, dict(zip(names, row))
    else:
        for line_no, item in json_objects(text, f"{what} {path}", ValidationError, expected):
            where = f"{what} {path}, line {line_no}"
            check(list(item), where)
            yield where, item


def read_manifest(path: str | Path, *, allow_outside: bool = False, identifiers: bool = False,
                  hint: str = _HINT) -> Manifest:
    """Parse a manifest into parallel lists of media paths, prompts and their file and line.

    :param allow_outside: accept media outside the manifest's folder (absolute paths, ``..``,
        symlinks pointing elsewhere).
    :param identifiers: accept an ``identifier`` column instead of ``prompt`` (the whole file
        uses one or the other); the values land in :attr:`Manifest.identifiers`.
    :param hint: how to lift the folder rule, named in its errors.
    :raises ValidationError: unknown format, undecodable text (must be UTF-8), missing or extra
        columns, a malformed line, or (unless ``allow_outside``) a path that leaves the
        manifest's folder.
    """
    path = Path(path)
    text = _read_text(path, "manifest")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise ValidationError(f"manifest {path}: unknown format {suffix or '(no extension)'}; use .csv or .jsonl")
    key: list[str] = []  # "prompt" or "identifier", fixed by the header or the first object
    expected = "media, prompt" + (" (or media, identifier)" if identifiers else "")

    def check(found: list[str], where: str) -> None:
        if not key:
            key.append("identifier" if identifiers and "identifier" in found and "prompt" not in found else "prompt")
        _check_columns(found, where, ("media", key[0]), expected)

    media: list[Path] = []
    keys: list[str] = []
    sources: list[str] = []
    for where, item in _records(path, text, "manifest", check, "an object with keys media and prompt"):
        sources.append(where)
        if not isinstance(item["media"], str) or not isinstance(item[key[0]], str):
            raise ValidationError(f"{where}: media and {key[0]} must be strings")
        media.append(_resolve(path.parent, item["media"], where, allow_outside, hint))
        keys.append(item[key[0]])
    if not media:
        raise ValidationError(f"manifest {path} lists no media")
    if key[0] == "identifier":
        return Manifest(media, [], sources, keys)
    return Manifest(media, keys, sources)


def _tags(raw: object, where: str, csv_cell: bool) -> list[tuple[str, str | None]]:
    if csv_cell:
        return [(t.strip(), None) for t in str(raw).split(";") if t.strip()]
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationError(f"{where}: tags must be a list, got {type(raw).__name__}")
    out: list[tuple[str, str | None]] = []
    for tag in raw:
        if isinstance(tag, str):
            out.append((tag, None))
        elif isinstance(tag, dict) and set(tag) <= {"value", "category"} and isinstance(tag.get("value"), str) \
                and isinstance(tag.get("category", ""), (str, type(None))):
            out.append((tag["value"], tag.get("category")))
        else:
            raise ValidationError(f"{where}: a tag must be a string or {{\"value\": ..., \"category\": ...}}, got {tag!r}"[:300])
    return out


def read_prompt_file(path: str | Path, *, allow_outside: bool = False, hint: str = "--allow-outside allows it") -> PromptFile:
    """Parse a prompt file (``.txt``, ``.jsonl`` or ``.csv``; see the module docstring).

    :param allow_outside: accept assets outside the file's folder.
    :raises ValidationError: unknown format, not UTF-8, an unknown column or key, a line with
        neither a prompt nor an asset, an asset-only line without an identifier, a repeated
        identifier, a path leaving the folder (unless ``allow_outside``), or no prompt at all.
    """
    path = Path(path)
    text = _read_text(path, "prompt file")
    suffix = path.suffix.lower()
    out = PromptFile([], [], [], [], [])
    if suffix == ".txt":
        # Split on newlines only: str.splitlines() would also split on U+2028 inside a prompt.
        for line_no, line in enumerate(text.split("\n"), 1):
            line = line.removesuffix("\r")
            if line.strip():
                _add_prompt(out, {"prompt": line}, [], f"prompt file {path}, line {line_no}", path.parent, False, hint)
    elif suffix in (".csv", ".jsonl", ".ndjson"):
        def check(found: list[str], where: str) -> None:
            extra = [c for c in found if c not in PROMPT_COLUMNS]
            if extra:
                raise ValidationError(f"{where}: unexpected column(s) {', '.join(map(repr, extra))} "
                                      f"(expected some of: {', '.join(PROMPT_COLUMNS)})")
            if suffix == ".csv" and "prompt" not in found and "asset" not in found:
                raise ValidationError(f"{where}: needs a prompt or an asset column")

        for where, item in _records(path, text, "prompt file", check, "an object with a prompt or an asset"):
            if suffix == ".csv":
                item = {k: v for k, v in item.items() if v.strip()}
            tags = _tags(item.get("tags", ""), where, True) if suffix == ".csv" else _tags(item.get("tags"), where, False)
            _add_prompt(out, item, tags, where, path.parent, allow_outside, hint)
    else:
        raise ValidationError(f"prompt file {path}: unknown format {suffix or '(no extension)'}; "
                              "use .txt (one prompt per line), .jsonl or .csv")
    if not out.identifiers:
        raise ValidationError(f"prompt file {path} lists no prompts")
    if all(a is None for a in out.assets or []):
        out = PromptFile(out.identifiers, out.prompts, None, out.tags, out.sources)
    return out


def _add_prompt(out: PromptFile, item: dict[str, Any], tags: list[tuple[str, str | None]], where: str, base: Path,
                allow_outside: bool, hint: str) -> None:
    text, ident, asset = item.get("prompt"), item.get("identifier"), item.get("asset")
    for name, value in (("prompt", text), ("identifier", ident), ("asset", asset)):
        if value is not None and not isinstance(value, str):
            raise ValidationError(f"{where}: {name} must be a string, got {type(value).__name__}")
    if not text and not asset:
        raise ValidationError(f"{where}: give a prompt or an asset")
    for name, value in (("prompt", text), ("identifier", ident)):
        if value is not None:
            check_text(value, f"{where}: {name}")
    for value, category in tags:
        check_name(value, f"{where}: tag", max_length=MAX_TAG_LENGTH)
        if category is not None:
            check_name(category, f"{where}: tag category", max_length=MAX_TAG_LENGTH)
    if ident is None:
        if not text:
            raise ValidationError(f"{where}: a prompt that is only an asset needs an identifier")
        ident = text
    if ident in out.identifiers:
        raise ValidationError(f"{where}: identifier {ident!r} repeats {out.sources[out.identifiers.index(ident)]} "
                              "(identifiers must be unique: a text that repeats needs an identifier per line, in a .jsonl or .csv file)")
    out.identifiers.append(ident)
    out.prompts.append(text or None)
    out.assets.append(None if not asset else _resolve(base, asset, where, allow_outside, hint, "asset"))  # type: ignore[union-attr]
    out.tags.append(tags)
    out.sources.append(where)
