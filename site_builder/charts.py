"""Charts: Altair specifications rendered to static, inline-ready SVG with vl-convert.

Every chart is made at build time, so no page needs JavaScript or a network request to show
one. The SVG that vl-convert writes is trusted output (it escapes text such as model names),
but it is still checked by :func:`_clean` before it is embedded: no scripts, no event
handlers, no external references. Cleaning also makes it compact and embeddable several times
in one page (ids are prefixed per chart, ARIA noise and white backgrounds are dropped, so the
page's CSS can restyle text and axes for the dark colour scheme).
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd
import vl_convert as vlc
from markupsafe import Markup

__all__ = [
    "ChartError",
    "heatmap",
    "rank_history_chart",
    "render",
    "render_seconds",
    "score_chart",
]

#: One accent colour that reads on light and dark backgrounds.
ACCENT = "#4f7cf7"
#: Charts are laid out by vl-convert with its own font metrics; Arial and Liberation Sans share
#: them, so labels measured at build time fit when the browser draws them.
_FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
_counter = itertools.count(1)
_timings: list[float] = []


class ChartError(RuntimeError):
    """vl-convert produced something that is not safe to embed in a page."""


def render_seconds() -> list[float]:
    """Wall-clock seconds of every chart rendered so far in this process (for benchmarks)."""
    return list(_timings)


def _configure(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (
        chart.configure(background="transparent", aria=False, font=_FONT,
                        padding={"left": 8, "right": 8, "top": 4, "bottom": 4})
        .configure_mark(aria=False)
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=11, titleFontSize=11, labelLimit=180, domainColor="#888",
                        tickColor="#888", gridColor="#8884")
        .configure_legend(labelFontSize=11, titleFontSize=11)
    )


_UNSAFE = re.compile(
    r"<\s*(script|foreignObject|image|iframe|a|use|style)\b|\son[a-z]+\s*=|javascript:|"
    r"(?:href|src)\s*=|@import|url\((?!#)",
    re.IGNORECASE,
)
_GEOMETRY = re.compile(r'(?: d| transform| points)="[^"]*"')
_DECIMALS = re.compile(r"(\d\.\d)\d+")  # a tenth of a pixel is precise enough
_RGB = re.compile(r"rgb\((\d+), ?(\d+), ?(\d+)\)")
_NOISE = re.compile(r' (?:aria-hidden="true"|role="graphics-[a-z-]+"|aria-roledescription="[^"]*"'
                    r'|pointer-events="none"|aria-label="[^"]*")')


def _clean(svg: str, label: str) -> Markup:
    """Check and compact vl-convert's SVG; return it ready to embed inline.

    :param label: the accessible name of the figure (our own text, escaped here anyway).
    :raises ChartError: the SVG holds anything that could run code or fetch a resource.
    """
    body = svg.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    body = _NOISE.sub("", body)
    body = _RGB.sub(lambda m: "#%02x%02x%02x" % tuple(int(g) for g in m.groups()), body)
    body = _GEOMETRY.sub(lambda m: _DECIMALS.sub(r"\1", m.group(0)), body)
    prefix = f"c{next(_counter)}-"
    body = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', body)
    body = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", body)
    unsafe = _UNSAFE.search(body)
    if unsafe or body.count("http://") != 1:  # the one allowed is the SVG namespace
        raise ChartError(f"refusing to embed a chart: unexpected {unsafe.group(0) if unsafe else 'URL'!r}")
    escaped = str(Markup.escape(label))
    body = body.replace("<svg ", f'<svg role="img" aria-label="{escaped}" ', 1)
    return Markup(body)


def render(chart: alt.TopLevelMixin, label: str) -> Markup:
    """Render an Altair chart to cleaned inline SVG (see :func:`_clean`)."""
    start = time.perf_counter()
    svg = vlc.vegalite_to_svg(_configure(chart).to_dict())
    _timings.append(time.perf_counter() - start)
    return _clean(svg, label)


def score_chart(standings: pd.DataFrame, score_label: str = "Score") -> Markup | None:
    """Each rated model's score as a dot with its interval as a bar, best at the top."""
    rated = standings.dropna(subset=["score"])
    if rated.empty:
        return None
    df = pd.DataFrame({
        "model": rated["name"].astype(str),
        "score": rated["score"].round(1),
        "low": rated["ci_low"].round(1),
        "high": rated["ci_high"].round(1),
        "group": (rated["tied_group"] % 2).astype(str),
    })
    order = list(df["model"])
    y = alt.Y("model:N", sort=order, title=None, axis=alt.Axis(labelLimit=160))
    lo, hi = float(df["low"].min()), float(df["high"].max())
    pad = max((hi - lo) * 0.05, 5.0)
    x_scale = alt.Scale(domain=[lo - pad, hi + pad], zero=False, nice=False)
    base = alt.Chart(df).encode(y=y)
    colour = alt.Color("group:N", scale=alt.Scale(domain=["0", "1"], range=[ACCENT, "#e07b39"]),
                       legend=None)
    bars = base.mark_rule(strokeWidth=3, opacity=0.55).encode(
        x=alt.X("low:Q", scale=x_scale, title=score_label), x2="high:Q", color=colour)
    dots = base.mark_point(filled=True, size=45, opacity=1).encode(x="score:Q", color=colour)
    height = max(60, 17 * len(df))
    return render((bars + dots).properties(width=400, height=height),
                  "Scores with their intervals, best first")


