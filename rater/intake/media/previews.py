"""Downscaled copies of large images, the files raters are shown.

A 50-megapixel original takes seconds and hundreds of megabytes to decode for every page view
it appears in, and the rater app shows at most 1,460 pixels of its width (Streamlit resamples
anything wider, every time, and re-encodes it: a JPEG at quality 90). So an image whose longest
side is above :data:`PREVIEW_SIDE` gets a preview, made once at upload, stored beside the
original and named after the original's hash: ``<sha256>.preview-1460.png`` (``.jpg`` for JPEG
originals, at quality 95 without chroma subsampling; every other format becomes lossless PNG).
The original stays for the published site's full-size link. Animated images keep their
original (a preview would drop the animation); video, audio and text media have none.

Media stored before previews existed get theirs the first time the rater app shows them
(:func:`display_file`); nothing needs migrating because the preview is keyed by the hash.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from pathlib import Path

__all__ = ["PREVIEW_SIDE", "display_file", "make_preview", "preview_path"]

#: The longest side of a preview, in pixels: Streamlit's widest image (``st.image`` resamples
#: wider ones), so a preview reaches the browser byte for byte as stored.
PREVIEW_SIDE = 1460
_IMAGE_EXTS = {"png", "jpg", "gif", "webp", "bmp"}


def preview_path(original: Path) -> Path:
    """Where the preview of a stored image lives (whether or not it was made)."""
    sha, _, ext = original.name.partition(".")
    kind = "jpg" if ext == "jpg" else "png"
    return original.with_name(f"{sha}.preview-{PREVIEW_SIDE}.{kind}")


def make_preview(original: Path) -> Path | None:
    """Write the preview of a stored image if it needs one; return it, or None if not needed.

    Atomic (a temporary file renamed into place), so two processes making the same preview at
    once, or a crash half-way, never leave a partial file under the preview's name.

    :raises OSError: the original cannot be read, or the preview cannot be written.
    :raises ValueError: Pillow cannot resize or save this image.
    """
    from PIL import Image, ImageOps

    target = preview_path(original)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # limited at upload
        with Image.open(original) as img:
            if max(img.size) <= PREVIEW_SIDE or getattr(img, "is_animated", False):
                return None
            icc = img.info.get("icc_profile")
            img.draft(None, (2 * PREVIEW_SIDE, 2 * PREVIEW_SIDE))  # JPEG: decode at 1/2..1/8
            small = ImageOps.exif_transpose(img)  # browsers honour EXIF rotation; keep it
    jpeg = target.suffix == ".jpg"
    keep = ("L", "RGB") if jpeg else ("L", "LA", "RGB", "RGBA")
    if small.mode not in keep:  # palette, 1-bit, CMYK, 16-bit...: resize and save in 8-bit
        alpha = small.mode.endswith(("A", "a")) or "transparency" in small.info
        small = small.convert("RGBA" if alpha and not jpeg else "RGB")
    small.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.LANCZOS)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as fh:
            options = {"quality": 95, "subsampling": 0} if jpeg else {}
            small.save(fh, format="JPEG" if jpeg else "PNG", icc_profile=icc, **options)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def display_file(original: Path) -> Path:
    """The file to show a rater for a stored medium: its preview when the original is a large
    image (made now if an older upload has none), else the original itself.

    Never raises: if the preview cannot be made (unreadable original, read-only media folder),
    the original is shown, as before previews existed.
    """
    if original.suffix.lstrip(".").lower() not in _IMAGE_EXTS or ".preview-" in original.name:
        return original
    preview = preview_path(original)
    if preview.is_file():
        return preview
    try:
        return make_preview(original) or original
    except (OSError, ValueError, SyntaxError):
        return original
