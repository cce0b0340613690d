"""Building the whole site: choose boards, skip what has not changed, write, swap in.

    from site_builder import build_site
    result = build_site("data/leaderboards.db", "site")
"""

from __future__ import annotations

import hmac
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import rater
from rater import Client

from . import charts
from .benchmark import index_groups
from .data import Settings, board_definition, database_marker
from .downloads import Pseudonyms, pseudonym_key
from .history import History
from .media import SiteMedia, write_headers
from .plan import Plan, benchmark_boards, choose_boards, failures, read_build
from .publish import (
    MARKER_GENERATOR,
    SiteError,
    check_target,
    remove_stale,
    resolve_out,
    swap_in,
    temp_folder,
)
from .render import make_environment, templates_digest, write_page
from .writer import Run, digest

__all__ = ["BuildResult", "build_site", "default_db_path"]

STATIC = Path(__file__).parent / "static"


def default_db_path() -> Path | str:
    """``$RATER_DB``, or ``data/leaderboards.db`` (a ``postgresql://`` URL stays a string)."""
    return _location(os.environ.get("RATER_DB") or rater.DEFAULT_DB_PATH)


def _location(db: str | os.PathLike[str]) -> Path | str:
    """A server database's URL as given, anything else the path of an SQLite file."""
    return str(db) if rater.is_database_url(str(db)) else Path(db)


@dataclass
class BuildResult:
    """What a call to :func:`build_site` did."""

    out: Path
    skipped: bool
    seconds: float
    boards: list[str] = field(default_factory=list)
    rebuilt: list[str] = field(default_factory=list)
    pages: int = 0
    media: SiteMedia | None = None
    fingerprint: str = ""
    #: One line per chart that could not be drawn and was left out of its page.
    warnings: list[str] = field(default_factory=list)
    #: Boards of this build that could not be built: id -> what went wrong (their pages say it).
    failed: dict[str, str] = field(default_factory=dict)
    #: Boards already published and not asked for, carried over as they were.
    kept: list[str] = field(default_factory=list)
    #: The database built from, as messages show it (a server's URL without its password).
    database: str = ""


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_site(
    db_path: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] = "site",
    leaderboard_ids: Sequence[str] | None = None,
    *,
    only: bool = False,
    templates: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = _stderr,
) -> BuildResult:
    """Render every leaderboard (or those named) to a static site in ``out``.

    Nothing is rebuilt when no vote, model or setting changed since the site in ``out`` was
    built (unless ``force``); boards that did not change are carried over from it. A board
    that fails to build gets a page saying why and is listed in ``BuildResult.failed``; the
    other boards build as usual.

    :param db_path: the database (an SQLite file or a ``postgresql://`` URL); ``$RATER_DB`` or
        ``data/leaderboards.db`` when None.
    :param out: the site folder; replaced atomically at the end of a successful build (when it
        is a symlink, the folder it points to is replaced and the link kept).
    :param leaderboard_ids: build only these boards (default: all); other boards already
        published in ``out`` are kept as they are, unless ``only``.
    :param only: publish exactly the chosen boards, dropping every other board of ``out``.
    :param templates: a folder of templates that override ours (same names).
    :param settings: how standings are computed and shown.
    :param force: rebuild even when nothing changed.
    :param progress: called with a line of progress now and then (default: to stderr).
    :raises rater.LeaderboardNotFound: an id names no board.
    :raises SiteError: ``out`` holds something that is not a site built by this tool, would
        lose published boards without ``only``, or could not be written (say the disk is
        full: the published site is then unchanged).
    """
    start = time.perf_counter()
    say = progress or (lambda _m: None)
    settings = settings or Settings()
    out_path = Path(out)
    template_dir = Path(templates) if templates is not None else None
    env = make_environment(template_dir)
    db = _location(db_path) if db_path is not None else default_db_path()
    if isinstance(db, Path) and not db.is_file():
        raise rater.DatabaseError(f"no database at {db} (create one with `rater create` or "
                                  "`rater demo`, or pass --db)")
    client = Client(db)  # a server database that is missing or empty: DatabaseNotFound
    shown = client.db_path  # a server's URL without its password
    try:
        target = resolve_out(out_path)
        published = check_target(target)
        previous = read_build(target) if published else {}
        plan = choose_boards(client, leaderboard_ids, only, out_path, previous, shown)
        for stale in remove_stale(target):
            say(f"removed {stale.name}, left behind by an interrupted build")
        key = pseudonym_key(shown)
        static_fp = digest([rater.__version__, settings.as_dict(), templates_digest(template_dir),
                             hmac.new(key, b"site fingerprint", "sha256").hexdigest()])
        defs = {b.id: digest([static_fp, board_definition(b)]) for b in plan.boards}
        fingerprint = digest([static_fp, database_marker(client), defs, list(plan.kept)])
        if published and not force and previous.get("fingerprint") == fingerprint:
            return BuildResult(out_path, True, time.perf_counter() - start,
                               boards=[b.id for b in plan.boards], fingerprint=fingerprint,
                               failed=failures(previous.get("leaderboards", {}), defs),
                               kept=list(plan.kept), database=str(shown))
        tmp = temp_folder(target)
        try:
            result, records, benches = _build_into(
                tmp, client, plan, defs, {} if force else previous,
                target if published else None, env, settings, say, Pseudonyms(key))
            result.fingerprint = fingerprint
            _write_build_json(tmp, records, benches, settings, fingerprint, template_dir, shown)
            swap_in(tmp, target)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise SiteError(f"could not write the site to {out_path}: {exc.strerror or exc}"
                            f"{f' ({exc.filename})' if exc.filename else ''}; the published site "
                            "is unchanged") from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        client.close()
    result.out, result.database = out_path, str(shown)
    result.seconds = time.perf_counter() - start
    say(f"{out_path}: built {len(result.rebuilt)} of {len(plan.boards)} boards"
        + (f" (kept {len(plan.kept)} other published board(s))" if plan.kept else "")
        + f", {result.pages} pages in {result.seconds:.1f} s; open {out_path / 'index.html'}"
        + (f" ({len(result.warnings)} warning(s), see above)" if result.warnings else ""))
    return result


