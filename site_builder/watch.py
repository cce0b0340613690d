"""``--watch``: rebuild whenever votes or models change, until interrupted."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from .build import BuildResult, build_site

__all__ = ["report_failures", "watch"]


def report_failures(result: BuildResult) -> None:
    """One line on stderr per board that could not be built."""
    for board_id, message in result.failed.items():
        print(f"Error: board {board_id} could not be built: {message}", file=sys.stderr,
              flush=True)


def watch(
    seconds: float,
    *,
    build: Callable[..., BuildResult] = build_site,
    max_builds: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_error: Callable[[BaseException], None] | None = None,
    **options: Any,
) -> int:
    """Call :func:`build_site` every ``seconds``; each call rebuilds only if something changed.

    A build that fails (say the database is busy) is reported and retried next time; the
    published site stays as it was. A board that fails is reported when a build writes the
    site (its page says why); the other boards are published. Returns the number of builds
    that wrote a site.

    :param seconds: pause between checks (the check itself reads a few counters).
    :param max_builds: stop after this many checks (for tests); None runs until Ctrl-C.
    :param options: passed to :func:`build_site`.
    """
    if seconds <= 0:
        raise ValueError(f"--watch needs a positive number of seconds, got {seconds}")
    report = on_error or (lambda exc: print(f"build failed: {exc}", file=sys.stderr, flush=True))
    written = 0
    checks = 0
    while max_builds is None or checks < max_builds:
        checks += 1
        try:
            result = build(**options)
            written += not result.skipped
            if not result.skipped:
                report_failures(result)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # keep watching: the next change may fix it
            report(exc)
        if max_builds is not None and checks >= max_builds:
            break
        sleep(seconds)
    return written


