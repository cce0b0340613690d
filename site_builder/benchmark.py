"""A benchmark's page: its leaderboards side by side and the overall standings.

A benchmark with two leaderboards or more (criteria over one prompt set) gets
``benchmarks/<id>/index.html`` and downloads (``standings.csv``, ``standings.json``: the
overall standings with each criterion's score). Its boards keep their pages; each of their
model pages adds the model's figures on every criterion (:func:`model_criteria`).

A benchmark is built as a unit (see ``build.py``): its page and its boards' pages share one
fingerprint made of every board's definition and vote log, so a vote on one criterion
rebuilds the benchmark page and its boards (whose model pages show that criterion), and
nothing else.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from rater import Benchmark
from rater.results.csv_cells import safe_cell

from . import charts
from .context import tie_bands
from .criteria import Criterion, benchmark_folder, model_criteria
from .data import Settings
from .pages import Charts
from .render import write_page

__all__ = ["index_groups", "write_benchmark"]

OVERALL_FIELDS = ["rank", "rank_low", "rank_high", "tied_group", "name", "score", "ci_low",
                  "ci_high", "votes", "complete"]


def _num(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _overall_rows(overall: pd.DataFrame, criteria: list[Criterion]) -> list[dict[str, Any]]:
    """One row per participant in overall order: its overall figures and each criterion's;
    then those the overall standings do not list (``overall`` False), in criterion order."""
    records = overall.to_dict("records")
    complete = [bool(r["complete"]) for r in records]
    bands = tie_bands([r["rank"] for r in records], [r["tied_group"] for r in records], complete)
    rows = []
    for r, ok in zip(records, complete):
        cells = model_criteria(criteria, r["name"])
        home = next((c["model_href"] for c in cells if c["model_href"]), None)
        group = int(r["tied_group"])
        rows.append({
            "name": r["name"], "href": home, "complete": ok,
            "rank": int(r["rank"]), "rank_low": int(r["rank_low"]), "rank_high": int(r["rank_high"]),
            "score": _num(r["score"]) if ok else None, "ci_low": _num(r["ci_low"]),
            "ci_high": _num(r["ci_high"]), "votes": int(r["votes"]), "band": group % 2,
            "tied": bands.get(group) if ok else None,
            "preliminary": any(c["entry"] and c["entry"]["preliminary"] for c in cells),
            "cells": cells, "overall": True,
        })
    listed = {r["name"] for r in rows}
    others = dict.fromkeys(n for c in criteria for n in (c.entries or {}) if n not in listed)
    for name in others:  # no overall standings (none yet, or they failed): still side by side
        cells = model_criteria(criteria, name)
        rows.append({"name": name, "href": next((c["model_href"] for c in cells if c["model_href"]), None),
                     "complete": False, "band": 0, "tied": None, "overall": False, "cells": cells,
                     "preliminary": any(c["entry"] and c["entry"]["preliminary"] for c in cells)})
    return rows


def _clean(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    return value


def _write_downloads(bench: Benchmark, criteria: list[Criterion], overall: pd.DataFrame,
                     folder: Path, meta: dict[str, Any]) -> None:
    """``standings.csv`` and ``standings.json``: the overall standings with each criterion's
    score (``score_<leaderboard id>``); CSV text cells neutralised (:func:`safe_cell`)."""
    columns = [*OVERALL_FIELDS, *(f"score_{c.board.id}" for c in criteria)]
    table = overall.reindex(columns=columns)
    records = [{k: _clean(v) for k, v in row.items()} for row in table.to_dict("records")]
    csv = table.copy()
    csv["name"] = csv["name"].map(safe_cell)
    csv.columns = [safe_cell(c) for c in columns]
    csv.to_csv(folder / "standings.csv", index=False, float_format="%.4f")
    weights = overall.attrs.get("weights", {})
    document = {
        "benchmark": {"id": bench.id, "name": bench.name},
        "leaderboards": [{"id": c.board.id, "name": c.board.name, "instruction": c.board.instruction,
                          "inverse_ranking": c.board.inverse_ranking, "weight": weights.get(c.board.id),
                          "votes": overall.attrs.get("votes", {}).get(c.board.id, 0)} for c in criteria],
        "interval": overall.attrs.get("interval_method"),
        **meta,
        "standings": records,
    }
    (folder / "standings.json").write_text(json.dumps(document, ensure_ascii=False, indent=1, default=str),
                                           encoding="utf-8")


def write_benchmark(env: jinja2.Environment, bench: Benchmark, criteria: list[Criterion], site: Path,
                    settings: Settings, common: dict[str, Any]) -> tuple[dict[str, Any], int, list[str]]:
    """Write the benchmark's page and downloads under ``site``.

    The overall standings come from :meth:`rater.Benchmark.get_overall_standings` with the
    build's settings; when they cannot be computed the page says so (and a warning says why).

    :return: the benchmark's index card, the pages written and warnings.
    """
    folder = benchmark_folder(bench.id)
    (site / folder).mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []
    try:
        overall = bench.get_overall_standings(**settings.standings_options())
        error = ""
    except Exception as exc:  # noqa: BLE001 - the criteria's own pages still stand
        overall, error = pd.DataFrame(columns=OVERALL_FIELDS), " ".join(str(exc).split())[:300]
        warnings.append(f"benchmark {bench.name!r}: overall standings left out: {error}")
    rows = _overall_rows(overall, criteria)
    draw = Charts(bench.name)
    shown = overall[overall["complete"].astype(bool)] if len(overall) else overall
    chart = draw("overall scores", charts.score_chart, shown, "Overall score") if len(shown) else None
    _write_downloads(bench, criteria, overall, site / folder, {
        "built_at": common["built_at"], "version": common["version"], "settings": settings.as_dict()})
    weights = overall.attrs.get("weights", {})
    ctx = {
        "id": bench.id, "name": bench.name, "folder": folder, "rows": rows, "error": error,
        "criteria": [{"board": c.board, "href": f"{c.folder}/index.html", "error": c.error,
                      "weight": weights.get(c.board.id), "used": c.board.id in weights}
                     for c in criteria],
        "chart": chart, "interval": overall.attrs.get("interval_method", ""),
        "confidence": overall.attrs.get("confidence", settings.confidence),
    }
    write_page(env, "benchmark.html", site / folder / "index.html", bench=ctx, root="../../", base="",
               **common)
    first = rows[0] if rows and rows[0]["overall"] else None
    leader = first if first and first["complete"] and not first["preliminary"] and not first["tied"] else None
    card = {"id": bench.id, "name": bench.name, "href": f"{folder}/index.html",
            "leaderboards": [c.board.id for c in criteria], "participants": len(rows),
            "leader": leader["name"] if leader else None}
    return card, 1, warnings + draw.warnings


def index_groups(cards: list[dict[str, Any]], benches: dict[str, Any]) -> list[dict[str, Any]]:
    """The index's boards in order, grouped: each benchmark with a page (``benchmark``: its
    card) holds its boards' cards at the place of its first; the other boards follow one
    another in groups without a benchmark, as the index always listed them."""
    of = {i: r["card"] for r in benches.values() for i in r["card"]["leaderboards"]}
    groups: list[dict[str, Any]] = []
    for card in cards:
        bench = of.get(card["id"])
        if bench is None:
            if groups and groups[-1]["benchmark"] is None:
                groups[-1]["cards"].append(card)
            else:
                groups.append({"benchmark": None, "cards": [card]})
        elif not any(g["benchmark"] is bench for g in groups):
            groups.append({"benchmark": bench,
                           "cards": [c for c in cards if of.get(c["id"]) is bench]})
    return groups
