"""Real media files for the intake tests, made here (nothing is downloaded): video and audio
encoded with PyAV (FFmpeg's encoders inside the wheel), large images written row by row."""

from __future__ import annotations

import math
import struct
import wave
import zlib
from pathlib import Path

import av
import numpy as np

#: (file name, container, codec) of the video formats we support, each made by :func:`make_video`.
VIDEOS = [
    ("clip.mp4", "mp4", "libx264"),
    ("clip.mov", "mov", "mpeg4"),
    ("clip.webm", "webm", "libvpx"),
    ("clip.mkv", "matroska", "mpeg4"),
    ("clip.avi", "avi", "mpeg4"),
]
#: (file name, container, codec, sample rate) of the audio formats, made by :func:`make_audio`.
AUDIO = [
    ("tone.mp3", "mp3", "libmp3lame", 44100),
    ("tone.ogg", "ogg", "libopus", 48000),
    ("tone.flac", "flac", "flac", 44100),
    ("tone.m4a", "ipod", "aac", 44100),
    ("tone.wav", "wav", "pcm_s16le", 44100),
]


def make_video(path: Path, container: str, codec: str, *, frames: int = 10, size: tuple[int, int] = (64, 48),
               options: dict[str, str] | None = None) -> Path:
    """A short video of changing noise (so every frame costs bytes) at 10 frames per second."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(path.name))
    with av.open(str(path), "w", format=container, options=options or {}) as out:
        stream = out.add_stream(codec, rate=10)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for _ in range(frames):
            pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def make_audio(path: Path, container: str, codec: str, rate: int, *, seconds: float = 1.0) -> Path:
    """A mono 440 Hz tone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        step = stream.codec_context.frame_size or 1024
        total = int(seconds * rate)
        for start in range(0, total, step):
            n = min(step, total - start)
            tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(start, start + n) / rate)
            frame = av.AudioFrame.from_ndarray(tone.astype(np.float32).reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate, frame.pts = rate, start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def make_big_png(path: Path, width: int, height: int, *, level: int = 9) -> Path:
    """A valid grey PNG of any size, compressed 64 rows at a time (a 13000x13000 one is ~190 KB
    and is made without holding its pixels: the decompression bomb of the issue)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(level)
    row = b"\x00" + bytes([128]) * width  # filter byte, then grey pixels
    blocks, rest = divmod(height, 64)
    body = b"".join(packer.compress(row * 64) for _ in range(blocks)) + packer.compress(row * rest) + packer.flush()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )
    return path


def make_long_wav(path: Path, megabytes: int, freq: float = 440.0) -> Path:
    """A 16-bit mono 48 kHz WAV of about ``megabytes`` MB, written in chunks
    (``benchmarks/media_intake.py`` uses it too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    second = struct.pack("<48000h", *(int(8000 * math.sin(2 * math.pi * freq * i / 48000)) for i in range(48000)))
    with wave.open(str(path), "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(48000)
        for _ in range(megabytes * 1_000_000 // len(second)):
            clip.writeframes(second)
    return path


def truncated(source: Path, target: Path, share: float) -> Path:
    """The first ``share`` of ``source``'s bytes, as a broken download would leave them."""
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * share)])
    return target
