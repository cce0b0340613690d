"""Charts with hostile model names, the SVG safety check, charts that fail, and bidi isolation."""

from __future__ import annotations

import re
from pathlib import Path

import altair as alt
import pandas as pd
import pytest
import vl_convert as vlc

from site_builder import build_site, charts
from site_builder.labels import shorten, unique_labels
from site_support import (
    CHART_MODELS,
    RTL_BOARD,
    RTL_PROMPTS,
    RTL_TAG,
    make_chart_names_database,
    pages,
    parse,
    vote_until,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("chart-names")
    db, board = make_chart_names_database(folder)
    site = folder / "site"
    messages: list[str] = []
    results = [build_site(db, site, progress=messages.append)]
    for late in ("late", "later"):  # the third build draws rank by site build
        assert vote_until(board, 1, CHART_MODELS, prefix=late) == 1
        results.append(build_site(db, site, progress=messages.append))
    return {"db": db, "board": board, "site": site, "results": results,
            "messages": messages, "folder": site / "boards" / board.id}


def svg_labels(svg) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.get_text() for t in svg.find_all("text")]


def test_hostile_names_build_with_every_chart(built: dict) -> None:
    assert all(not r.warnings for r in built["results"]), [r.warnings for r in built["results"]]
    assert not any("warning" in m for m in built["messages"])
    soup = parse(built["folder"] / "index.html")
    for section in ("scores", "win-rates", "vote-counts"):
        assert soup.select_one(f"#{section} figure.chart svg") is not None, section
    assert soup.select_one("#history svg") is not None, "rank by site build"
    assert "Chart unavailable" not in soup.get_text()
    names = [a.get_text() for a in soup.select("table.standings tbody td a")]
    assert sorted(names) == sorted(CHART_MODELS), "the table keeps every full name"


def test_names_are_escaped_text_in_pages_and_charts(built: dict) -> None:
    raw = (built["folder"] / "index.html").read_text(encoding="utf-8")
    assert "&lt;svg onload=alert(1)&gt;" in raw and "<svg onload" not in raw
    for page in pages(built["site"]):
        soup = parse(page)
        for tag in soup.find_all(True):
            assert not any(a.lower().startswith("on") for a in tag.attrs), (page, tag.name)
            for attr in ("href", "src"):
                assert not str(tag.get(attr, "")).lower().startswith(("javascript:", "http")), page
    soup = parse(built["folder"] / "index.html")
    scores = svg_labels(soup.select_one("#scores svg"))
    for name in CHART_MODELS[:5]:  # the long one is cut, but its "url(http://" is kept
        assert any(label == name or label.endswith("…") and name.startswith(label[:-1])
                   and "url(http://" in label for label in scores), name
    for svg in soup.find_all("svg"):
        assert not svg.find_all(["script", "foreignobject", "image", "a", "style", "use"])
        for tag in svg.find_all(True):
            for name, value in tag.attrs.items():
                assert not name.lower().startswith("on")
                assert "http" not in str(value) or name == "xmlns"
    ids = [t["id"] for t in soup.find_all(id=True)]
    assert len(ids) == len(set(ids))


def test_long_names_are_cut_on_character_boundaries_and_stay_distinct(built: dict) -> None:
    soup = parse(built["folder"] / "index.html")
    for selector in ("#scores svg", "#win-rates svg", "#history svg"):
        labels = svg_labels(soup.select_one(selector))
        for label in labels:
            label.encode("utf-8")  # a lone surrogate would raise here
        emoji = [t for t in labels if t.startswith("🎨")]
        assert emoji and all(t.endswith("…") and set(t[:-1]) == {"🎨"} for t in emoji), selector
        smiles = [t for t in labels if t.startswith("a😀")]
        assert smiles and all(t.endswith("…") and "\ud83d" not in t for t in smiles), selector
        long_ones = [t for t in labels if t.startswith("ppp")]
        if selector == "#win-rates svg":  # rows and columns
            assert len(long_ones) == 4 and len(set(long_ones)) == 2, long_ones
        else:
            assert len(long_ones) == 2 and len(set(long_ones)) == 2, (selector, long_ones)


