"""Writing one board's pages: the board page, its prompts, models, tags and downloads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

from . import charts
from .context import (
    board_context,
    model_contexts,
    podium_showcase,
    prompt_contexts,
    tag_entries,
    tag_href,
)
from .data import BoardData, Settings
from .criteria import model_criteria
from .downloads import Pseudonyms, write_downloads
from .history import History
from .media import SiteMedia
from .render import write_page

__all__ = ["Charts", "write_board"]


class Charts:
    """Draws one board's charts; a chart that fails is left out, with a warning, not the build."""

    def __init__(self, board: str) -> None:
        self.board = board
        self.warnings: list[str] = []

    def __call__(self, name: str, draw: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return draw(*args, **kwargs)
        except charts.ChartError as exc:
            self.warnings.append(f"board {self.board!r}: chart {name!r} left out: {exc}")
            return charts.Unavailable()


def _charts(data: BoardData, ctx: dict[str, Any], settings: Settings,
            history: History, draw: Charts) -> dict[str, Any]:
    entries = ctx["entries"]
    order = [e["name"] for e in entries]
    rated = [e["name"] for e in entries if e["rated"]]
    top = order[: settings.heatmap_models]
    inverse = data.board.inverse_ranking
    by_build = draw("rank by build", charts.rank_history_chart, history.frame(data.board.id),
                    rated, x_title="site build", time_format="%b %d %H:%M",
                    max_models=settings.history_models)
    found = {
        "scores": draw("scores", charts.score_chart, data.standings),
        "win_rate": draw("win rates", charts.heatmap, data.win_rate, top, kind="win_rate"),
        "counts": draw("votes per pair", charts.heatmap, data.counts, top, kind="count"),
        # alone (no second build yet), rank by day of votes takes the card's whole width
        "by_day": draw("rank by day", charts.rank_history_chart, data.history, rated,
                       x_title=f"{data.history.attrs.get('freq', 'day')} of votes",
                       max_models=settings.history_models,
                       **({} if by_build else {"width": charts.CARD_PX}))
        if data.history is not None else None,
        "by_build": by_build,
        "heatmap_models": len(top),
        "all_models": len(order),
        "inverse": inverse,
    }
    return found


def _matrix_charts(data: BoardData, order: list[str], draw: Charts) -> dict[str, Any]:
    return {
        "win_rate": draw("all win rates", charts.heatmap, data.win_rate, order, kind="win_rate"),
        "counts": draw("all votes per pair", charts.heatmap, data.counts, order, kind="count"),
    }


def write_board(
    env: jinja2.Environment,
    data: BoardData,
    site: Path,
    media: SiteMedia,
    history: History,
    settings: Settings,
    pseudonyms: Pseudonyms,
    common: dict[str, Any],
    benchmark: dict[str, Any] | None = None,
    criteria: list[Any] | None = None,
) -> dict[str, Any]:
    """Write every page and download of one board under ``site``.

    :param common: context shared by every page (site title, build facts).
    :param benchmark: the board's benchmark page (``name``, ``href`` from the site root) when
        it has one; ``criteria`` (:class:`site_builder.benchmark.Criterion`) are then its
        leaderboards, shown on every model page.
    :return: the board's context (the index card is made from it) plus ``pages``, ``bytes``
        and ``chart_warnings`` (one line per chart that failed and was left out).
    """
    ctx = board_context(data, media, history.previous_ranks(data.board.id))
    ctx["benchmark"] = benchmark
    folder = site / ctx["folder"]
    folder.mkdir(parents=True, exist_ok=True)
    ctx["downloads"] = write_downloads(data, folder, pseudonyms, {
        "built_at": common["built_at"], "version": common["version"],
        "settings": settings.as_dict()})
    prompts = prompt_contexts(data, media, ctx["entries"])
    models = model_contexts(data, ctx["entries"], prompts)
    ctx["prompts"] = prompts
    ctx["showcase"] = podium_showcase(ctx["podium"], prompts)
    draw = Charts(data.board.name)
    ctx["charts"] = _charts(data, ctx, settings, history, draw)
    ctx["matrix_page"] = "matrix.html" if len(ctx["entries"]) > settings.heatmap_models else None
    ctx["tag_pages"] = {t: tag_href(data, t) for t in data.tag_standings}

    pages = 0
    size = 0
    top = {**common, "lb": ctx, "root": "../../", "base": ""}
    size += write_page(env, "leaderboard.html", folder / "index.html", **top)
    pages += 1
    sub = {**common, "lb": ctx, "root": "../../../", "base": "../"}
    for prompt in prompts:
        size += write_page(env, "prompt.html", folder / prompt["href"], prompt=prompt, **sub)
        pages += 1
    for model in models:
        model["criteria"] = model_criteria(criteria, model["entry"]["name"]) if criteria else []
        size += write_page(env, "model.html", folder / model["entry"]["href"], model=model, **sub)
        pages += 1
    for tag, standings in data.tag_standings.items():
        tagged = [p for p in prompts if any(t["name"] == tag for t in p["tags"])]
        size += write_page(env, "tag.html", folder / ctx["tag_pages"][tag], tag=tag,
                           entries=tag_entries(standings, ctx["entries"]), tagged=tagged,
                           tag_votes=int(standings.attrs.get("votes", 0)), **sub)
        pages += 1
    if ctx["matrix_page"]:
        order = [e["name"] for e in ctx["entries"]]
        size += write_page(env, "matrix.html", folder / "matrix.html",
                           matrix=_matrix_charts(data, order, draw), **top)
        pages += 1
    ctx["pages"] = pages
    ctx["chart_warnings"] = draw.warnings
    ctx["bytes"] = size
    return ctx
