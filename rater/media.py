"""Recognising media files by their content and keeping them in a content-addressed store.

A file is accepted when its bytes say it is an image, a video or an audio clip, whatever its
name says: a text file renamed ``.png`` is refused, a PNG named ``.jpg`` is stored as PNG.
Images are fully decoded with Pillow so truncated or corrupt files are caught at upload time,
not when a rater is looking at a broken picture.

Stored files live at ``<media_dir>/<sha[:2]>/<sha256>.<ext>``: the same bytes are stored once,
and the originals may be deleted after upload.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

from .errors import MediaError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MediaFile",
    "blob_path",
    "inspect_media",
    "remove_created",
    "store_blob",
]

DEFAULT_MAX_BYTES = 512 * 1024 * 1024  # 512 MiB: generous for video, a guard against accidents

_IMAGE_FORMATS = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
    "BMP": ("image/bmp", "bmp"),
}


@dataclass(frozen=True)
class MediaFile:
    """A validated media file, not yet stored."""

    source: Path
    sha256: str
    kind: str  # "image", "video" or "audio"
    mime: str
    ext: str
    size: int
    data: bytes

    @property
    def stored_name(self) -> str:
        """The file name in the media store: content hash plus the detected extension."""
        return f"{self.sha256}.{self.ext}"


def _read(path: Path, max_bytes: int) -> bytes:
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
    try:
        return path.read_bytes()
    except OSError as exc:
        raise MediaError(f"cannot read media file {path}: {exc.strerror or exc}") from None


def _sniff(data: bytes) -> tuple[str, str, str] | None:
    """(kind, mime, ext) from magic bytes, or None."""
    head = data[:64]
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
        if b"webm" in data[:64]:
            return ("video", "video/webm", "webm")
        return ("video", "video/x-matroska", "mkv")
    if head.startswith(b"fLaC"):
        return ("audio", "audio/flac", "flac")
    if head.startswith(b"OggS"):
        if b"\x80theora" in data[:512]:
            return ("video", "video/ogg", "ogv")
        return ("audio", "audio/ogg", "ogg")
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return ("audio", "audio/mpeg", "mp3")
    return None


def _check_image(path: Path, data: bytes) -> tuple[str, str]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            img.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()  # verify() misses truncation; decoding every pixel does not
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise MediaError(f"media file is a corrupt or truncated image: {path} ({exc})") from None
    except Image.DecompressionBombError as exc:
        raise MediaError(f"image is too large to decode safely: {path} ({exc})") from None
    if fmt not in _IMAGE_FORMATS:
        raise MediaError(
            f"unsupported image format {fmt or 'unknown'} in {path}: use PNG, JPEG, GIF, WebP or BMP"
        )
    return _IMAGE_FORMATS[fmt]


def _check_wav(path: Path, data: bytes) -> None:
    try:
        with wave.open(io.BytesIO(data)) as clip:
            frames = clip.getnframes()
            if clip.getframerate() <= 0:
                raise wave.Error("sample rate is zero")
    except (wave.Error, EOFError) as exc:
        # Non-PCM WAVs (float, ADPCM) are legitimate but not readable by ``wave``; accept
        # them when the RIFF size is consistent.
        declared = int.from_bytes(data[4:8], "little") + 8
        if "unknown format" in str(exc) and declared <= len(data):
            return
        raise MediaError(f"media file is a corrupt WAV file: {path} ({exc})") from None
    if frames == 0:
        raise MediaError(f"WAV file has no audio frames: {path}")


def inspect_media(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> MediaFile:
    """Read and validate one media file, recognising its type from its content.

    :param path: the file to read.
    :param max_bytes: files larger than this are refused.
    :raises MediaError: missing, a directory, empty, too large, unreadable, corrupt, or not an
        image, video or audio file.
    """
    p = Path(path)
    data = _read(p, max_bytes)
    sniffed = _sniff(data)
    if sniffed is None:
        raise MediaError(
            f"not a supported media file: {p} (its content is not an image, video or audio "
            "format we know: PNG, JPEG, GIF, WebP, BMP, MP4, MOV, WebM, MKV, AVI, OGG, WAV, "
            "MP3, FLAC, M4A)"
        )
    kind, mime, ext = sniffed
    if kind == "image":
        mime, ext = _check_image(p, data)
    elif ext == "wav":
        _check_wav(p, data)
    elif len(data) < 32:
        raise MediaError(f"media file is truncated ({len(data)} bytes): {p}")
    return MediaFile(
        source=p,
        sha256=hashlib.sha256(data).hexdigest(),
        kind=kind,
        mime=mime,
        ext=ext,
        size=len(data),
        data=data,
    )


def blob_path(media_dir: Path, sha256: str, ext: str) -> Path:
    """Where the blob with this hash lives in the media store."""
    return media_dir / sha256[:2] / f"{sha256}.{ext}"


def store_blob(media_dir: Path, media: MediaFile) -> list[Path]:
    """Write ``media`` into the store atomically; return what was created (folders, then file).

    Nothing is returned when the blob was already stored. The caller passes the list to
    :func:`remove_created` if the surrounding database transaction fails, so a failed upload
    leaves the media store exactly as it was.
    """
    target = blob_path(media_dir, media.sha256, media.ext)
    if target.exists():
        return []
    created = [d for d in (media_dir, target.parent) if not d.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(media.data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        remove_created(created)
        raise
    return [*created, target]


def remove_created(paths: list[Path]) -> None:
    """Undo :func:`store_blob`: delete the files and folders it reported, newest first."""
    for path in reversed(paths):
        with contextlib.suppress(OSError):
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink()
