"""Building the whole site: choose boards, skip what has not changed, write, swap in.

    from site_builder import build_site
    result = build_site("data/leaderboards.db", "site")
"""

from __future__ import annotations

import hashlib
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

import rater
from rater import Client, Leaderboard
from rater.results import reader

from . import charts
from .context import board_folder
from .data import (
    BoardData,
    Settings,
    board_definition,
    database_marker,
    load_board,
    media_item,
    read_votes,
)
from .downloads import Pseudonyms, pseudonym_key
from .history import History
from .media import SiteMedia, place_media, write_headers
from .pages import write_board
from .plan import Plan, choose_boards, failures, read_build
from .publish import (
    MARKER_GENERATOR,
    SiteError,
    check_target,
    clone_tree,
    remove_stale,
    resolve_out,
    swap_in,
    temp_folder,
)
from .render import make_environment, templates_digest, write_page
from .stats import vote_log_hash

__all__ = ["BuildResult", "build_site", "default_db_path"]

STATIC = Path(__file__).parent / "static"


def default_db_path() -> Path:
    """``$RATER_DB``, or ``data/leaderboards.db``."""
    return Path(os.environ.get("RATER_DB") or rater.DEFAULT_DB_PATH)


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


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False,
                                     default=str).encode("utf-8")).hexdigest()


def _card(ctx: dict[str, Any], folder: str) -> dict[str, Any]:
    """What the index shows of a board (kept in build.json so unchanged boards are reused)."""
    board = ctx["board"]
    pick = ("name", "href", "score", "thumb", "kind", "rank")
    return {
        "id": board.id, "name": board.name, "instruction": board.instruction,
        "href": f"{folder}/index.html", "models": len(ctx["entries"]),
        "votes": ctx["summary"]["votes"], "raters": ctx["summary"]["raters"],
        "excluded_votes": ctx["excluded_votes"], "last_vote_at": ctx["summary"]["last_vote_at"],
        "settled": ctx["settled"], "placing": ctx["placing"],
        "leader": {k: ctx["leader"][k] for k in pick} if ctx["leader"] else None,
        "co_leaders": [e["name"] for e in ctx["co_leaders"]],
        "inverse": board.inverse_ranking, "pages": ctx["pages"],
    }


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

    :param db_path: the database; ``$RATER_DB`` or ``data/leaderboards.db`` when None.
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
    db = Path(db_path) if db_path is not None else default_db_path()
    if not db.is_file():
        raise rater.DatabaseError(f"no database at {db} (create one with `rater create` or "
                                  "`rater demo`, or pass --db)")
    client = Client(db)
    try:
        target = resolve_out(out_path)
        published = check_target(target)
        previous = read_build(target) if published else {}
        plan = choose_boards(client, leaderboard_ids, only, out_path, previous, db)
        for stale in remove_stale(target):
            say(f"removed {stale.name}, left behind by an interrupted build")
        key = pseudonym_key(db)
        static_fp = _digest([rater.__version__, settings.as_dict(), templates_digest(template_dir),
                             hmac.new(key, b"site fingerprint", "sha256").hexdigest()])
        defs = {b.id: _digest([static_fp, board_definition(b)]) for b in plan.boards}
        fingerprint = _digest([static_fp, database_marker(client), defs, list(plan.kept)])
        if published and not force and previous.get("fingerprint") == fingerprint:
            return BuildResult(out_path, True, time.perf_counter() - start,
                               boards=[b.id for b in plan.boards], fingerprint=fingerprint,
                               failed=failures(previous.get("leaderboards", {}), defs),
                               kept=list(plan.kept))
        tmp = temp_folder(target)
        try:
            result, records = _build_into(tmp, client, plan, defs, {} if force else previous,
                                          target if published else None, env, settings, say,
                                          Pseudonyms(key))
            result.fingerprint = fingerprint
            _write_build_json(tmp, records, settings, fingerprint, template_dir, db)
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
    result.out = out_path
    result.seconds = time.perf_counter() - start
    say(f"{out_path}: built {len(result.rebuilt)} of {len(plan.boards)} boards"
        + (f" (kept {len(plan.kept)} other published board(s))" if plan.kept else "")
        + f", {result.pages} pages in {result.seconds:.1f} s; open {out_path / 'index.html'}"
        + (f" ({len(result.warnings)} warning(s), see above)" if result.warnings else ""))
    return result


def _describe(exc: BaseException) -> str:
    """One line saying what went wrong, for the board's page and the owner's terminal."""
    text = " ".join(str(exc).split()) or "no details"
    return f"{type(exc).__name__}: {text}"[:300]


