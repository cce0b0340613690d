"""The size limits every uploaded media file is checked against, and how a breach is worded."""

from __future__ import annotations

from pathlib import Path

from rater.errors import MediaError, ValidationError

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_PIXELS", "DEFAULT_MAX_TEXT_BYTES", "check_limit",
           "pixel_limit_error"]

DEFAULT_MAX_BYTES = 512 * 1024 * 1024  # 512 MiB: generous for video, a guard against accidents
#: 50 megapixels: above an 8K frame (33 MP) and a 48 MP phone photo, the largest images a
#: generator or camera commonly makes, while decoding one still fits in ~200 MB (RGBA).
DEFAULT_MAX_PIXELS = 50_000_000
#: 200 KB of UTF-8: some 30,000 words, far beyond any answer a rater reads to the end, while a
#: pair of them still draws at once in the rater app and on a site page.
DEFAULT_MAX_TEXT_BYTES = 200_000


def check_limit(value: object, what: str, unit: str) -> int:
    """``value`` when it is a whole number >= 1, else a ValidationError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{what} must be a whole number of {unit} >= 1, got {value!r}")
    return value


def pixel_limit_error(path: Path, what: str, pixels: int, max_pixels: int, dims: str = "") -> MediaError:
    """The one-line refusal of an image or video with more pixels than ``max_pixels``."""
    shown = f"{dims} pixels" if dims else f"{pixels:,} pixels"
    return MediaError(
        f"{what} is too large: {path} is {shown} ({pixels / 1e6:.1f} megapixels), the limit is "
        f"{max_pixels:,} pixels (raise it with max_pixels= or add-model --max-pixels)"
    )
