"""Recognising media files by their content, without ever holding a whole file in memory.

A file is accepted when its bytes say it is an image, a video or an audio clip, whatever its
name says: a text file renamed ``.png`` is refused, a PNG named ``.jpg`` is stored as PNG. A
``.txt`` or ``.md`` file whose bytes are UTF-8 text is a text medium (an LLM's answer; see
:mod:`rater.intake.media.texts`).
Images are fully decoded with Pillow, after their pixel count has been checked from the header
(a small PNG can declare 13000x13000 pixels and need gigabytes to decode). Video and audio are
parsed by FFmpeg (see :mod:`rater.intake.media.streams`): the container must be complete and its first
frame must decode. Files are read in chunks, so memory does not grow with their size.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from rater.errors import MediaError
from .files import MediaFile
from .limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, DEFAULT_MAX_TEXT_BYTES, pixel_limit_error
from .streams import check_stream_media
from .texts import TEXT_SUFFIXES, inspect_text, looks_like_text

__all__ = ["MediaFile", "inspect_media"]

_IMAGE_FORMATS = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
    "BMP": ("image/bmp", "bmp"),
}


def _stat(path: Path, max_bytes: int) -> int:
    try:
        st = path.stat()  # follows links: a symlink loop raises ELOOP here
    except FileNotFoundError:
        raise MediaError(f"media file not found: {path}") from None
    except OSError as exc:
        raise MediaError(f"cannot read media file {path}: {exc.strerror or exc}") from None
    if path.is_dir():
        raise MediaError(f"media path is a directory, not a file: {path}")
    if not path.is_file():
        raise MediaError(f"media path is not a regular file: {path}")
    if st.st_size == 0:
        raise MediaError(f"media file is empty (0 bytes): {path}")
    if st.st_size > max_bytes:
        raise MediaError(
            f"media file is too large: {path} is {st.st_size:,} bytes, the limit is {max_bytes:,}"
        )
    return st.st_size


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[BinaryIO]:
    try:
        with open(path, "rb") as fh:
            yield fh
    except OSError as exc:
        raise MediaError(f"cannot read media file {path}: {exc.strerror or exc}") from None


def _sha256(path: Path) -> str:
    """The file's SHA-256, read in chunks."""
    with _opened(path) as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _sniff(head: bytes) -> tuple[str, str, str] | None:
    """(kind, mime, ext) from magic bytes, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") or head.startswith(b"\xff\xd8\xff"):
        return ("image", "", "")
    if head[:6] in (b"GIF87a", b"GIF89a") or head.startswith(b"BM"):
        return ("image", "", "")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ("image", "", "")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return ("audio", "audio/wav", "wav")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return ("video", "video/x-msvideo", "avi")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B ", b"M4P "):
            return ("audio", "audio/mp4", "m4a")
        if brand.startswith(b"qt"):
            return ("video", "video/quicktime", "mov")
        return ("video", "video/mp4", "mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        if b"webm" in head[:64]:
            return ("video", "video/webm", "webm")
        return ("video", "video/x-matroska", "mkv")
    if head.startswith(b"fLaC"):
        return ("audio", "audio/flac", "flac")
    if head.startswith(b"OggS"):
        if b"\x80theora" in head[:512]:
            return ("video", "video/ogg", "ogv")
        return ("audio", "audio/ogg", "ogg")
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return ("audio", "audio/mpeg", "mp3")
    return None


def _check_image(path: Path, max_pixels: int) -> tuple[str, str, int, int]:
    """(mime, ext, width, height) of a fully decodable image within the pixel limit."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below
            with Image.open(path) as img:  # reads the header only
                fmt, (width, height) = img.format or "", img.size
            if width * height > max_pixels:
                raise pixel_limit_error(path, "image", width * height, max_pixels, f"{width}x{height}")
            with Image.open(path) as img:
                img.verify()
            with Image.open(path) as img:
                img.load()  # verify() misses truncation; decoding every pixel does not
    except MediaError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own ceiling, checked at open
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise pixel_limit_error(path, "image", int(found[1]) if found else 0, max_pixels) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise MediaError(f"media file is a corrupt or truncated image: {path} ({exc})") from None
    if fmt not in _IMAGE_FORMATS:
        raise MediaError(
            f"unsupported image format {fmt or 'unknown'} in {path}: use PNG, JPEG, GIF, WebP or BMP"
        )
    return (*_IMAGE_FORMATS[fmt], width, height)


def inspect_media(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
) -> MediaFile:
    """Validate one media file, recognising its type from its content.

    A ``.txt`` or ``.md`` file whose bytes are text is a text medium (kind ``"text"``, see
    :mod:`rater.intake.media.texts`); any other file, or one so named whose bytes are an image,
    video or audio format, is recognised as before.

    :param path: the file to read.
    :param max_bytes: files larger than this are refused.
    :param max_pixels: images and video frames with more pixels than this are refused, checked
        from the header before anything is decoded.
    :param max_text_bytes: text files larger than this are refused.
    :raises MediaError: missing, a directory, empty, too large, unreadable, corrupt, truncated,
        not an image, video or audio file, or a text file that is not UTF-8, holds a NUL byte or
        shows nothing.
    """
    p = Path(path)
    size = _stat(p, max_bytes)
    with _opened(p) as fh:
        head = fh.read(4096)
    sniffed = _sniff(head)
    if p.suffix.lower() in TEXT_SUFFIXES and (sniffed is None or looks_like_text(head)):
        return inspect_text(p, size, max_text_bytes)
    if sniffed is None:
        raise MediaError(
            f"not a supported media file: {p} (its content is not an image, video or audio "
            "format we know: PNG, JPEG, GIF, WebP, BMP, MP4, MOV, WebM, MKV, AVI, OGG, WAV, "
            "MP3, FLAC, M4A; texts must be UTF-8 .txt or .md files)"
        )
    kind, mime, ext = sniffed
    try:
        if kind == "image":
            mime, ext, width, height = _check_image(p, max_pixels)
        else:
            kind, mime, ext, width, height = check_stream_media(p, kind, mime, ext, size, max_pixels)
    except MediaError:
        if p.suffix.lower() in TEXT_SUFFIXES:  # UTF-16 text can start like an MP3: say why it is not text
            inspect_text(p, size, max_text_bytes)
        raise
    return MediaFile(p, _sha256(p), kind, mime, ext, size, width, height)
