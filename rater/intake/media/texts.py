"""Text media: a model's answer stored as a blob like any image, video or clip.

A text medium is the UTF-8 bytes of the text, content-hashed (SHA-256 of those bytes) and stored
as ``<sha256>.txt`` with kind ``text`` and type ``text/plain; charset=utf-8``: the same answer
given twice is stored once. It must be valid UTF-8, hold no NUL byte (a binary file, not text),
show something (not only whitespace or invisible characters) and stay within
:data:`~rater.intake.media.limits.DEFAULT_MAX_TEXT_BYTES`. Markdown files (``.md``) are stored the
same way: raters and the site show every text as plain text (see README "Text outputs").

Texts given as strings (the SDK's ``evaluate_model(..., data_type="text")``) are first written to
files by :func:`write_texts`, so they then take the path every medium takes.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from rater.errors import MediaError, ValidationError
from .limits import DEFAULT_MAX_TEXT_BYTES, check_limit
from .files import MediaFile

__all__ = [
    "TEXT_EXT",
    "TEXT_KIND",
    "TEXT_MIME",
    "TEXT_SUFFIXES",
    "inspect_text",
    "looks_like_text",
    "read_text_blob",
    "write_texts",
]

TEXT_KIND = "text"
TEXT_MIME = "text/plain; charset=utf-8"
TEXT_EXT = "txt"
#: The file names :func:`~rater.intake.media.inspect_media` reads as text (when their bytes are).
TEXT_SUFFIXES = (".txt", ".md")


def looks_like_text(head: bytes) -> bool:
    """Whether the first bytes of a file could be UTF-8 text (no NUL; a character cut at the
    end of ``head`` is fine). Binary media always fail this: their headers hold NUL bytes or
    bytes that are not UTF-8."""
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _check_bytes(data: bytes, what: str, max_bytes: int) -> None:
    """Refuse ``data`` as a text medium with a one-line MediaError naming ``what``."""
    if len(data) > max_bytes:
        raise MediaError(f"{what} is too large: {len(data):,} bytes of UTF-8 text, the limit is {max_bytes:,}")
    if b"\x00" in data:
        raise MediaError(f"{what} contains a NUL byte (at byte {data.index(0):,}): a binary file, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MediaError(
            f"{what} is not valid UTF-8 (byte {exc.start:,} is {data[exc.start:exc.start + 1]!r}): "
            "save it as UTF-8"
        ) from None
    if all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text):
        shown = "empty" if not text else "empty (only whitespace or invisible characters)"
        raise MediaError(f"{what} is {shown}: a text medium must show something")


def inspect_text(path: Path, size: int, max_bytes: int = DEFAULT_MAX_TEXT_BYTES) -> MediaFile:
    """Validate one text file of ``size`` bytes (as :func:`os.stat` gave it).

    :raises MediaError: larger than ``max_bytes``, unreadable, not UTF-8, a NUL byte, or empty.
    """
    what = f"text file {path}"
    if size > max_bytes:
        raise MediaError(f"{what} is too large: {size:,} bytes, the limit is {max_bytes:,}")
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)  # a file growing meanwhile is still refused
    except OSError as exc:
        raise MediaError(f"cannot read media file {path}: {exc.strerror or exc}") from None
    _check_bytes(data, what, max_bytes)
    return MediaFile(path, hashlib.sha256(data).hexdigest(), TEXT_KIND, TEXT_MIME, TEXT_EXT, len(data))


def write_texts(texts: Sequence[str], folder: Path, *, max_bytes: int = DEFAULT_MAX_TEXT_BYTES) -> list[Path]:
    """Write each text to ``folder/<i>.txt`` (UTF-8, exactly its characters) and return the paths,
    to be passed on as media; every text is checked before anything is written.

    :param texts: the texts themselves (an LLM's answers), one per prompt.
    :param folder: where to write them (made if missing); a file already there is never replaced.
    :param max_bytes: a text of more UTF-8 bytes than this is refused.
    :raises ValidationError: ``texts`` is not a list of str (naming ``media[i]``).
    :raises MediaError: a text is empty, too large, holds a NUL or a lone surrogate, or a file
        is in the way or cannot be written (then nothing written stays).
    """
    max_bytes = check_limit(max_bytes, "max_bytes", "bytes")
    if isinstance(texts, (str, bytes)):
        raise ValidationError(f"media must be a list of texts, got a single {type(texts).__name__}")
    items = list(texts)
    encoded: list[bytes] = []
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise ValidationError(f"media[{i}] must be a text (str), got {type(text).__name__}")
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise MediaError(
                f"media[{i}] cannot be stored as UTF-8: it holds a lone surrogate "
                f"({text[exc.start]!r} at character {exc.start:,})"
            ) from None
        _check_bytes(data, f"media[{i}]", max_bytes)
        encoded.append(data)
    paths = [folder / f"{i}.txt" for i in range(len(encoded))]
    if taken := [p for p in paths if p.exists() or p.is_symlink()]:
        raise MediaError(f"cannot write texts into {folder}: {taken[0]} already exists (use an empty folder)")
    written: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, data in zip(paths, encoded):
            with open(path, "xb") as fh:
                written.append(path)
                fh.write(data)
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        raise MediaError(f"cannot write texts into {folder}: {exc.strerror or exc}") from None
    return paths


@functools.lru_cache(maxsize=256)
def _read_blob(path: str) -> str:
    with open(path, "rb") as fh:
        return fh.read().decode("utf-8", errors="replace")


def read_text_blob(path: Path) -> str:
    """The text of a stored text medium (``<sha256>.txt``), for showing it.

    Cached by file name: a blob's name is the hash of its bytes, so a cached text is never stale
    (up to 256 texts, some 50 MB at the size limit). A byte that is not UTF-8 (a blob edited on
    disk) shows as U+FFFD instead of failing the page.

    :raises OSError: the file cannot be read (missing).
    """
    return _read_blob(str(path))