def test_user_text_is_bidi_isolated(built: dict) -> None:
    checked = 0
    for page in pages(built["site"]):
        soup = parse(page)
        title = soup.title.get_text()
        if RTL_BOARD in title:
            assert f"\u2068{RTL_BOARD}\u2069" in title, page
        for text in soup.body.find_all(string=re.compile("[\u202e\u05d0-\u05ea]")):
            if text.find_parent("svg") is not None:
                continue
            holder = text.parent
            assert holder.name == "bdi" or holder.has_attr("dir"), (page.name, holder)
            checked += 1
    assert checked > 50
    board = parse(built["folder"] / "index.html")
    assert board.h1.get_text() == RTL_BOARD and board.h1["dir"] == "auto"
    assert RTL_TAG in [a.get_text() for a in board.select("#tags thead a")]
    assert RTL_PROMPTS[0] in [a.get_text() for a in board.select("#prompts a bdi")]


def test_a_chart_with_unsafe_markup_is_left_out_not_the_build(
        built: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = vlc.vegalite_to_svg
    calls: list[int] = []

    def first_chart_unsafe(spec: dict, *args: object, **kwargs: object) -> str:
        calls.append(1)
        svg = real(spec, *args, **kwargs)
        return svg.replace("<g ", '<g onmouseover="alert(1)" ', 1) if len(calls) == 1 else svg

    monkeypatch.setattr(charts.vlc, "vegalite_to_svg", first_chart_unsafe)
    messages: list[str] = []
    result = build_site(built["db"], tmp_path / "site", progress=messages.append)
    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert repr(RTL_BOARD) in warning and "'scores'" in warning and "onmouseover" in warning
    assert any("warning" in m and "'scores'" in m for m in messages)
    soup = parse(tmp_path / "site" / "boards" / built["board"].id / "index.html")
    assert soup.select_one("#scores svg") is None
    assert "Chart unavailable" in soup.select_one("#scores").get_text()
    assert soup.select_one("#win-rates svg") is not None, "the other charts are still drawn"
    assert "onmouseover" not in (tmp_path / "site" / "boards" / built["board"].id
                                 / "index.html").read_text(encoding="utf-8")


def small_svg() -> str:
    """What vl-convert draws for a tiny chart, before cleaning."""
    df = pd.DataFrame({"model": ["a", "b"], "score": [1000.0, 1010.0]})
    chart = alt.Chart(df).mark_point().encode(x="score:Q", y="model:N")
    return vlc.vegalite_to_svg(charts._configure(chart).to_dict())


UNSAFE = [
    ('<g>', '<g><script>alert(1)</script>'),
    ('<g>', '<g><SCRIPT>alert(1)</SCRIPT>'),
    ('<g ', '<g onload="alert(1)" '),
    ('<g ', '<g ONCLICK="alert(1)" '),
    ('<g>', '<g><a href="https://evil.example"><path d="M0,0"/></a>'),
    ('<g>', '<g><image href="https://evil.example/x.png"/>'),
    ('<g>', '<g><use href="#x"/>'),
    ('<g>', '<g><style>@import "https://evil.example/x.css";</style>'),
    ('<g>', '<g><foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>'),
    ('<g ', '<g style="fill:url(https://evil.example/x)" '),
    ('<g ', '<g fill="url(http://evil.example/#p)" '),
    ('<g ', '<g clip-path="javascript:alert(1)" '),
    ('<g>', '<g><!-- </svg><script>alert(1)</script> -->'),
    ('<g>', '<g><![CDATA[ x ]]>'),
    ('<g>', '<g><title>x</title>'),
    ('<g>', '<g><svg:script xmlns:svg="http://www.w3.org/2000/svg">alert(1)</svg:script>'),
    ('<g ', '<g xml:base="https://evil.example/" '),
]


@pytest.mark.parametrize(("old", "new"), UNSAFE)
def test_unsafe_svg_markup_is_refused(old: str, new: str) -> None:
    svg = small_svg()
    assert old in svg
    with pytest.raises(charts.ChartError, match="refusing"):
        charts._clean(svg.replace(old, new, 1), "label")


def test_text_that_looks_like_markup_is_not_refused() -> None:
    svg = small_svg()
    hostile = ('see http://example.com onclick=1 javascript:alert(1) href=x src=y url(x) '
               '@import &lt;script&gt; id="x" rgb(1, 2, 3)')
    svg = re.sub(r"(<text[^>]*>)a(</text>)", lambda m: m.group(1) + hostile + m.group(2), svg)
    assert hostile in svg
    cleaned = charts._clean(svg, "label")
    assert hostile in cleaned, "text is neither refused nor rewritten"


def test_a_failure_in_vl_convert_is_a_chart_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(spec: dict) -> str:
        raise ValueError("Vega-Lite to SVG conversion failed:\nError: boom\n at x")

    monkeypatch.setattr(charts.vlc, "vegalite_to_svg", fail)
    df = pd.DataFrame({"name": ["a", "b"], "score": [1.0, 2.0], "ci_low": [0.0, 1.0],
                       "ci_high": [2.0, 3.0], "tied_group": [0, 1]})
    with pytest.raises(charts.ChartError, match="boom"):
        charts.score_chart(df)


@pytest.mark.parametrize("names", [
    ["🎨" * 100, "b"],
    ["a😀" * 40, "b"],
    ["👨‍👩‍👧" * 30, "🇫🇷" * 60, "👍🏽" * 60, "e\u0301" * 90],
    ["p" * 100 + "A", "p" * 100 + "B"],
])
def test_every_chart_draws_long_emoji_names(names: list[str]) -> None:
    n = len(names)
    df = pd.DataFrame({"name": names, "score": [1000.0 + i for i in range(n)],
                       "ci_low": [900.0] * n, "ci_high": [1100.0] * n,
                       "tied_group": list(range(n))})
    assert charts.score_chart(df) is not None
    matrix = pd.DataFrame(0.5, index=names, columns=names)
    assert charts.heatmap(matrix, names, kind="win_rate") is not None
    history = pd.DataFrame({"period": ["2025-01-01", "2025-01-02"] * n,
                            "name": [x for x in names for _ in range(2)],
                            "rank": [i + 1 for i in range(n) for _ in range(2)]})
    assert charts.rank_history_chart(history, names, x_title="day") is not None


@pytest.mark.parametrize(("text", "units"), [
    ("🎨" * 100, ["🎨"]),
    ("a😀" * 40, ["a", "😀"]),
    ("👨‍👩‍👧" * 30, ["👨‍👩‍👧"]),  # zero-width-joiner family: not cut inside
    ("🇫🇷" * 60, ["🇫🇷"]),  # flags are pairs of regional indicators
    ("a" + "🇫🇷" * 60, ["a", "🇫🇷"]),
    ("👍🏽" * 60, ["👍🏽"]),  # emoji with a skin tone
    ("❤️" * 60, ["❤️"]),  # emoji with a variation selector
    ("e\u0301" * 90, ["e\u0301"]),  # combining accent
])
def test_shorten_keeps_whole_graphemes(text: str, units: list[str]) -> None:
    short = shorten(text, 20)
    assert short.endswith("…") and len(short) < len(text)
    body = short[:-1]
    assert text.startswith(body)
    assert re.fullmatch("(?:" + "|".join(map(re.escape, units)) + ")+", body), repr(short)


def test_shorten_leaves_short_text_alone() -> None:
    assert shorten("alpha", 20) == "alpha"
    assert shorten("x" * 20, 20) == "x" * 20
    assert shorten("x" * 21, 20) == "x" * 19 + "…"


def test_unique_labels_keep_names_apart() -> None:
    names = ["p" * 100 + "A", "p" * 100 + "B", "short", "p" * 100 + "C"]
    labels = unique_labels(names, 28)
    assert len(set(labels)) == 4 and labels[2] == "short"
    assert [label[-3:] for label in labels if label.startswith("p")] == [" #1", " #2", " #3"]
    assert all(len(label) <= 28 for label in labels)
    clash = unique_labels(["p" * 100 + "A", "p" * 100 + "B", "p" * 24 + "… #1"], 28)
    assert len(set(clash)) == 3 and clash[2] == "p" * 24 + "… #1"