def _build_into(tmp: Path, client: Client, plan: Plan, defs: dict[str, str],
                previous: dict[str, Any], published: Path | None, env: Any,
                settings: Settings, say: Callable[[str], None], pseudonyms: Pseudonyms,
                ) -> tuple[BuildResult, dict[str, Any], dict[str, Any]]:
    """Write the site into ``tmp``: its boards' records and its benchmarks' (for build.json)."""
    built_at = time.time()
    shutil.copytree(STATIC, tmp / "static")
    write_headers(tmp)
    history = History.load(published) if published else History()
    media = SiteMedia(thumbs={})
    common = {"built_at": built_at, "version": rater.__version__, "generator": MARKER_GENERATOR}
    boards = plan.boards
    result = BuildResult(tmp, False, 0.0, boards=[b.id for b in boards], media=media,
                         kept=list(plan.kept))
    run = Run(tmp, client, published, env, settings, say, pseudonyms, common, history, media,
              result, previous if isinstance(previous, dict) else {})
    run.carry_kept(plan.kept)
    groups = benchmark_boards(client, boards)
    by_id = {b.id: b for b in boards}
    labels = {b.id: f"[{n}/{len(boards)}] {b.name}" for n, b in enumerate(boards, 1)}
    for board in boards:
        group = groups.get(board.benchmark_id, [])
        if board.id in run.records:
            continue  # built with its benchmark
        if len(group) > 1 and all(i in by_id for i in group):
            run.benchmark(board.benchmark_id, [by_id[i] for i in group], defs, labels)
        else:
            run.board(board, defs[board.id], labels[board.id])
    history.append(built_at, run.snapshots)
    history.write(tmp)
    position = {i: k for k, i in enumerate(plan.order)}
    records = dict(sorted(run.records.items(),
                          key=lambda item: position.get(item[0], len(position))))
    cards = [r["card"] for r in records.values()]
    write_page(env, "index.html", tmp / "index.html", cards=cards,
               groups=index_groups(cards, run.benchmarks), root="", base="", **common)
    result.pages += 1
    return result, records, run.benchmarks


def _write_build_json(tmp: Path, boards: dict[str, Any], benches: dict[str, Any],
                      settings: Settings, fingerprint: str, templates: Path | None,
                      db: Path | str) -> None:
    """The build's provenance: when, which version, which settings, which votes."""
    document = {
        "generator": MARKER_GENERATOR,
        "version": rater.__version__,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "built_at_unix": round(time.time(), 3),
        "database": Path(urlsplit(db).path if isinstance(db, str) else db).name,  # no host, no folder
        # Whether user templates were used, and which: a digest, never a local path.
        "settings": {**settings.as_dict(),
                     "templates": templates_digest(templates) if templates else None},
        "fingerprint": fingerprint,
        "leaderboards": boards,
        "benchmarks": benches,
        "failed": failures(boards, boards),
        "charts_rendered": len(charts.render_seconds()),
    }
    (tmp / "build.json").write_text(json.dumps(document, indent=1, ensure_ascii=False,
                                               default=str), encoding="utf-8")
