"""Reading JSON Lines: one JSON object per line, blank lines skipped, with bounded resources.

:func:`json_objects` parses lines (from a text or any iterable of lines) and turns every way a
line can be malformed (bad JSON, nesting too deep for the parser, an integer too long to convert)
into the caller's one-line error. :func:`text_lines` streams a file's lines without reading it
whole, refusing anything that is not a regular file (a FIFO would block, ``/dev/zero`` never
ends) before opening it, a line longer than ``max_line_bytes`` and a file larger than
``max_bytes``.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import LeaderboardError

__all__ = ["MAX_FILE_BYTES", "MAX_LINE_BYTES", "json_objects", "text_lines"]

MAX_LINE_BYTES = 1 << 20  # 1 MiB: an exported matchup line is a few hundred bytes
MAX_FILE_BYTES = 8 << 30  # 8 GiB: about 20 million exported votes


def json_objects(
    text: str | Iterable[str], where: str, error: type[LeaderboardError],
    expected: str = "a JSON object",
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)`` for each non-blank line.

    A text is split on ``"\\n"`` only, not with ``str.splitlines()``: JSON text may hold U+2028
    and U+2029 unescaped inside strings.

    :param text: the whole text, or its lines (e.g. :func:`text_lines`).
    :param where: names the source in messages, e.g. ``"manifest out/m.jsonl"``.
    :param error: the exception raised for a malformed line.
    :param expected: what a line must be, for the message when it is not an object.
    """
    lines = text.split("\n") if isinstance(text, str) else text
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{where}, line {number}: not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise error(f"{where}, line {number}: JSON nested too deeply to read") from None
        except ValueError as exc:  # e.g. an integer of more than 4,300 digits
            raise error(f"{where}, line {number}: not valid JSON ({exc})") from None
        if not isinstance(item, dict):
            raise error(f"{where}, line {number}: expected {expected}")
        yield number, item


def _open_regular(path: Path, what: str, error: type[LeaderboardError]) -> int:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{what} is a directory: {path}")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{what} {path} is not a regular file (a pipe, device or socket): "
                    "save it to a file first")
    try:  # O_NONBLOCK: should the path be swapped for a FIFO meanwhile, opening cannot hang
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise error(f"{what} {path} is not a regular file")
    return fd


def text_lines(
    path: Path, what: str, error: type[LeaderboardError], *,
    max_line_bytes: int = MAX_LINE_BYTES, max_bytes: int = MAX_FILE_BYTES,
) -> Iterator[str]:
    """Yield the UTF-8 lines of the regular file ``path`` (without their ``"\\n"``), streaming.

    :param what: names the file in messages, e.g. ``"vote file"``.
    :raises error: not found, not a regular file, not UTF-8, a line or the file too long.
    """
    fd = _open_regular(path, what, error)
    with os.fdopen(fd, "rb") as fh:
        if os.fstat(fh.fileno()).st_size > max_bytes:
            raise error(f"{path} is larger than {max_bytes:,} bytes: refusing to read it")
        offset = 0
        number = 0
        while True:
            raw = fh.readline(max_line_bytes + 1)
            if not raw:
                return
            number += 1
            if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
                raise error(f"{path}, line {number} is longer than {max_line_bytes:,} bytes")
            if offset + len(raw) > max_bytes:  # the file grew while being read
                raise error(f"{path} is larger than {max_bytes:,} bytes: refusing to read it")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise error(f"{path} is not UTF-8 text (byte {offset + exc.start}: "
                            f"{exc.reason})") from None
            offset += len(raw)
            yield line[:-1] if line.endswith("\n") else line