def _build_into(tmp: Path, client: Client, plan: Plan, defs: dict[str, str],
                previous: dict[str, Any], published: Path | None, env: Any,
                settings: Settings, say: Callable[[str], None], pseudonyms: Pseudonyms,
                ) -> tuple[BuildResult, dict[str, Any]]:
    built_at = time.time()
    shutil.copytree(STATIC, tmp / "static")
    write_headers(tmp)
    history = History.load(published) if published else History()
    media = SiteMedia(thumbs={})
    old_boards = previous.get("leaderboards", {}) if isinstance(previous, dict) else {}
    old_boards = old_boards if isinstance(old_boards, dict) else {}
    common = {"built_at": built_at, "version": rater.__version__, "generator": MARKER_GENERATOR}
    boards = plan.boards
    result = BuildResult(tmp, False, 0.0, boards=[b.id for b in boards], media=media,
                         kept=list(plan.kept))
    records: dict[str, Any] = {}
    snapshots: dict[str, dict[str, Any]] = {}
    for board_id, record in plan.kept.items():
        folder = f"boards/{board_folder(board_id)}"
        if published and (published / folder).is_dir():
            records[board_id] = record
            result.pages += _carry(client, board_id, folder, tmp, published, media, record)
    for number, board in enumerate(boards, 1):
        label = f"[{number}/{len(boards)}] {board.name}"
        folder = f"boards/{board_folder(board.id)}"
        t0 = time.perf_counter()
        say(f"{label}: reading votes")
        try:
            raw = read_votes(client, board)
            fingerprint = _digest([defs[board.id], vote_log_hash(raw)])
            old = old_boards.get(board.id, {})
            if (published and old.get("fingerprint") == fingerprint
                    and (published / folder).is_dir()):
                records[board.id] = old
                result.pages += _carry(client, board.id, folder, tmp, published, media, old)
                say(f"{label}: unchanged, carried over")
                continue
            card, snapshot, pages, warnings = _write_one(
                client, board, raw, tmp, folder, published, media, history, env, settings,
                pseudonyms, common, say, label)
        except (OSError, rater.DatabaseError):
            raise  # the site or the database is at fault, not this board: stop the build
        except Exception as exc:  # this board's data: the other boards still build
            message = _describe(exc)
            say(f"{label}: FAILED: {message}")
            shutil.rmtree(tmp / folder, ignore_errors=True)
            write_page(env, "board_error.html", tmp / folder / "index.html",
                       lb={"board": board, "error": message}, root="../../", base="", **common)
            card = {"id": board.id, "name": board.name, "instruction": board.instruction,
                    "href": f"{folder}/index.html", "error": message, "leader": None,
                    "pages": 1, "inverse": board.inverse_ranking}
            records[board.id] = {"fingerprint": "", "card": card}  # tried again next build
            result.failed[board.id] = message
            result.pages += 1
            continue
        for warning in warnings:
            say(f"{label}: warning: {warning}")
        result.warnings += warnings
        records[board.id] = {"fingerprint": fingerprint, "card": card}
        snapshots[board.id] = snapshot
        result.pages += pages
        result.rebuilt.append(board.id)
        say(f"{label}: {pages} pages in {time.perf_counter() - t0:.1f} s")
    history.append(built_at, snapshots)
    history.write(tmp)
    position = {i: k for k, i in enumerate(plan.order)}
    records = dict(sorted(records.items(), key=lambda item: position.get(item[0], len(position))))
    cards = [r["card"] for r in records.values()]
    write_page(env, "index.html", tmp / "index.html", cards=cards, root="", base="", **common)
    result.pages += 1
    return result, records


def _write_one(client: Client, board: Leaderboard, raw: Any, tmp: Path, folder: str,
               published: Path | None, media: SiteMedia, history: History, env: Any,
               settings: Settings, pseudonyms: Pseudonyms, common: dict[str, Any],
               say: Callable[[str], None], label: str,
               ) -> tuple[dict[str, Any], dict[str, Any], int, list[str]]:
    """Rank one board and write its pages: its card, history snapshot, pages and warnings."""
    t0 = time.perf_counter()
    say(f"{label}: ranking {len(raw):,} votes")
    data: BoardData = load_board(client, board, settings, raw)
    say(f"{label}: ranked in {time.perf_counter() - t0:.1f} s; placing media")
    _place_items(data, tmp, published, media, say, label)
    say(f"{label}: writing pages and charts")
    ctx = write_board(env, data, tmp, media, history, settings, pseudonyms, common)
    card = _card(ctx, folder)
    card.update(vote_log_sha256=data.vote_hash)
    snapshot = {
        "votes": ctx["used_votes"], "vote_log_sha256": data.vote_hash,
        "ranks": {e["name"]: e["rank"] for e in ctx["entries"] if e["rated"]},
    }
    return card, snapshot, ctx["pages"], data.warnings + ctx["chart_warnings"]


def _carry(client: Client, board_id: str, folder: str, tmp: Path, published: Path,
           media: SiteMedia, record: dict[str, Any]) -> int:
    """Reuse a board's published pages and media (hard links); return its page count."""
    store = client.store
    items = [media_item(store, r["sha256"], r["ext"], r["kind"], r["mime"])
             for r in reader.media_rows(store, board_id)]
    items += [media_item(store, r["asset_sha256"], r["asset_ext"], r["asset_kind"],
                         r["asset_mime"]) for r in reader.prompt_rows(store, board_id)
              if r["asset_sha256"]]
    place_media(items, tmp, published, media)
    clone_tree(published / folder, tmp / folder)
    return int(record["card"].get("pages", 0))


def _place_items(data: BoardData, tmp: Path, published: Path | None, media: SiteMedia,
                 say: Callable[[str], None], label: str) -> None:
    items = [r["item"] for r in data.media]
    items += [r["asset"] for r in data.prompt_rows if r["asset"] is not None]
    place_media(items, tmp, published, media,
                progress=lambda done, total: say(f"{label}: media {done:,}/{total:,}"))


def _write_build_json(tmp: Path, boards: dict[str, Any], settings: Settings,
                      fingerprint: str, templates: Path | None, db: Path) -> None:
    """The build's provenance: when, which version, which settings, which votes."""
    document = {
        "generator": MARKER_GENERATOR,
        "version": rater.__version__,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "built_at_unix": round(time.time(), 3),
        "database": db.name,
        # Whether user templates were used, and which: a digest, never a local path.
        "settings": {**settings.as_dict(),
                     "templates": templates_digest(templates) if templates else None},
        "fingerprint": fingerprint,
        "leaderboards": boards,
        "failed": failures(boards, boards),
        "charts_rendered": len(charts.render_seconds()),
    }
    (tmp / "build.json").write_text(json.dumps(document, indent=1, ensure_ascii=False,
                                               default=str), encoding="utf-8")
