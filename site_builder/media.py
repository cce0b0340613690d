"""Media in the site: content-hash names, copied once, with thumbnails for large images.

Files live at ``media/<sha[:2]>/<sha256>.<ext>``, ``ext`` named by the content type the
store recorded for the blob (never by an extension a file arrived with; a type we do not
publish as media gets ``.bin``, which hosts serve as a download), and thumbnails at
``thumbs/<sha[:2]>/<sha256>-<size>.webp``. Because names are content hashes, a file of the
previous build is the same file in the next one: it is hard-linked from the previous site
(copied where links are not possible), so a rebuild copies only media that changed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["HEADERS", "MIME_EXTENSIONS", "MediaItem", "SiteMedia", "TextExcerpt", "link_or_copy",
           "place_media", "text_excerpt", "write_headers"]

#: The published extension of each content type the store accepts.
MIME_EXTENSIONS = {
    "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp",
    "image/bmp": "bmp", "video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm",
    "video/x-matroska": "mkv", "video/x-msvideo": "avi", "video/ogg": "ogv",
    "audio/ogg": "ogg", "audio/wav": "wav", "audio/mpeg": "mp3", "audio/flac": "flac",
    "audio/mp4": "m4a", "text/plain; charset=utf-8": "txt",
}
#: ``_headers`` for hosts that read one (Netlify, Cloudflare Pages): browsers must take each
#: file's type from its extension, never guess it from the content.
HEADERS = "/*\n  X-Content-Type-Options: nosniff\n"

#: Thumbnails fit in this many pixels; images of at least this many bytes get one.
THUMB_PX = 360
THUMB_MIN_BYTES = 60_000


@dataclass(frozen=True)
class MediaItem:
    """One stored blob as the site sees it."""

    sha256: str
    ext: str
    kind: str  # image, video, audio or text
    mime: str
    source: Path  # the blob in the rater media store

    @property
    def href(self) -> str:
        """Path of the full file, relative to the site root (its extension from ``mime``)."""
        return f"media/{self.sha256[:2]}/{self.sha256}.{MIME_EXTENSIONS.get(self.mime, 'bin')}"

    @property
    def thumb_href(self) -> str:
        """Path the thumbnail would have, relative to the site root."""
        return f"thumbs/{self.sha256[:2]}/{self.sha256}-{THUMB_PX}.webp"


@dataclass
class SiteMedia:
    """What :func:`place_media` did: thumbnails available and files copied or linked."""

    thumbs: dict[str, str]  # sha256 -> thumbnail href (only images that got one)
    placed: set[str] = field(default_factory=set)
    copied: int = 0
    linked: int = 0
    thumbs_made: int = 0
    missing: int = 0

    def preview(self, item: MediaItem) -> str:
        """The href to show in a page: the thumbnail when there is one, else the file."""
        return self.thumbs.get(item.sha256, item.href)


@dataclass(frozen=True)
class TextExcerpt:
    """The start of a text medium, as a page shows it (escaped by the template, never HTML)."""

    text: str  # at most the limit's characters
    chars: int  # the whole text's length in characters

    @property
    def cut(self) -> bool:
        """Whether the page shows less than the whole text (the file has it all)."""
        return len(self.text) < self.chars


def text_excerpt(source: Path, limit: int) -> TextExcerpt | None:
    """The first ``limit`` characters of a stored text, read now (a page holds only what it
    shows, never every text of a board at once); None when the file cannot be read. A byte that
    is not UTF-8 (a blob edited on disk) shows as U+FFFD."""
    try:
        text = source.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None
    return TextExcerpt(text[:limit], len(text))


def write_headers(site: Path) -> None:
    """Write ``_headers`` (see :data:`HEADERS`) at the top of ``site``."""
    (site / "_headers").write_text(HEADERS, encoding="ascii")


def link_or_copy(source: Path, target: Path) -> bool:
    """Hard-link ``source`` to ``target`` (True) or copy it when linking fails (False)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
        return True
    except OSError:
        shutil.copyfile(source, target)
        return False


def _needs_thumb(item: MediaItem) -> bool:
    """Thumbnails exist to save bytes: only images of at least ``THUMB_MIN_BYTES`` get one
    (decided without decoding, so small images cost nothing)."""
    if item.kind != "image" or item.mime == "image/gif":  # keep animations as they are
        return False
    try:
        return item.source.stat().st_size >= THUMB_MIN_BYTES
    except OSError:
        return False


def _make_thumb(source: Path, target: Path) -> None:
    from PIL import Image, ImageOps

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    with Image.open(source) as img:
        img = ImageOps.exif_transpose(img)
        img.thumbnail((THUMB_PX, THUMB_PX))
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
        img.save(tmp, "WEBP", quality=80, method=4)
    os.replace(tmp, target)


def place_media(
    items: Iterable[MediaItem],
    site: Path,
    previous: Path | None,
    result: SiteMedia | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SiteMedia:
    """Put every media file (and thumbnail) into ``site``, reusing ``previous`` where it can.

    :param site: the folder being built.
    :param previous: the currently published site, whose files are linked instead of copied.
    :param result: what earlier calls of this build placed (those files are skipped).
    :param progress: called with ``(done, total)`` now and then.
    """
    result = result if result is not None else SiteMedia(thumbs={})
    unique = {item.sha256: item for item in items if item.sha256 not in result.placed}
    total = len(unique)
    for done, item in enumerate(unique.values(), 1):
        if progress and (done % 500 == 0 or done == total):
            progress(done, total)
        result.placed.add(item.sha256)
        target = site / item.href
        old = previous / item.href if previous else None
        if old is not None and old.is_file():
            if link_or_copy(old, target):
                result.linked += 1
            else:
                result.copied += 1
            thumb_old = previous / item.thumb_href  # type: ignore[operator]
            if thumb_old.is_file():
                link_or_copy(thumb_old, site / item.thumb_href)
                result.thumbs[item.sha256] = item.thumb_href
            continue
        if not item.source.is_file():
            result.missing += 1
            continue
        if link_or_copy(item.source, target):
            result.linked += 1
        else:
            result.copied += 1
        if _needs_thumb(item):
            thumb = site / item.thumb_href
            try:
                _make_thumb(item.source, thumb)
            except OSError:
                continue  # an image Pillow cannot re-encode is shown full size
            if thumb.stat().st_size >= item.source.stat().st_size:
                thumb.unlink()  # no saving: show the original
                continue
            result.thumbs[item.sha256] = item.thumb_href
            result.thumbs_made += 1
    return result
