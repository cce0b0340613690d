"""Publishing atomically: build beside the site, then swap the new folder in.

A build writes into ``.<out>.building-<pid>`` next to ``out``. Only when everything is written
does it take the place of ``out``: on Linux with ``renameat2(RENAME_EXCHANGE)``, which swaps
the two folders in one step, so a reader (or a web server) sees the old site or the new one
and never a mix or a gap. Elsewhere two renames are used (a gap of microseconds). A failed
build deletes its temporary folder and leaves the published site untouched.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import sys
from pathlib import Path

from .media import link_or_copy

__all__ = ["MARKER_GENERATOR", "SiteError", "check_target", "clone_tree", "swap_in", "temp_folder"]

MARKER_GENERATOR = "rater build-site"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class SiteError(RuntimeError):
    """The output folder cannot be used (it holds something that is not a built site)."""


def check_target(out: Path) -> bool:
    """True when ``out`` holds a site we built, False when it is missing or empty.

    :raises SiteError: ``out`` is a file, or a folder with other content (it would be
        replaced wholesale, so we refuse rather than delete someone's files).
    """
    if not out.exists():
        return False
    if not out.is_dir():
        raise SiteError(f"--out {out} is a file, not a folder: choose a folder for the site")
    if not any(out.iterdir()):
        return False
    try:
        marker = json.loads((out / "build.json").read_text(encoding="utf-8"))
        ok = marker.get("generator") == MARKER_GENERATOR
    except (OSError, ValueError, AttributeError):
        ok = False
    if not ok:
        raise SiteError(
            f"--out {out} is not empty and was not made by build-site (no build.json of ours): "
            "it would be replaced, so choose a new or empty folder")
    return True


def temp_folder(out: Path) -> Path:
    """A fresh, empty folder beside ``out`` to build into."""
    tmp = out.parent / f".{out.name}.building-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    return tmp


def clone_tree(source: Path, target: Path) -> int:
    """Recreate ``source`` at ``target`` with hard links (copies where links fail)."""
    count = 0
    for folder, _dirs, files in os.walk(source):
        here = Path(folder)
        dest = target / here.relative_to(source)
        dest.mkdir(parents=True, exist_ok=True)
        for name in files:
            link_or_copy(here / name, dest / name)
            count += 1
    return count


def _exchange(a: Path, b: Path) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def swap_in(new: Path, out: Path) -> None:
    """Make ``new`` the site at ``out`` and delete the previous site."""
    if not out.exists():
        os.rename(new, out)
        return
    if _exchange(new, out):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now holds the previous site
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    os.rename(out, old)
    try:
        os.rename(new, out)
    except OSError:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
