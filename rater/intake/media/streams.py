"""Checking that a video or audio file really is one: FFmpeg (through PyAV) parses it.

Magic bytes alone are not enough: HTML after an ``ftypisom``, ``ID3`` or ``OggS`` prefix would be
stored and published as MP4, MP3 or OGG. A file passes when

* FFmpeg's demuxer for the format its first bytes name (never a guessed one: no playlists, no
  other files or URLs are opened) reads the container;
* it has a stream of its kind (a video stream that is not just cover art, or an audio stream),
  within the pixel limit for video;
* the first frame of that stream decodes; and
* every packet of that stream can be read to the end, and, where the container declares the
  duration up front (MP4/MOV/M4A, Matroska/WebM, AVI, FLAC, WAV), the packets reach it: a
  truncated download is refused instead of playing half a clip.

Only packets are read after the first frame (no decoding), in FFmpeg's own buffers, so checking
a 400 MB video reads it once and holds a few megabytes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rater.errors import MediaError
from .limits import pixel_limit_error

__all__ = ["check_stream_media"]

#: FFmpeg's demuxer for each format we recognise by its first bytes.
_DEMUXERS = {
    "mp4": "mov", "mov": "mov", "m4a": "mov", "webm": "matroska", "mkv": "matroska",
    "avi": "avi", "ogg": "ogg", "ogv": "ogg", "wav": "wav", "mp3": "mp3", "flac": "flac",
}
#: Containers whose header states the duration, so missing packets show truncation.
_DECLARES_DURATION = {"mp4", "mov", "m4a", "webm", "mkv", "mka", "avi", "flac", "wav"}
#: A video container holding audio only is stored as what it is.
_AUDIO_ONLY = {"mp4": ("audio/mp4", "m4a"), "mov": ("audio/mp4", "m4a"),
               "webm": ("audio/webm", "webm"), "mkv": ("audio/x-matroska", "mka"),
               "ogv": ("audio/ogg", "ogg")}
_NAMES = {"mp4": "MP4", "mov": "MOV", "m4a": "M4A", "webm": "WebM", "mkv": "MKV", "mka": "MKA",
          "avi": "AVI", "ogg": "OGG", "ogv": "OGG", "wav": "WAV", "mp3": "MP3", "flac": "FLAC"}


def _reason(exc: BaseException) -> str:
    """FFmpeg's complaint on one line, without the ``file:`` URL it was given."""
    reason = getattr(exc, "strerror", None) or str(exc)
    log = getattr(exc, "log", None)
    if log and len(log) == 3 and log[2]:
        reason = f"{reason}: {log[2]}"
    return " ".join(str(reason).split())


def _wav_truncation(path: Path, size: int) -> str | None:
    """What is missing from a WAV whose data chunk promises more bytes than the file has."""
    with open(path, "rb") as fh:
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            header = fh.read(8)
            chunk, length = header[:4], int.from_bytes(header[4:8], "little")
            if chunk == b"data":
                if length in (0, 0xFFFFFFFF):  # streamed WAV: length unknown when written
                    return None
                missing = pos + 8 + length - size
                return f"its data chunk is {length:,} bytes, {missing:,} of them missing" if missing > 0 else None
            pos += 8 + length + (length & 1)
    return "it has no data chunk"


def _stream(container: Any, kind: str) -> Any | None:
    if kind == "video":
        import av

        cover = av.stream.Disposition.attached_pic
        return next((s for s in container.streams.video if not s.disposition & cover), None)
    return next(iter(container.streams.audio), None)


def _read_packets(container: Any, stream: Any) -> tuple[bool, int | None]:
    """Demux every packet of ``stream``; decode until one frame comes out.

    :returns: whether a frame decoded, and the end of the last packet (in ``stream.time_base``).
    """
    decoded, end = False, None
    for packet in container.demux(stream):
        if packet.pts is not None:
            packet_end = packet.pts + (packet.duration or 0)
            end = packet_end if end is None else max(end, packet_end)
        if not decoded:
            decoded = bool(stream.codec_context.decode(packet if packet.size else None))
    return decoded, end


def _truncated(container: Any, stream: Any, end: int | None) -> float:
    """Seconds of the declared duration the packets do not reach, beyond a small tolerance
    for encoder priming and rounding (0 when nothing is missing or nothing is declared)."""
    if stream.duration:
        declared = float(stream.duration * stream.time_base)
    elif container.duration:
        declared = container.duration / 1_000_000
    else:
        return 0.0
    reached = 0.0 if end is None else float((end - (stream.start_time or 0)) * stream.time_base)
    missing = declared - reached
    return missing if missing > 0.05 + 0.02 * declared else 0.0


def check_stream_media(
    path: Path, kind: str, mime: str, ext: str, size: int, max_pixels: int
) -> tuple[str, str, str, int, int]:
    """Parse a video or audio file; return ``(kind, mime, ext, width, height)``.

    ``kind``, ``mime`` and ``ext`` are what the first bytes said; a video container with only
    audio in it comes back as audio.

    :raises MediaError: not parseable as that format, no stream of its kind, nothing decodable,
        truncated, or a video frame larger than ``max_pixels``.
    """
    import av

    label = _NAMES.get(ext, ext.upper())
    if ext == "wav":
        missing = _wav_truncation(path, size)
        if missing:
            raise MediaError(f"media file is a truncated or corrupt WAV file: {path} ({missing})")
    try:
        with av.open(
            f"file:{os.path.abspath(path)}", format=_DEMUXERS[ext],
            options={"protocol_whitelist": "file"}, metadata_errors="ignore",
        ) as container:
            stream = _stream(container, kind)
            if stream is None and kind == "video" and ext in _AUDIO_ONLY:
                stream = _stream(container, "audio")
                if stream is not None:
                    kind, (mime, ext) = "audio", _AUDIO_ONLY[ext]
            if stream is None or stream.codec_context is None:
                found = ", ".join(s.type for s in container.streams) or "none"
                raise MediaError(f"{label} file has no {kind} stream: {path} (streams found: {found})")
            width = height = 0
            if kind == "video":
                width, height = stream.codec_context.width, stream.codec_context.height
                if width * height > max_pixels:
                    raise pixel_limit_error(path, "video", width * height, max_pixels, f"{width}x{height}")
            decoded, end = _read_packets(container, stream)
            if not decoded:
                raise MediaError(f"media file has no decodable {kind} in it: {path} (not a valid {label} file)")
            missing = _truncated(container, stream, end) if ext in _DECLARES_DURATION else 0.0
            if missing:
                raise MediaError(
                    f"media file is a truncated {label} file: {path} (its {kind} stops "
                    f"{missing:.2f} s before the end its header declares)"
                )
    except MediaError:
        raise
    except (av.error.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise MediaError(f"media file is a corrupt or truncated {label} file: {path} ({_reason(exc)})") from None
    return kind, mime, ext, width, height
