"""What the board page shows people: readable charts, tie bands, an honest podium, one prompt
compared on the podium, real players for audio and video, thumbnails on prompt cards.

Pages are parsed (html5lib); charts are checked in the SVG vl-convert drew.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from conftest import make_png
from media_support import make_video
from rater import Client
from site_builder import build_site, charts
from site_support import MODELS, make_database, parse, set_vote_time, vote_until

VIDEO_MODELS = ["clip-a", "clip-b", "clip-c"]
VIDEO_PROMPTS = ["a wave", "a cloud"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Images (4 models), inverse audio (2, prompts hidden) and a 3-model video board whose
    third model has media for the second prompt only and whose few votes tie everyone.
    Built three times, with new votes in between; the first build's board pages are kept."""
    folder = tmp_path_factory.mktemp("visuals")
    db, images, audio = make_database(folder)
    client = Client(db)
    video = client.mri.create_new_leaderboard("Clips", "Which clip is better?", VIDEO_PROMPTS,
                                              True)
    for m, name in enumerate(VIDEO_MODELS):
        prompts = VIDEO_PROMPTS if m < 2 else VIDEO_PROMPTS[1:]
        # make_video seeds its noise with the file name's length: distinct lengths, distinct clips
        video.evaluate_model(name, [make_video(folder / "clips" / ("v" * (3 * m + p + 1) + ".mp4"),
                                               "mp4", "libx264", frames=3)
                                    for p in range(len(prompts))], prompts)
    vote_until(video, 4, VIDEO_MODELS[::2] + VIDEO_MODELS[1:2])
    for board in (images, video):  # few votes: rank them all (test_preliminary covers min_votes)
        client.mri.get_leaderboard_by_id(board.id).update(min_votes=0)
    ids = {"images": images.id, "audio": audio.id, "video": video.id}
    client.close()
    set_vote_time(db, images.id, time.time() - 3 * 86400)  # votes span days: rank by day
    out = folder / "site"
    build_site(db, out, progress=None)
    first = folder / "first"
    first.mkdir()
    for key, board in ids.items():
        shutil.copyfile(out / "boards" / board / "index.html", first / f"{key}.html")
    for late in ("second", "third"):  # rank by site build needs two snapshots with new votes
        client = Client(db)
        vote_until(client.mri.get_leaderboard_by_id(images.id), 6, MODELS, prefix=late)
        client.close()
        build_site(db, out, progress=None)
    return {"site": out, "ids": ids, "first": first, "db": db}


def board_page(site: dict, key: str) -> Path:
    return site["site"] / "boards" / site["ids"][key] / "index.html"


def svg_texts(svg) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.get_text() for t in svg.find_all("text")]