def heatmap(matrix: pd.DataFrame, order: Sequence[str], *, kind: str) -> Markup | None:
    """A square matrix as a heatmap, rows and columns in ``order``.

    :param kind: ``"win_rate"`` (0 to 1, diverging colours around one half) or ``"count"``.
    """
    names = [str(n) for n in order]
    if len(names) < 2:
        return None
    sub = matrix.reindex(index=list(order), columns=list(order))
    values = sub.to_numpy(dtype=float)
    rows, cols = np.nonzero(~np.isnan(values) & ~np.eye(len(names), dtype=bool))
    if kind == "count":
        keep = values[rows, cols] > 0
        rows, cols = rows[keep], cols[keep]
    if len(rows) == 0:
        return None
    df = pd.DataFrame({"row": [names[i] for i in rows], "col": [names[j] for j in cols],
                       "v": np.round(values[rows, cols], 3)})
    cell = min(44, max(7, 440 // len(names))) if len(names) > 12 else min(44, 330 // len(names))
    font = 10 if len(names) > 20 else 11
    axis = alt.Axis(labelLimit=130, labelFontSize=font, ticks=False, domain=False)
    x = alt.X("col:N", sort=names, title="opponent", axis=alt.Axis(
        labelAngle=-50, labelLimit=110, labelFontSize=font, orient="top", ticks=False,
        domain=False))
    y = alt.Y("row:N", sort=names, title=None, axis=axis)
    if kind == "win_rate":
        colour = alt.Color("v:Q", title="win rate", scale=alt.Scale(scheme="redblue", domain=[0, 1]),
                           legend=alt.Legend(format=".0%", gradientLength=120))
        fmt, label = ".0%", "Observed win rate of each row model against each column model"
    else:
        colour = alt.Color("v:Q", title="votes", scale=alt.Scale(scheme="blues", type="sqrt"),
                           legend=alt.Legend(gradientLength=120))
        fmt, label = "d", "Votes between each pair of models"
    rect = alt.Chart(df).mark_rect().encode(x=x, y=y, color=colour)
    layers: alt.TopLevelMixin = rect
    if len(names) <= 12:
        dark_cell = (alt.expr.abs(alt.datum.v - 0.5) > 0.28 if kind == "win_rate"
                     else alt.datum.v > 0.55 * float(df["v"].max()))
        text = alt.Chart(df).mark_text(fontSize=10 if cell >= 30 else 9).encode(
            x=x, y=y, text=alt.Text("v:Q", format=fmt),
            color=alt.condition(dark_cell, alt.value("#ffffff"), alt.value("#111111")))
        layers = rect + text
    size = cell * len(names)
    return render(layers.properties(width=size, height=size), label)


def rank_history_chart(history: pd.DataFrame, order: Sequence[str], *, x_title: str,
                       max_models: int = 10, time_format: str = "%b %d") -> Markup | None:
    """Rank over time, one line per model (the ``max_models`` best by current rank).

    :param history: long frame with columns ``period`` (a time or date text), ``name`` and
        ``rank``.
    :param time_format: d3 time format of the axis labels.
    """
    if history is None or history.empty or history["period"].nunique() < 2:
        return None
    shown = [str(n) for n in list(order)[:max_models]]
    df = history[history["name"].astype(str).isin(shown)][["period", "name", "rank"]].copy()
    if df.empty:
        return None
    df["name"] = df["name"].astype(str)
    stamps = pd.to_datetime(df["period"].astype(str).str.split("/").str[-1], utc=True)
    df["period"] = stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    worst = int(df["rank"].max())
    day = time_format == "%b %d"
    axis = alt.Axis(format=time_format, labelAngle=0, labelOverlap=True, grid=False,
                    **({"tickCount": {"interval": "day", "step": 1}} if day else {}))
    points = alt.OverlayMarkDef(size=22) if df["period"].nunique() <= 12 else False
    chart = alt.Chart(df).mark_line(point=points, strokeWidth=2).encode(
        x=alt.X("period:T", title=x_title, axis=axis),
        y=alt.Y("rank:Q", scale=alt.Scale(reverse=True, domain=[1, max(worst, 2)], nice=False),
                title="rank", axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("name:N", sort=shown, title=None,
                        scale=alt.Scale(scheme="tableau10"),
                        legend=alt.Legend(orient="bottom", columns=2, labelLimit=170)),
    )
    return render(chart.properties(width=400, height=200), f"Rank over time ({x_title})")
