"""Charts: Altair specifications rendered to static, inline-ready SVG with vl-convert.

Every chart is made at build time, so no page needs JavaScript or a network request to show
one. The SVG that vl-convert writes is trusted output (it escapes text such as model names),
but its markup (never its text) is still checked by :func:`_clean` before it is embedded: no
scripts, no event handlers, no external references. Cleaning also makes it compact and
embeddable several times in one page (ids are prefixed per chart, ARIA noise and white
backgrounds are dropped, so the page's CSS can restyle text and axes for the dark colour
scheme). Model names are shortened here, on character boundaries, before Vega sees them (see
:mod:`site_builder.labels`).
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections.abc import Sequence
from xml.etree import ElementTree

import altair as alt
import numpy as np
import pandas as pd
import vl_convert as vlc
from markupsafe import Markup

from .labels import unique_labels

__all__ = [
    "ChartError",
    "Unavailable",
    "contrast",
    "heatmap",
    "rank_history_chart",
    "render",
    "render_seconds",
    "score_chart",
    "whole_ticks",
]

#: One accent colour that reads on light and dark backgrounds.
ACCENT = "#4f7cf7"
#: Charts are laid out by vl-convert with its own font metrics; Arial and Liberation Sans share
#: them, so labels measured at build time fit when the browser draws them.
_FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
#: How long a model name may be in each kind of chart, in average letters (see
#: :func:`~site_builder.labels.shorten`). Names are cut here, not by Vega's ``labelLimit``,
#: which is off (0) wherever names are shown: Vega cuts inside UTF-16 surrogate pairs, and
#: vl-convert fails on the broken text (a long name made of emoji).
_UNITS = {"axis": 28.0, "matrix": 20.0, "legend": 28.0}
#: Axis and legend text size in pixels (at 100% zoom the charts are drawn at their own size).
_FONT_PX = 12
#: The width of a full-width chart: a board page's card at its widest (see style.css:
#: ``.wrap`` 1120 px less its padding and the card's).
CARD_PX = 1040
#: Cell colours of the heatmaps, interpolated in RGB (so :func:`_cell_colour` knows exactly
#: which colour Vega gives each cell): a diverging ramp around one half for win rates, a
#: sequential one for vote counts.
_WIN_RAMP = ("#b2182b", "#f7f7f7", "#2166ac")
_COUNT_RAMP = ("#eef4fb", "#6baed6", "#08306b")
_DARK_TEXT, _LIGHT_TEXT = "#000000", "#ffffff"  # black: every colour gets >= 4.58:1
_counter = itertools.count(1)
_timings: list[float] = []


class ChartError(RuntimeError):
    """A chart could not be drawn, or what vl-convert drew is not safe to embed in a page."""


class Unavailable:
    """Stands in for a chart that failed (see :class:`ChartError`); the page says so.

    It is false, like a missing chart, so a template that does not know it shows its empty note.
    """

    unavailable = True

    def __bool__(self) -> bool:
        return False


def render_seconds() -> list[float]:
    """Wall-clock seconds of every chart rendered so far in this process (for benchmarks)."""
    return list(_timings)


def _configure(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (
        chart.configure(background="transparent", aria=False, font=_FONT,
                        padding={"left": 8, "right": 8, "top": 4, "bottom": 4})
        .configure_mark(aria=False)
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=_FONT_PX, titleFontSize=_FONT_PX, labelLimit=0,
                        domainColor="#888", tickColor="#888", gridColor="#8884")
        .configure_legend(labelFontSize=_FONT_PX, titleFontSize=_FONT_PX, labelLimit=0)
    )


#: The SVG elements vl-convert draws charts with; anything else (script, foreignObject, image,
#: a, use, style, title, …) is refused.
_ELEMENTS = frozenset({"svg", "g", "path", "rect", "line", "circle", "ellipse", "polygon",
                       "polyline", "text", "tspan", "defs", "clipPath", "linearGradient",
                       "radialGradient", "stop"})
_SVG_NS = "{http://www.w3.org/2000/svg}"
_LINKS = frozenset({"href", "src", "srcset", "action", "formaction"})
_UNSAFE_VALUE = re.compile(r"javascript:|data:|://|@import|expression\(|url\((?!#)", re.IGNORECASE)
#: One tag with its attributes (quoted values may hold ``>``); text between tags is user text.
_TAG = re.compile(r"""<(?:[^<>"']|"[^"]*"|'[^']*')*>""")
_GEOMETRY = re.compile(r'(?: d| transform| points)="[^"]*"')
_DECIMALS = re.compile(r"(\d\.\d)\d+")  # a tenth of a pixel is precise enough
_RGB = re.compile(r"rgb\((\d+), ?(\d+), ?(\d+)\)")
_NOISE = re.compile(r' (?:aria-hidden="true"|role="graphics-[a-z-]+"|aria-roledescription="[^"]*"'
                    r'|pointer-events="none"|aria-label="[^"]*")')


def _compact(tag: str, prefix: str) -> str:
    """One start or end tag made smaller, its ids prefixed (text is never touched)."""
    tag = tag.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    tag = _NOISE.sub("", tag)
    tag = _RGB.sub(lambda m: "#%02x%02x%02x" % tuple(int(g) for g in m.groups()), tag)
    tag = _GEOMETRY.sub(lambda m: _DECIMALS.sub(r"\1", m.group(0)), tag)
    tag = re.sub(r' id="([^"]+)"', lambda m: f' id="{prefix}{m.group(1)}"', tag)
    return re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", tag)


def _check_markup(body: str) -> None:
    """Refuse markup that could run code or fetch anything; text content is not looked at.

    The SVG is parsed as XML and every element and attribute is checked. Comments, CDATA,
    doctypes and processing instructions are refused outright, so an HTML parser reading the
    page sees the same elements as this check (a ``<`` in text is always escaped as ``&lt;``).

    :raises ChartError: what was found.
    """
    if "<!" in body or "<?" in body:
        raise ChartError("refusing to embed a chart: unexpected '<!' or '<?' markup")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise ChartError(f"refusing to embed a chart: not well-formed SVG ({exc})") from None
    for element in root.iter():
        name = element.tag if isinstance(element.tag, str) else repr(element.tag)
        if not name.startswith(_SVG_NS) or name[len(_SVG_NS):] not in _ELEMENTS:
            raise ChartError(f"refusing to embed a chart: unexpected element {name!r}")
        for attribute, value in element.attrib.items():
            local = attribute.rpartition("}")[2].lower()
            if (attribute.startswith("{") or local.startswith("on") or local in _LINKS
                    or _UNSAFE_VALUE.search(value)):
                raise ChartError(f"refusing to embed a chart: unexpected attribute "
                                 f"{attribute}={value!r} on {name[len(_SVG_NS):]!r}")


def _clean(svg: str, label: str) -> Markup:
    """Check and compact vl-convert's SVG; return it ready to embed inline.

    Only the markup is compacted and checked: text such as model names inside ``<text>``
    elements is left as vl-convert escaped it, whatever it says (``onclick=``, ``http://``).

    :param label: the accessible name of the figure (our own text, escaped here anyway).
    :raises ChartError: the SVG holds anything that could run code or fetch a resource.
    """
    prefix = f"c{next(_counter)}-"
    body = _TAG.sub(lambda m: _compact(m.group(0), prefix), svg.strip())
    _check_markup(body)
    escaped = str(Markup.escape(label))
    body = body.replace("<svg ", f'<svg role="img" aria-label="{escaped}" ', 1)
    return Markup(body)


def render(chart: alt.TopLevelMixin, label: str) -> Markup:
    """Render an Altair chart to cleaned inline SVG (see :func:`_clean`).

    :raises ChartError: vl-convert failed, or its SVG is not safe to embed.
    """
    start = time.perf_counter()
    try:
        svg = vlc.vegalite_to_svg(_configure(chart).to_dict())
    except ValueError as exc:  # vl-convert reports every failure of its JavaScript as one
        reason = " ".join(str(exc).split()[:24])
        raise ChartError(f"vl-convert could not draw the chart: {reason}") from exc
    _timings.append(time.perf_counter() - start)
    return _clean(svg, label)


def score_chart(standings: pd.DataFrame, score_label: str = "Score") -> Markup | None:
    """Each rated model's score as a dot with its interval as a bar, best at the top."""
    rated = standings.dropna(subset=["score"])
    if rated.empty:
        return None
    df = pd.DataFrame({
        "model": unique_labels(list(rated["name"].astype(str)), _UNITS["axis"]),
        "score": rated["score"].round(1),
        "low": rated["ci_low"].round(1),
        "high": rated["ci_high"].round(1),
        "group": (rated["tied_group"] % 2).astype(str),
    })
    order = list(df["model"])
    y = alt.Y("model:N", sort=order, title=None, axis=alt.Axis(labelLimit=0))
    lo, hi = float(df["low"].min()), float(df["high"].max())
    pad = max((hi - lo) * 0.05, 5.0)
    x_scale = alt.Scale(domain=[lo - pad, hi + pad], zero=False, nice=False)
    base = alt.Chart(df).encode(y=y)
    colour = alt.Color("group:N", scale=alt.Scale(domain=["0", "1"], range=[ACCENT, "#e07b39"]),
                       legend=None)
    bars = base.mark_rule(strokeWidth=4, opacity=0.55).encode(
        x=alt.X("low:Q", scale=x_scale, title=score_label, axis=alt.Axis(tickCount=10)),
        x2="high:Q", color=colour)
    dots = base.mark_point(filled=True, size=60, opacity=1).encode(x="score:Q", color=colour)
    height = max(60, 24 * len(df))
    chart = (bars + dots).properties(width=CARD_PX, height=height, autosize=alt.AutoSizeParams(
        type="fit-x", contains="padding"))
    return render(chart, "Scores with their intervals, best first")


def _rgb(colour: str) -> tuple[float, float, float]:
    return tuple(int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def _cell_colour(value: float, domain: Sequence[float], ramp: Sequence[str],
                 power: float) -> tuple[float, float, float]:
    """The colour Vega gives ``value`` on a piecewise scale over ``domain`` (``power`` 0.5 for
    a square-root scale) with ``ramp`` interpolated in RGB."""
    warped = [float(d) ** power for d in domain]
    v = min(max(float(value), domain[0]), domain[-1]) ** power
    k = max(0, min(len(warped) - 2, int(np.searchsorted(warped, v, side="right")) - 1))
    span = warped[k + 1] - warped[k]
    t = (v - warped[k]) / span if span else 0.0
    a, b = _rgb(ramp[k]), _rgb(ramp[k + 1])
    return tuple(x + (y - x) * t for x, y in zip(a, b))  # type: ignore[return-value]


def _luminance(rgb: Sequence[float]) -> float:
    """WCAG relative luminance of an sRGB colour (channels 0 to 1)."""
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: Sequence[float], b: Sequence[float]) -> float:
    """WCAG contrast ratio of two sRGB colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _text_colour(cell: Sequence[float]) -> str:
    """Dark or light text, whichever contrasts more with the cell."""
    dark, light = contrast(cell, _rgb(_DARK_TEXT)), contrast(cell, _rgb(_LIGHT_TEXT))
    return _LIGHT_TEXT if light > dark else _DARK_TEXT


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
    names = unique_labels(names, _UNITS["matrix"])
    df = pd.DataFrame({"row": [names[i] for i in rows], "col": [names[j] for j in cols],
                       "v": np.round(values[rows, cols], 3)})
    cell = min(44, max(7, 440 // len(names))) if len(names) > 12 else min(44, 330 // len(names))
    font = 10 if len(names) > 20 else 11
    axis = alt.Axis(labelLimit=0, labelFontSize=font, ticks=False, domain=False)
    x = alt.X("col:N", sort=names, title="opponent", axis=alt.Axis(
        labelAngle=-50, labelLimit=0, labelFontSize=font, orient="top", ticks=False,
        domain=False))
    y = alt.Y("row:N", sort=names, title=None, axis=axis)
    if kind == "win_rate":
        domain, ramp, power = [0.0, 0.5, 1.0], _WIN_RAMP, 1.0
        legend = alt.Legend(format=".0%", gradientLength=120)
        fmt, label = ".0%", "Observed win rate of each row model against each column model"
    else:
        top = float(df["v"].max())
        low = min(float(df["v"].min()), top - 1)
        middle = ((low ** 0.5 + top ** 0.5) / 2) ** 2  # half way on the square-root scale
        domain, ramp, power = [low, middle, top], _COUNT_RAMP, 0.5
        legend = alt.Legend(format="d", values=whole_ticks(low, top, 5), gradientLength=120)
        fmt, label = "d", "Votes between each pair of models"
    scale = alt.Scale(domain=domain, range=list(ramp), interpolate="rgb",
                      **({"type": "sqrt"} if power != 1.0 else {}))
    colour = alt.Color("v:Q", title="win rate" if kind == "win_rate" else "votes", scale=scale,
                       legend=legend)
    rect = alt.Chart(df).mark_rect().encode(x=x, y=y, color=colour)
    layers: alt.TopLevelMixin = rect
    if len(names) <= 12:
        df["ink"] = [_text_colour(_cell_colour(v, domain, ramp, power)) for v in df["v"]]
        text = alt.Chart(df).mark_text(fontSize=11 if cell >= 30 else 9).encode(
            x=x, y=y, text=alt.Text("v:Q", format=fmt),
            color=alt.Color("ink:N", scale=None, legend=None))
        layers = (rect + text).resolve_scale(color="independent")
    size = cell * len(names)
    return render(layers.properties(width=size, height=size), label)


def whole_ticks(low: float, high: float, most: int) -> list[int]:
    """Whole numbers from ``low`` to ``high`` for an axis or legend, never a fraction nor one
    number twice: every one, or multiples of 2, 5, 10, 20, … when there would be more than
    ``most``; the first whole number is always shown (rank 1)."""
    first, last = math.ceil(low), math.floor(high)
    step = 1
    while (last - first) // step + 1 > most:
        step = next(s * 10 ** k for k in range(12) for s in (1, 2, 5) if s * 10 ** k > step)
    ticks = [first] + [v for v in range(first + 1, last + 1)
                       if v % step == 0 and v - first >= step / 2]
    return ticks


def rank_history_chart(history: pd.DataFrame, order: Sequence[str], *, x_title: str,
                       max_models: int = 10, time_format: str = "%b %d",
                       width: int = 480) -> Markup | None:
    """Rank over time, one line per model (the ``max_models`` best by current rank).

    :param history: long frame with columns ``period`` (a time or date text), ``name`` and
        ``rank``.
    :param time_format: d3 time format of the axis labels.
    :param width: of the whole chart, legend and labels included, in pixels.
    """
    if history is None or history.empty or history["period"].nunique() < 2:
        return None
    shown = [str(n) for n in list(order)[:max_models]]
    df = history[history["name"].astype(str).isin(shown)][["period", "name", "rank"]].copy()
    if df.empty:
        return None
    labels = dict(zip(shown, unique_labels(shown, _UNITS["legend"])))
    df["name"] = df["name"].astype(str).map(labels)
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
                title="rank", axis=alt.Axis(values=whole_ticks(1, max(worst, 2), 12), format="d")),
        color=alt.Color("name:N", sort=[labels[n] for n in shown], title=None,
                        scale=alt.Scale(scheme="tableau10"),
                        legend=alt.Legend(orient="bottom", columns=2, labelLimit=0)),
    )
    chart = chart.properties(width=width, height=200, autosize=alt.AutoSizeParams(
        type="fit-x", contains="padding"))
    return render(chart, f"Rank over time ({x_title})")