def axis_labels(svg, title: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The labels of the axis (or legend) whose title is ``title``."""
    for group in svg.select("g.role-axis, g.role-legend"):
        titles = [t.get_text() for t in group.select(".role-axis-title text, "
                                                     ".role-legend-title text")]
        if titles == [title]:
            return [t.get_text() for t in group.select(".role-axis-label text, "
                                                       ".role-legend-label text")]
    raise AssertionError(f"no axis titled {title!r}")


def svg_of(markup: object) -> BeautifulSoup:
    return BeautifulSoup(str(markup), "html5lib").find("svg")


# --- 1. rank history ---------------------------------------------------------------------

@pytest.mark.parametrize("models", [3, 5, 40])
def test_rank_axis_shows_each_whole_rank_once(models: int) -> None:
    days = ["2026-01-01", "2026-01-02", "2026-01-03"]
    names = [f"m{k}" for k in range(models)]
    history = pd.DataFrame([{"period": d, "name": n, "rank": k + 1}
                            for d in days for k, n in enumerate(names)])
    labels = axis_labels(svg_of(charts.rank_history_chart(history, names, x_title="day",
                                                          max_models=models)), "rank")
    assert all(re.fullmatch(r"\d+", label) for label in labels), labels
    assert len(labels) == len(set(labels)), f"a rank labelled twice: {labels}"
    if models <= 12:
        assert labels == [str(r) for r in range(1, models + 1)], "one tick per rank"
    else:
        assert len(labels) <= 12 and labels[0] == "1"


def test_rank_by_site_build_is_collapsed_until_a_second_build(site: dict) -> None:
    first = parse(site["first"] / "images.html").select_one("#history")
    assert not first.select(".grid-2"), "no half-empty two-column card"
    assert [h.get_text() for h in first.find_all("h3")] == ["By day of votes"]
    note = first.select_one("#by-build-note").get_text()
    assert "second build" in note
    alone = first.select_one("figure.chart svg")
    assert int(alone["width"]) == charts.CARD_PX, "rank by day alone takes the card's width"
    second = parse(board_page(site, "images")).select_one("#history")
    assert [h.get_text() for h in second.find_all("h3")] == ["By day of votes", "By site build"]
    assert len(second.select("figure.chart svg")) == 2
    assert second.select_one("#by-build-note") is None


# --- 2. heatmaps and the score chart ------------------------------------------------------

def _hex(colour: str) -> tuple[float, ...]:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    return tuple(int(colour[i:i + 2], 16) / 255 for i in (0, 2, 4))


def cell_contrasts(svg) -> list[float]:  # type: ignore[no-untyped-def]
    """For each number printed in a heatmap cell, its contrast with that cell's fill."""
    cells = []
    for path in svg.select("g.role-mark path[fill]"):
        x, y, w, h = (float(v) for v in re.fullmatch(
            r"M(-?[\d.]+),(-?[\d.]+)h(-?[\d.]+)v(-?[\d.]+)h-?[\d.]+Z", path["d"]).groups())
        cells.append((x, y, x + w, y + h, path["fill"]))
    found = []
    for text in svg.select("g.role-mark text"):
        tx, ty = (float(v) for v in re.search(r"translate\(([-\d.]+),([-\d.]+)\)",
                                              text["transform"]).groups())
        fill = next(f for x0, y0, x1, y1, f in cells if x0 <= tx <= x1 and y0 <= ty <= y1)
        found.append(charts.contrast(_hex(fill), _hex(text["fill"])))
    return found


SMALL = pd.DataFrame([[np.nan, 8, 9], [8, np.nan, 8], [9, 8, np.nan]],
                     index=list("abc"), columns=list("abc"))


@pytest.mark.parametrize("kind,matrix", [("count", SMALL), ("win_rate", SMALL / 10),
                                         ("win_rate", 1 - SMALL / 10), ("count", SMALL * 7)])
def test_heatmap_numbers_contrast_with_their_cells(kind: str, matrix: pd.DataFrame) -> None:
    found = cell_contrasts(svg_of(charts.heatmap(matrix, list("abc"), kind=kind)))
    assert len(found) == 6
    assert min(found) >= 4.5, f"WCAG AA needs 4.5:1, got {min(found):.2f}"


def test_heatmaps_on_the_built_pages_are_readable(site: dict) -> None:
    for key in ("images", "audio", "video"):
        soup = parse(board_page(site, key))
        for section in ("win-rates", "vote-counts"):
            svg = soup.select_one(f"#{section} svg")
            if svg is not None:
                assert min(cell_contrasts(svg)) >= 4.5, (key, section)


def test_every_cell_colour_gets_readable_text() -> None:
    for grey in range(256):  # the hardest cells are mid-tones; a ramp passes through them
        cell = (grey / 255,) * 3
        ink = charts._rgb(charts._text_colour(cell))
        assert charts.contrast(cell, ink) >= 4.5, grey


def test_vote_legend_shows_whole_votes() -> None:
    labels = axis_labels(svg_of(charts.heatmap(SMALL, list("abc"), kind="count")), "votes")
    assert labels and all(re.fullmatch(r"\d+", label) for label in labels), labels
    assert len(labels) == len(set(labels))


def test_score_chart_is_card_wide_with_legible_text(site: dict) -> None:
    svg = parse(board_page(site, "images")).select_one("#scores svg")
    assert int(svg["width"]) == charts.CARD_PX
    sizes = {float(t["font-size"].rstrip("px")) for t in svg.find_all("text")}
    assert sizes and min(sizes) >= 12, sizes


# --- 3. tie bands and the podium ------------------------------------------------------------

def test_tied_badge_names_the_places_its_band_shares(site: dict) -> None:
    seen = 0
    for key in ("images", "video"):
        rows = parse(board_page(site, key)).select("table.standings tbody tr")
        by_group: dict[str, list[int]] = {}
        for row in rows:
            if row.select_one(".badge.tied"):
                by_group.setdefault(row["data-group"], []).append(int(row.td["data-value"]))
        for row in rows:
            badge = row.select_one(".badge.tied")
            if badge is None:
                continue
            ranks = by_group[row["data-group"]]
            assert len(ranks) > 1, "a model is tied with someone"
            assert badge.get_text() == f"tied {min(ranks)}–{max(ranks)}"
            seen += 1
    assert seen >= 3


def test_podium_does_not_crown_one_of_models_that_cannot_be_told_apart(site: dict) -> None:
    soup = parse(board_page(site, "video"))
    ranks = [row.select_one(".badge.tied") for row in soup.select("table.standings tbody tr")]
    assert all(b is not None and b.get_text() == "tied 1–3" for b in ranks), "precondition"
    note = soup.select_one(".podium-tie")
    assert note is not None and note.get_text().startswith("1–3: cannot be told apart yet")
    podium = soup.select_one("ol.podium")
    assert podium.get("aria-describedby") == "podium-tie"
    assert not podium.select(".p1"), "no gold place for one of them"
    assert [li.select_one(".place").get_text() for li in podium.find_all("li")] == ["1–3"] * 3


def test_a_clear_leader_keeps_the_gold_place(tmp_path: Path) -> None:
    # A board of its own: the fixture's 2-prompt boards leave their models tied (two prompts
    # cannot say how the models do on others); one prompt has only its votes to resample.
    client = Client(tmp_path / "db" / "leaderboards.db", create=True)
    board = client.mri.create_new_leaderboard("Solo", "Which is better?", ["only prompt"], True)
    for m, name in enumerate(MODELS[:2]):
        board.evaluate_model(name, [make_png(tmp_path / f"solo-{m}.png", 700 + m, size=16)],
                             ["only prompt"])
    vote_until(board, 30, MODELS[:2])
    board_id = board.id
    client.close()
    build_site(tmp_path / "db" / "leaderboards.db", tmp_path / "site", progress=None)
    soup = parse(tmp_path / "site" / "boards" / board_id / "index.html")
    assert soup.select_one("table.standings .badge.tied") is None
    assert soup.select_one(".podium-tie") is None
    assert soup.select_one("ol.podium .p1 .place").get_text() == "1"


# --- 4. one prompt on the podium, players, prompt thumbnails --------------------------------

def _resolved(page: Path, src: str) -> Path:
    return (page.parent / src).resolve()


def test_podium_compares_the_models_on_one_prompt(site: dict) -> None:
    page = board_page(site, "images")
    soup = parse(page)
    link = soup.select_one(".podium-prompt a")
    prompt_page = page.parent / link["href"]
    shown = parse(prompt_page)
    expected = {}
    for card in shown.select(".media-card"):
        name = card.select_one(".who a").get_text()
        expected[name] = _resolved(prompt_page, card.img["src"])
    podium = soup.select("ol.podium li")
    assert len(podium) == 3
    for li in podium:
        name = li.select_one(".name").get_text()
        assert _resolved(page, li.img["src"]) == expected[name], name
    text = shown.select_one(".prompt-text").get_text()
    assert text in soup.select_one(".podium-prompt").get_text(), "the prompt is named"


def test_video_podium_uses_a_prompt_every_model_has_and_real_players(site: dict) -> None:
    soup = parse(board_page(site, "video"))
    note = soup.select_one(".podium-prompt")
    assert note.a.get_text() == "prompt 2" and VIDEO_PROMPTS[1] in note.get_text()
    players = soup.select("ol.podium video")
    assert len(players) == 3 and "♪" not in soup.select_one("ol.podium").get_text()
    assert len({p["src"] for p in players}) == 3
    for p in players:
        assert p.has_attr("controls") and p["preload"] == "none"
        assert not p.has_attr("autoplay")
        assert _resolved(board_page(site, "video"), p["src"]).is_file()


def test_audio_podium_has_players_and_keeps_hidden_prompts_hidden(site: dict) -> None:
    soup = parse(board_page(site, "audio"))
    podium = soup.select_one("ol.podium")
    players = podium.select("audio")
    assert len(players) == 2 and "♪" not in podium.get_text()
    assert all(p.has_attr("controls") and p["preload"] == "none" for p in players)
    assert not any(p.has_attr("autoplay") for p in soup.find_all(["audio", "video"]))
    note = soup.select_one(".podium-prompt").get_text()
    assert "beep" not in note and "boop" not in note, "show_prompt=False: texts unpublished"


def test_prompt_cards_have_thumbnails(site: dict) -> None:
    page = board_page(site, "images")
    cards = parse(page).select("#prompts .prompt-list li")
    assert len(cards) == 3
    for card in cards:
        img = card.select_one("img")
        assert img is not None and img["loading"] == "lazy"
        assert _resolved(page, img["src"]).is_file()


@pytest.mark.slow
def test_pages_with_podium_players_pass_the_nu_html_checker(site: dict) -> None:
    from test_site_html_valid import check_pages

    check_pages(site["site"])
