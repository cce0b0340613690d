"""Writing one build's boards and benchmarks into its temporary folder.

A board is rebuilt when its fingerprint (definition and vote log) changed, else its published
pages and media are carried over (hard links). The boards of a benchmark with a page are one
unit: they share a fingerprint over all of them (see :mod:`site_builder.benchmark`) and are
rebuilt, or carried over, together with the benchmark's page.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rater
from rater import Client, Leaderboard
from rater.results import reader

from .benchmark import write_benchmark
from .context import board_folder, criterion_entries
from .criteria import Criterion, benchmark_folder
from .data import BoardData, Settings, load_board, media_item, read_votes
from .downloads import Pseudonyms
from .history import History
from .media import SiteMedia, place_media
from .pages import write_board
from .publish import clone_tree
from .render import write_page
from .stats import vote_log_hash

__all__ = ["Run", "digest"]


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False,
                                     default=str).encode("utf-8")).hexdigest()


def _describe(exc: BaseException) -> str:
    """One line saying what went wrong, for the board's page and the owner's terminal."""
    text = " ".join(str(exc).split()) or "no details"
    return f"{type(exc).__name__}: {text}"[:300]


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


def _folder(board_id: str) -> str:
    return f"boards/{board_folder(board_id)}"


@dataclass
class Run:
    """One build's state while it writes boards and benchmarks into ``tmp``; ``records``
    (boards) and ``benchmarks`` become build.json, ``snapshots`` the history."""

    tmp: Path
    client: Client
    published: Path | None
    env: Any
    settings: Settings
    say: Callable[[str], None]
    pseudonyms: Pseudonyms
    common: dict[str, Any]
    history: History
    media: SiteMedia
    result: Any  # BuildResult
    previous: dict[str, Any]
    records: dict[str, Any] = field(default_factory=dict)
    benchmarks: dict[str, Any] = field(default_factory=dict)
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _old(self, kind: str) -> dict[str, Any]:
        found = self.previous.get(kind, {}) if isinstance(self.previous, dict) else {}
        return found if isinstance(found, dict) else {}

    def _unchanged(self, board_id: str, fingerprint: str) -> bool:
        old = self._old("leaderboards").get(board_id, {})
        return bool(self.published and isinstance(old, dict) and old.get("fingerprint") == fingerprint
                    and (self.published / _folder(board_id)).is_dir())

    def carry(self, board_id: str, record: dict[str, Any]) -> None:
        """Reuse a board's published pages and media (hard links)."""
        assert self.published is not None
        store = self.client.store
        items = [media_item(store, r["sha256"], r["ext"], r["kind"], r["mime"])
                 for r in reader.media_rows(store, board_id)]
        items += [media_item(store, r["asset_sha256"], r["asset_ext"], r["asset_kind"],
                             r["asset_mime"]) for r in reader.prompt_rows(store, board_id)
                  if r["asset_sha256"]]
        place_media(items, self.tmp, self.published, self.media)
        clone_tree(self.published / _folder(board_id), self.tmp / _folder(board_id))
        self.records[board_id] = record
        self.result.pages += int(record["card"].get("pages", 0))

    def carry_kept(self, kept: dict[str, Any]) -> None:
        """Carry over the published boards not asked for, and the benchmark pages of theirs."""
        if not self.published:
            return
        for board_id, record in kept.items():
            if (self.published / _folder(board_id)).is_dir():
                self.carry(board_id, record)
        for bench_id, record in self._old("benchmarks").items():
            ids = record.get("card", {}).get("leaderboards", []) if isinstance(record, dict) else []
            folder = benchmark_folder(bench_id)
            if ids and all(i in self.records for i in ids) and (self.published / folder).is_dir():
                clone_tree(self.published / folder, self.tmp / folder)
                self.benchmarks[bench_id] = record
                self.result.pages += 1

    def fail(self, board: Leaderboard, exc: BaseException, label: str) -> None:
        """Write a page saying why the board could not be built; it is tried again next build."""
        message = _describe(exc)
        folder = _folder(board.id)
        self.say(f"{label}: FAILED: {message}")
        shutil.rmtree(self.tmp / folder, ignore_errors=True)
        write_page(self.env, "board_error.html", self.tmp / folder / "index.html",
                   lb={"board": board, "error": message}, root="../../", base="", **self.common)
        card = {"id": board.id, "name": board.name, "instruction": board.instruction,
                "href": f"{folder}/index.html", "error": message, "leader": None,
                "pages": 1, "inverse": board.inverse_ranking}
        self.records[board.id] = {"fingerprint": "", "card": card}
        self.result.failed[board.id] = message
        self.result.pages += 1

    def _load(self, board: Leaderboard, raw: Any, label: str) -> BoardData:
        t0 = time.perf_counter()
        self.say(f"{label}: ranking {len(raw):,} votes")
        data = load_board(self.client, board, self.settings, raw)
        self.say(f"{label}: ranked in {time.perf_counter() - t0:.1f} s; placing media")
        return data

    def _write(self, data: BoardData, fingerprint: str, label: str, t0: float,
               benchmark: dict[str, Any] | None = None, criteria: list[Criterion] | None = None) -> None:
        """Write one ranked board's pages and record it."""
        items = [r["item"] for r in data.media]
        items += [r["asset"] for r in data.prompt_rows if r["asset"] is not None]
        place_media(items, self.tmp, self.published, self.media,
                    progress=lambda done, total: self.say(f"{label}: media {done:,}/{total:,}"))
        self.say(f"{label}: writing pages and charts")
        ctx = write_board(self.env, data, self.tmp, self.media, self.history, self.settings,
                          self.pseudonyms, self.common, benchmark=benchmark, criteria=criteria)
        card = _card(ctx, _folder(data.board.id))
        card.update(vote_log_sha256=data.vote_hash)
        warnings = data.warnings + ctx["chart_warnings"]
        for warning in warnings:
            self.say(f"{label}: warning: {warning}")
        self.result.warnings += warnings
        self.records[data.board.id] = {"fingerprint": fingerprint, "card": card}
        self.snapshots[data.board.id] = {
            "votes": ctx["used_votes"], "vote_log_sha256": data.vote_hash,
            "ranks": {e["name"]: e["rank"] for e in ctx["entries"] if e["rated"]},
        }
        self.result.pages += ctx["pages"]
        self.result.rebuilt.append(data.board.id)
        self.say(f"{label}: {ctx['pages']} pages in {time.perf_counter() - t0:.1f} s")

    def board(self, board: Leaderboard, definition: str, label: str) -> None:
        """Build one board (or carry it over when unchanged)."""
        t0 = time.perf_counter()
        self.say(f"{label}: reading votes")
        try:
            raw = read_votes(self.client, board)
            fingerprint = digest([definition, vote_log_hash(raw)])
            if self._unchanged(board.id, fingerprint):
                self.carry(board.id, self._old("leaderboards")[board.id])
                self.say(f"{label}: unchanged, carried over")
                return
            self._write(self._load(board, raw, label), fingerprint, label, t0)
        except (OSError, rater.DatabaseError):
            raise  # the site or the database is at fault, not this board: stop the build
        except Exception as exc:  # this board's data: the other boards still build
            self.fail(board, exc, label)

    def benchmark(self, bench_id: str, boards: list[Leaderboard], definitions: dict[str, str],
                  labels: dict[str, str]) -> None:
        """Build a benchmark's boards and its page as one unit (or carry them all over)."""
        t0 = time.perf_counter()
        bench = self.client.mri.get_benchmark_by_id(bench_id)
        raws: dict[str, Any] = {}
        for board in boards:
            self.say(f"{labels[board.id]}: reading votes")
            try:
                raws[board.id] = read_votes(self.client, board)
            except (OSError, rater.DatabaseError):
                raise
            except Exception as exc:
                self.fail(board, exc, labels[board.id])
        unit = digest([bench.name, [definitions[b.id] for b in boards],
                       [vote_log_hash(raws[b.id]) if b.id in raws else None for b in boards]])
        prints = {b.id: digest([definitions[b.id], unit]) for b in boards}
        folder = benchmark_folder(bench_id)
        old = self._old("benchmarks").get(bench_id, {})
        if (self.published and isinstance(old, dict) and old.get("fingerprint") == unit
                and (self.published / folder).is_dir()
                and all(self._unchanged(b.id, prints[b.id]) for b in boards)):
            for board in boards:
                self.carry(board.id, self._old("leaderboards")[board.id])
            clone_tree(self.published / folder, self.tmp / folder)
            self.benchmarks[bench_id] = old
            self.result.pages += 1
            self.say(f"benchmark {bench.name}: unchanged, carried over")
            return
        loaded: dict[str, BoardData] = {}
        for board in boards:
            if board.id in raws:
                try:
                    loaded[board.id] = self._load(board, raws[board.id], labels[board.id])
                except (OSError, rater.DatabaseError):
                    raise
                except Exception as exc:
                    self.fail(board, exc, labels[board.id])
        criteria = [Criterion(b, criterion_entries(loaded[b.id]) if b.id in loaded else None,
                              self.result.failed.get(b.id, "")) for b in boards]
        link = {"name": bench.name, "href": f"{folder}/index.html"}
        for board in boards:
            if board.id in loaded:
                try:
                    self._write(loaded.pop(board.id), prints[board.id], labels[board.id], t0, link, criteria)
                except (OSError, rater.DatabaseError):
                    raise
                except Exception as exc:
                    self.fail(board, exc, labels[board.id])
        card, pages, warnings = write_benchmark(self.env, bench, criteria, self.tmp, self.settings,
                                                self.common)
        for warning in warnings:
            self.say(f"benchmark {bench.name}: warning: {warning}")
        self.result.warnings += warnings
        failed = any(b.id in self.result.failed for b in boards)
        self.benchmarks[bench_id] = {"fingerprint": "" if failed else unit, "card": card}
        self.result.pages += pages
        self.say(f"benchmark {bench.name}: page and {len(boards)} boards in "
                 f"{time.perf_counter() - t0:.1f} s")
