"""A media file checked for storing: what :func:`~rater.intake.media.inspect_media` returns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["MediaFile"]


@dataclass(frozen=True)
class MediaFile:
    """A validated media file, not yet stored (its bytes stay in ``source``)."""

    source: Path
    sha256: str
    kind: str  # "image", "video", "audio" or "text"
    mime: str
    ext: str
    size: int
    width: int = 0  # pixels, for images and video; 0 for audio and text
    height: int = 0

    @property
    def stored_name(self) -> str:
        """The file name in the media store: content hash plus the detected extension."""
        return f"{self.sha256}.{self.ext}"
