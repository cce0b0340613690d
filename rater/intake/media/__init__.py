"""Media files: recognising them by content, limiting their size, storing them by hash.

``recognise`` checks a file (images decoded by Pillow, video and audio parsed by FFmpeg in
``streams``, UTF-8 texts in ``texts``), ``limits`` holds the size limits, ``blobs`` copies files
into the content-addressed store beside the database, and ``previews`` makes the downscaled
copies of large images that raters are shown (texts have none).
"""

from .blobs import local_file, remove_created, store_blob, write_with_blobs
from .files import MediaFile
from .limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, DEFAULT_MAX_TEXT_BYTES, check_limit
from .previews import PREVIEW_SIDE, display_file, make_preview, preview_path
from .recognise import inspect_media
from .texts import TEXT_KIND, TEXT_MIME, read_text_blob, write_texts

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_TEXT_BYTES",
    "PREVIEW_SIDE",
    "TEXT_KIND",
    "TEXT_MIME",
    "MediaFile",
    "check_limit",
    "display_file",
    "inspect_media",
    "local_file",
    "make_preview",
    "preview_path",
    "read_text_blob",
    "remove_created",
    "store_blob",
    "write_texts",
    "write_with_blobs",
]
