"""Media files: recognising them by content, limiting their size, storing them by hash.

``recognise`` checks a file (images decoded by Pillow, video and audio parsed by FFmpeg in
``streams``), ``limits`` holds the size limits, ``blobs`` copies files into the
content-addressed store beside the database, and ``previews`` makes the downscaled copies of
large images that raters are shown.
"""

from .blobs import blob_path, remove_created, store_blob, write_with_blobs
from .limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, check_limit
from .previews import PREVIEW_SIDE, display_file, make_preview, preview_path
from .recognise import MediaFile, inspect_media

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "PREVIEW_SIDE",
    "MediaFile",
    "blob_path",
    "check_limit",
    "display_file",
    "inspect_media",
    "make_preview",
    "preview_path",
    "remove_created",
    "store_blob",
    "write_with_blobs",
]
