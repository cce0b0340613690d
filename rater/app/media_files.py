"""Which stored file the rating page shows for a medium, and the Content-Type it is served with."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from rater.intake.media import display_file

__all__ = ["SHOWN_FILES_KEPT", "media_format", "media_kind", "shown_file"]


def media_format(path: Path | str) -> str:
    """The MIME type of a stored medium (its Content-Type on ``/_rater/media``)."""
    mime, _ = mimetypes.guess_type(str(path))
    ext = Path(path).suffix.lower()
    return mime or {".webm": "video/webm", ".mkv": "video/x-matroska", ".flac": "audio/flac",
                    ".m4a": "audio/mp4", ".ogg": "audio/ogg"}.get(ext, "application/octet-stream")


#: How many stored media :func:`shown_file` remembers (a few hundred bytes each).
SHOWN_FILES_KEPT = 20_000
_shown: dict[Path, Path] = {}


def shown_file(path: Path) -> Path:
    """The file to show for a stored medium (:func:`rater.intake.media.display_file`: its
    preview when it is a large image, else itself), remembered per process: deciding it opens
    the image, and the rating page shows each medium on many reruns. A remembered file that is
    gone (a preview removed by ``rater gc``) is decided again; a missing one is not remembered.
    """
    found = _shown.get(path)
    if found is not None and found.is_file():
        return found
    found = display_file(path)
    if found.is_file():
        if len(_shown) >= SHOWN_FILES_KEPT:
            _shown.clear()
        _shown[path] = found
    return found


def media_kind(path: Path | str) -> str:
    """``"image"``, ``"video"``, ``"audio"`` or ``"text"`` from a stored file's extension."""
    top = media_format(path).split("/")[0]
    return top if top in ("image", "video", "audio", "text") else "image"
