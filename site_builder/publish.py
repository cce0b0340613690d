"""Publishing atomically: build beside the site, then swap the new folder in.

A build writes into ``.<out>.building-<pid>`` next to ``out``. Only when everything is written
does it take the place of ``out``: on Linux with ``renameat2(RENAME_EXCHANGE)``, which swaps
the two folders in one step, so a reader (or a web server) sees the old site or the new one
and never a mix or a gap. Elsewhere two renames are used (a gap of microseconds). A failed
build deletes its temporary folder and leaves the published site untouched; a build that
was killed leaves its folder behind, and the next build removes it (see :func:`remove_stale`).

An ``out`` that is a symlink is followed: the folder it points to is replaced, the link kept.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

from .media import link_or_copy

__all__ = ["MARKER_GENERATOR", "SITE_ENTRIES", "SiteError", "check_target", "clone_tree",
           "remove_stale", "resolve_out", "swap_in", "temp_folder"]

MARKER_GENERATOR = "rater build-site"
#: Everything a build writes at the top of the site; anything else there is someone's file.
SITE_ENTRIES = frozenset({"index.html", "build.json", "history.json", "_headers", "static",
                          "boards", "benchmarks", "media", "thumbs"})
#: A temporary folder whose process is still alive is removed only after this long.
STALE_SECONDS = 24 * 3600
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class SiteError(RuntimeError):
    """The output folder cannot be used (it holds something that is not a built site)."""


def resolve_out(out: Path) -> Path:
    """The folder a build replaces: ``out``, or the folder it links to when it is a symlink.

    :raises SiteError: ``out`` is the current folder or one that holds it (replacing it would
        pull the folder out from under the shell, and it holds more than a site).
    """
    target = Path(os.path.realpath(out)) if out.is_symlink() else out
    here = Path.cwd().resolve()
    if target.resolve() == here or target.resolve() in here.parents:
        raise SiteError(f"--out {out} is the current folder or holds it: build-site replaces "
                        "its --out folder whole, so give it a folder of its own, such as site/")
    return target


def check_target(out: Path) -> bool:
    """True when ``out`` holds a site we built, False when it is missing or empty.

    :raises SiteError: ``out`` is a file, or a folder with other content (it would be
        replaced wholesale, so we refuse rather than delete someone's files).
    """
    if not out.exists():
        return False
    if not out.is_dir():
        raise SiteError(f"--out {out} is a file, not a folder: choose a folder for the site")
    names = sorted(p.name for p in out.iterdir())
    if not names:
        return False
    foreign = [n for n in names if n not in SITE_ENTRIES]
    if foreign and (out / "build.json").is_file():
        more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
        raise SiteError(f"--out {out} holds {foreign[0]!r}{more}, which build-site did not "
                        "make: it would be deleted when the site is replaced; move it out first")
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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid > 0  # someone else's process (or an impossible number: not alive)
    return True


def remove_stale(out: Path) -> list[Path]:
    """Delete the temporary folders that killed builds left beside ``out``.

    A folder is stale when the process named in it is gone, or after :data:`STALE_SECONDS`
    (a process id can be reused); the folder of a build still running is left alone.
    """
    pattern = re.compile(rf"\.{re.escape(out.name)}\.(?:building|old)-(\d+)")
    removed = []
    for path in out.parent.glob(f".{out.name}.*-*"):
        found = pattern.fullmatch(path.name)
        if not found or not path.is_dir() or path.is_symlink():
            continue
        pid = int(found.group(1))
        try:
            age = time.time() - path.stat().st_mtime
        except OSError:
            continue
        if pid != os.getpid() and (not _alive(pid) or age > STALE_SECONDS):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


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
