"""Building the whole site: choose boards, skip what has not changed, write, swap in.

    from site_builder import build_site
    result = build_site("data/leaderboards.db", "site")
"""

from __future__ import annotations

import hashlib
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
from rater.store import catalog

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
from .media import SiteMedia, place_media
from .pages import write_board
from .publish import MARKER_GENERATOR, check_target, clone_tree, swap_in, temp_folder
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


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _select(client: Client, ids: Sequence[str] | None) -> list[Leaderboard]:
    if not ids:
        return client.mri.list_leaderboards()
    return [client.mri.get_leaderboard_by_id(i) for i in dict.fromkeys(ids)]


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False,
                                     default=str).encode("utf-8")).hexdigest()


def _read_build(out: Path) -> dict[str, Any]:
    try:
        document = json.loads((out / "build.json").read_text(encoding="utf-8"))
        return document if isinstance(document, dict) else {}
    except (OSError, ValueError):
        return {}


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
    templates: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = _stderr,
) -> BuildResult:
    """Render every leaderboard (or those named) to a static site in ``out``.

    Nothing is rebuilt when no vote, model or setting changed since the site in ``out`` was
    built (unless ``force``); boards that did not change are carried over from it.

    :param db_path: the database; ``$RATER_DB`` or ``data/leaderboards.db`` when None.
    :param out: the site folder; replaced atomically at the end of a successful build.
    :param leaderboard_ids: only these boards (default: all).
    :param templates: a folder of templates that override ours (same names).
    :param settings: how standings are computed and shown.
    :param force: rebuild even when nothing changed.
    :param progress: called with a line of progress now and then (default: to stderr).
    :raises rater.LeaderboardNotFound: an id names no board.
    :raises SiteError: ``out`` holds something that is not a site built by this tool.
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
        boards = _select(client, leaderboard_ids)
        published = check_target(out_path)
        previous = _read_build(out_path) if published else {}
        static_fp = _digest([rater.__version__, settings.as_dict(), templates_digest(template_dir)])
        defs = {b.id: _digest([static_fp, board_definition(b)]) for b in boards}
        fingerprint = _digest([static_fp, database_marker(client), defs])
        if published and not force and previous.get("fingerprint") == fingerprint:
            return BuildResult(out_path, True, time.perf_counter() - start,
                               boards=[b.id for b in boards], fingerprint=fingerprint)
        tmp = temp_folder(out_path)
        try:
            result, records = _build_into(tmp, client, boards, defs, {} if force else previous,
                                          out_path if published else None, env, settings, say, db)
            result.fingerprint = fingerprint
            _write_build_json(tmp, records, settings, fingerprint, template_dir, db)
            swap_in(tmp, out_path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        client.close()
    result.out = out_path
    result.seconds = time.perf_counter() - start
    say(f"{out_path}: built {len(result.rebuilt)} of {len(boards)} boards, {result.pages} pages "
        f"in {result.seconds:.1f} s; open {out_path / 'index.html'}"
        + (f" ({len(result.warnings)} chart(s) left out, see the warnings above)"
           if result.warnings else ""))
    return result


def _build_into(tmp: Path, client: Client, boards: list[Leaderboard], defs: dict[str, str],
                previous: dict[str, Any], published: Path | None, env: Any,
                settings: Settings, say: Callable[[str], None], db: Path,
                ) -> tuple[BuildResult, dict[str, Any]]:
    built_at = time.time()
    shutil.copytree(STATIC, tmp / "static")
    history = History.load(published) if published else History()
    media = SiteMedia(thumbs={})
    pseudonyms = Pseudonyms(pseudonym_key(db))
    old_boards = previous.get("leaderboards", {}) if isinstance(previous, dict) else {}
    common = {"built_at": built_at, "version": rater.__version__, "generator": MARKER_GENERATOR}
    result = BuildResult(tmp, False, 0.0, boards=[b.id for b in boards], media=media)
    cards: list[dict[str, Any]] = []
    snapshots: dict[str, dict[str, Any]] = {}
    for number, board in enumerate(boards, 1):
        label = f"[{number}/{len(boards)}] {board.name}"
        folder = f"boards/{board_folder(board.id)}"
        t0 = time.perf_counter()
        say(f"{label}: reading votes")
        raw = read_votes(client, board)
        fingerprint = _digest([defs[board.id], vote_log_hash(raw)])
        old = old_boards.get(board.id, {})
        if published and old.get("fingerprint") == fingerprint and (published / folder).is_dir():
            rows = catalog.list_media(client.store.conn, board.id)
            _place(rows, client, tmp, published, media)
            clone_tree(published / folder, tmp / folder)
            cards.append(old["card"])
            result.pages += int(old["card"].get("pages", 0))
            say(f"{label}: unchanged, carried over")
            continue
        say(f"{label}: ranking {len(raw):,} votes")
        data: BoardData = load_board(client, board, settings, raw)
        say(f"{label}: ranked in {time.perf_counter() - t0:.1f} s; placing media")
        _place_items(data, tmp, published, media, say, label)
        say(f"{label}: writing pages and charts")
        ctx = write_board(env, data, tmp, media, history, settings, pseudonyms, common)
        for warning in ctx["chart_warnings"]:
            say(f"{label}: warning: {warning}")
        result.warnings += ctx["chart_warnings"]
        card = _card(ctx, folder)
        card.update(vote_log_sha256=data.vote_hash)
        cards.append(card)
        old_boards[board.id] = {"fingerprint": fingerprint, "card": card}
        snapshots[board.id] = {
            "votes": ctx["used_votes"], "vote_log_sha256": data.vote_hash,
            "ranks": {e["name"]: e["rank"] for e in ctx["entries"] if e["rated"]},
        }
        result.pages += ctx["pages"]
        result.rebuilt.append(board.id)
        say(f"{label}: {ctx['pages']} pages in {time.perf_counter() - t0:.1f} s")
    history.append(built_at, snapshots)
    history.write(tmp)
    write_page(env, "index.html", tmp / "index.html", cards=cards, root="", base="", **common)
    result.pages += 1
    return result, {b.id: old_boards[b.id] for b in boards}


def _place(rows: list[dict[str, Any]], client: Client, tmp: Path, published: Path | None,
           media: SiteMedia) -> None:
    items = [media_item(client.store.media_dir, r["sha256"], r["ext"], r["kind"], r["mime"])
             for r in rows]
    place_media(items, tmp, published, media)


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
        "settings": {**settings.as_dict(), "templates": str(templates) if templates else None},
        "fingerprint": fingerprint,
        "leaderboards": boards,
        "charts_rendered": len(charts.render_seconds()),
    }
    (tmp / "build.json").write_text(json.dumps(document, indent=1, ensure_ascii=False,
                                               default=str), encoding="utf-8")
