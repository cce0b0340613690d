"""The site's benchmark pages: a benchmark of two leaderboards (criteria) over one prompt set,
built from a real database through the public API and checked by parsing the HTML.

The benchmark page shows the criteria side by side and the overall standings; the index lists
the benchmark with its boards under it; each model page lists every criterion; a disabled
participant leaves every page and comes back; a deleted one is gone; a vote on one criterion
rebuilds the benchmark's page and boards (and nothing else); the pages pass the HTML checker.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import make_png
from rater import Client
from site_builder import Settings, build_site
from site_support import local_targets, pages, parse, set_vote_time, vote_until
from test_site_html_valid import check_pages

HOSTILE = '<script>alert("b")</script>'
BENCH_NAME = f"T2I {HOSTILE} & co"
LOOKS = f"Looks <b>good</b> {HOSTILE}"
LOOKS_INSTRUCTION = f"Which looks better? {HOSTILE}"
FLAWS = "Flaws"
#: Best first on both criteria; one name is markup, one a spreadsheet formula.
MODELS = ["alpha", f"beta {HOSTILE}", "=gamma+1"]
IDENTIFIERS = ["cat", "dog", "lake"]
PROMPTS = ["A red cat", "A dog", "A quiet lake"]
SETTINGS = Settings(n_bootstrap=20)


def make_benchmark(folder: Path) -> tuple[Path, dict[str, str]]:
    """A benchmark of two criteria (one "which has more flaws?") rating three participants
    with votes, and a board of its own made the old way (``create_new_leaderboard``)."""
    media = folder / "inputs"
    db = folder / "db" / "leaderboards.db"
    client = Client(db, create=True)
    bench = client.mri.create_new_benchmark(BENCH_NAME, identifiers=IDENTIFIERS, prompts=PROMPTS)
    looks = bench.create_leaderboard(LOOKS, LOOKS_INSTRUCTION, show_prompt=True, min_votes=10)
    flaws = bench.create_leaderboard(FLAWS, "Which has more flaws?", inverse_ranking=True,
                                     min_votes=10)
    for m, name in enumerate(MODELS):
        bench.evaluate_model(name, [make_png(media / f"b{m}-{p}.png", 40 + 10 * m + p, size=16)
                                    for p in range(len(IDENTIFIERS))], identifiers=IDENTIFIERS)
    vote_until(looks, 45, MODELS)
    vote_until(flaws, 45, MODELS)
    solo = client.mri.create_new_leaderboard("Solo", "Which is better?", ["one", "two"], True)
    for m, name in enumerate(["left-model", "right-model"]):
        solo.evaluate_model(name, [make_png(media / f"s{m}-{p}.png", 400 + 10 * m + p, size=16)
                                   for p in range(2)], ["one", "two"])
    vote_until(solo, 20, ["left-model", "right-model"])
    ids = {"bench": bench.id, "looks": looks.id, "flaws": flaws.id, "solo": solo.id}
    client.close()
    return db, ids


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    folder = tmp_path_factory.mktemp("bench")
    db, ids = make_benchmark(folder)
    site = folder / "site"
    result = build_site(db, site, settings=SETTINGS, progress=None)
    assert not result.failed and not result.warnings
    return db, ids, site


def bench_page(site: Path, ids: dict[str, str]) -> Path:
    return site / "benchmarks" / ids["bench"] / "index.html"


def overall_names(site: Path, ids: dict[str, str]) -> list[str]:
    table = parse(bench_page(site, ids)).find(id="overall-table")
    return [row["data-name"] for row in table.find_all("tr") if row.has_attr("data-name")]


def text(tag) -> str:
    return " ".join(tag.get_text(" ").split())


def bdi_texts(tag) -> list[str]:
    return [b.get_text() for b in tag.find_all("bdi")]


def criteria_cells(site: Path, ids: dict[str, str]) -> dict[str, list[str]]:
    """The side-by-side table: participant -> the text of each criterion's cell."""
    table = parse(bench_page(site, ids)).find(id="criteria-table")
    return {row["data-name"]: [text(td) for td in row.find_all("td")]
            for row in table.find("tbody").find_all("tr")}


def board_scores(site: Path, board_id: str) -> dict[str, float]:
    document = json.loads((site / "boards" / board_id / "standings.json").read_text(encoding="utf-8"))
    return {r["name"]: r["score"] for r in document["standings"]}


def test_the_benchmark_page_shows_both_criteria_and_the_overall_standings(built) -> None:
    _db, ids, site = built
    soup = parse(bench_page(site, ids))
    assert soup.find("h1").get_text() == BENCH_NAME
    # the criteria, linked to their boards, in the order they were made
    heads = soup.find(id="criteria-table").find("thead").find_all("th", class_="criterion")
    assert [h.find("bdi").get_text() for h in heads] == [LOOKS, FLAWS]
    assert [h.find("a")["href"] for h in heads] == [f"../../boards/{ids['looks']}/index.html",
                                                     f"../../boards/{ids['flaws']}/index.html"]
    assert LOOKS_INSTRUCTION in text(heads[0])
    # every participant, best first (the votes made alpha > beta > gamma on both criteria)
    assert overall_names(site, ids) == MODELS
    cells = criteria_cells(site, ids)
    assert list(cells) == MODELS
    for k, board in enumerate(("looks", "flaws")):
        scores = board_scores(site, ids[board])
        assert scores[MODELS[0]] > scores[MODELS[1]] > scores[MODELS[2]]
        for name in MODELS:  # each cell shows that board's own score and a rank range
            assert cells[name][k].startswith(f"{scores[name]:,.0f} ")
            assert " rank " in cells[name][k]
    # overall rows: a rank range and a score with its interval
    rows = soup.find(id="overall-table").find_all("tr", attrs={"data-name": True})
    first = [text(td) for td in rows[0].find_all("td")]
    assert first[0].startswith("1") and "–" in first[2]
    assert soup.find(id="overall").find("svg") is not None  # the interval chart


def test_hostile_names_and_instructions_are_escaped_everywhere(built) -> None:
    _db, ids, site = built
    for page in pages(site):
        soup = parse(page)
        for script in soup.find_all("script"):
            assert script.get("src", "").endswith(("static/sort.js", "static/filter.js")), page
        assert not soup.find_all("b"), page  # "Looks <b>good</b>" stays text
    soup = parse(bench_page(site, ids))
    assert soup.find("title").get_text().startswith(f"\u2068{BENCH_NAME}\u2069")
    assert MODELS[1] in bdi_texts(soup.find(id="overall-table"))


def test_every_link_of_the_new_pages_resolves(built) -> None:
    _db, ids, site = built
    checked = [bench_page(site, ids), site / "index.html",
               *sorted((site / "boards" / ids["looks"] / "models").glob("*.html"))]
    for page in checked:
        for href, target in local_targets(page, parse(page)):
            assert target.exists(), f"{page.relative_to(site)}: {href}"


def test_the_index_lists_the_benchmark_with_its_boards_under_it(built) -> None:
    _db, ids, site = built
    soup = parse(site / "index.html")
    groups = soup.find_all("section", class_="benchmark-group")
    assert len(groups) == 1
    group = groups[0]
    assert group.find("h2").get_text() == BENCH_NAME
    assert group.find("h2").find("a")["href"] == f"benchmarks/{ids['bench']}/index.html"
    inside = [a["href"] for a in group.find_all("a", class_="board-card")]
    assert inside == [f"boards/{ids['looks']}/index.html", f"boards/{ids['flaws']}/index.html"]
    solo = soup.find("a", href=f"boards/{ids['solo']}/index.html")
    assert solo.find_parent("section", class_="benchmark-group") is None  # listed as ever
    assert not (site / "benchmarks" / ids["solo"]).exists()  # a one-board benchmark: no page


def test_board_pages_link_to_their_benchmark(built) -> None:
    _db, ids, site = built
    for board in ("looks", "flaws"):
        link = parse(site / "boards" / ids[board] / "index.html").find(class_="benchmark-link")
        assert link.find("a")["href"] == f"../../benchmarks/{ids['bench']}/index.html"
    assert parse(site / "boards" / ids["solo"] / "index.html").find(class_="benchmark-link") is None


def model_pages(site: Path, board_id: str) -> dict[str, Path]:
    found = {}
    for page in (site / "boards" / board_id / "models").glob("*.html"):
        found[parse(page).find("h1").get_text()] = page
    return found


def test_model_pages_list_every_criterion(built) -> None:
    _db, ids, site = built
    for board in ("looks", "flaws"):
        by_name = model_pages(site, ids[board])
        assert sorted(by_name) == sorted(MODELS)
        for name, page in by_name.items():
            rows = parse(page).find(id="criteria").find("tbody").find_all("tr")
            assert [r.find("th").find("bdi").get_text() for r in rows] == [LOOKS, FLAWS]
            for row, other in zip(rows, ("looks", "flaws")):
                target = (page.parent / row.find("a")["href"]).resolve()
                assert target.parent.parent.name == ids[other]
                assert parse(target).find("h1").get_text() == name  # the same model there
                score = board_scores(site, ids[other])[name]
                assert text(row.find_all("td")[1]).startswith(f"{score:,.0f} ")
    solo = next(iter(model_pages(site, ids["solo"]).values()))
    assert parse(solo).find(id="criteria") is None


def test_downloads_carry_the_overall_standings_with_safe_cells(built) -> None:
    _db, ids, site = built
    folder = site / "benchmarks" / ids["bench"]
    with open(folder / "standings.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["name"] for r in rows] == ["alpha", MODELS[1], "'=gamma+1"]  # no live formula
    assert {f"score_{ids['looks']}", f"score_{ids['flaws']}", "ci_low", "rank_high"} <= set(rows[0])
    document = json.loads((folder / "standings.json").read_text(encoding="utf-8"))
    assert document["benchmark"] == {"id": ids["bench"], "name": BENCH_NAME}
    assert [b["name"] for b in document["leaderboards"]] == [LOOKS, FLAWS]
    assert [r["name"] for r in document["standings"]] == MODELS  # the exact names
    assert parse(bench_page(site, ids)).find(id="downloads").find("a")["href"] == "standings.csv"


@pytest.mark.slow
def test_the_new_pages_pass_the_nu_html_checker(built) -> None:
    _db, _ids, site = built
    check_pages(site)


def names_on_pages(site: Path) -> dict[str, str]:
    """Every page's text and every download's content, by path (to look for a name)."""
    found = {str(p.relative_to(site)): parse(p).get_text(" ") for p in pages(site)}
    for pattern in ("benchmarks/*/standings.*", "boards/*/standings.*", "boards/*/votes.csv"):
        found.update({str(p.relative_to(site)): p.read_text(encoding="utf-8")
                      for p in site.glob(pattern)})
    return found


def benchmark_tables(site: Path, ids: dict[str, str]) -> list[str]:
    soup = parse(bench_page(site, ids))
    return [text(soup.find(id="overall-table")), text(soup.find(id="criteria-table"))]


def test_a_disabled_participant_leaves_every_page_and_comes_back(tmp_path: Path) -> None:
    db, ids = make_benchmark(tmp_path)
    site = tmp_path / "site"
    build_site(db, site, settings=SETTINGS, progress=None)
    before = benchmark_tables(site, ids)
    client = Client(db)
    beta = client.mri.get_benchmark_by_id(ids["bench"]).participant(MODELS[1])
    beta.disable()
    result = build_site(db, site, settings=SETTINGS, progress=None)
    assert set(result.rebuilt) == {ids["looks"], ids["flaws"]}  # the solo board is untouched
    leaks = [path for path, content in names_on_pages(site).items() if "beta" in content]
    assert not leaks
    assert overall_names(site, ids) == [MODELS[0], MODELS[2]]
    assert sorted(model_pages(site, ids["looks"])) == sorted([MODELS[0], MODELS[2]])
    beta.enable()
    build_site(db, site, settings=SETTINGS, progress=None)
    assert benchmark_tables(site, ids) == before  # its votes were kept: the same standings
    assert sorted(model_pages(site, ids["flaws"])) == sorted(MODELS)
    client.close()


def test_a_deleted_participant_is_gone_from_every_page(tmp_path: Path) -> None:
    db, ids = make_benchmark(tmp_path)
    site = tmp_path / "site"
    build_site(db, site, settings=SETTINGS, progress=None)
    client = Client(db)
    client.mri.get_benchmark_by_id(ids["bench"]).participant(MODELS[1]).delete()
    client.close()
    build_site(db, site, settings=SETTINGS, progress=None)
    assert not [path for path, content in names_on_pages(site).items() if "beta" in content]
    assert overall_names(site, ids) == [MODELS[0], MODELS[2]]
    assert list(criteria_cells(site, ids)) == [MODELS[0], MODELS[2]]
    for board in ("looks", "flaws"):
        page = next(p for n, p in model_pages(site, ids[board]).items() if n == "alpha")
        assert len(parse(page).find(id="criteria").find("tbody").find_all("tr")) == 2


def test_a_vote_on_one_criterion_rebuilds_its_benchmark_and_nothing_else(tmp_path: Path) -> None:
    db, ids = make_benchmark(tmp_path)
    site = tmp_path / "site"
    build_site(db, site, settings=SETTINGS, progress=None)
    assert build_site(db, site, settings=SETTINGS, progress=None).skipped
    votes_before = json.loads((bench_page(site, ids).parent / "standings.json").read_text())["leaderboards"]
    client = Client(db)
    flaws_page = model_pages(site, ids["flaws"])["alpha"]
    vote_until(client.mri.get_leaderboard_by_id(ids["looks"]), 6, MODELS, prefix="late")
    client.close()
    result = build_site(db, site, settings=SETTINGS, progress=None)
    # the other criterion's model pages show the new votes: its board is rebuilt too
    assert set(result.rebuilt) == {ids["looks"], ids["flaws"]}
    document = json.loads((bench_page(site, ids).parent / "standings.json").read_text())
    assert document["leaderboards"][0]["votes"] == votes_before[0]["votes"] + 6
    looks_votes = int(text(parse(flaws_page).find(id="criteria").find("tbody").find_all("tr")[0]
                           .find_all("td")[2]))
    assert looks_votes == json.loads((site / "boards" / ids["looks"] / "standings.json").read_text(
        ))["standings"][0]["total_matches"]
    # a vote on the solo board leaves the benchmark's pages as they were
    client = Client(db)
    vote_until(client.mri.get_leaderboard_by_id(ids["solo"]), 2, ["left-model", "right-model"],
               prefix="solo")
    client.close()
    assert build_site(db, site, settings=SETTINGS, progress=None).rebuilt == [ids["solo"]]


def test_naming_one_criterion_builds_its_whole_benchmark(tmp_path: Path) -> None:
    db, ids = make_benchmark(tmp_path)
    site = tmp_path / "site"
    result = build_site(db, site, [ids["flaws"]], settings=SETTINGS, progress=None)
    assert result.boards == [ids["looks"], ids["flaws"]]  # in the benchmark's order
    assert bench_page(site, ids).is_file()
    assert [a["href"] for a in parse(site / "index.html").find_all("a", class_="board-card")] == [
        f"boards/{ids['looks']}/index.html", f"boards/{ids['flaws']}/index.html"]
    # the solo board joins later; the benchmark is kept as it is
    result = build_site(db, site, [ids["solo"]], settings=SETTINGS, progress=None)
    assert result.rebuilt == [ids["solo"]] and sorted(result.kept) == sorted([ids["looks"], ids["flaws"]])
    assert bench_page(site, ids).is_file()
    assert len(parse(site / "index.html").find_all("section", class_="benchmark-group")) == 1
    # --only publishes just the solo board: the benchmark and its page are dropped
    build_site(db, site, [ids["solo"]], only=True, settings=SETTINGS, progress=None)
    assert not (site / "benchmarks").exists()
    assert not parse(site / "index.html").find_all("section", class_="benchmark-group")
    # and --only with one criterion publishes the benchmark whole again
    result = build_site(db, site, [ids["looks"]], only=True, settings=SETTINGS, progress=None)
    assert sorted(result.boards) == sorted([ids["looks"], ids["flaws"]]) and bench_page(site, ids).is_file()


def test_a_newcomer_not_yet_voted_on_one_criterion_is_listed_last_and_marked(tmp_path: Path) -> None:
    db, ids = make_benchmark(tmp_path)
    client = Client(db)
    bench = client.mri.get_benchmark_by_id(ids["bench"])
    bench.evaluate_model("delta", [make_png(tmp_path / f"d-{p}.png", 900 + p, size=16)
                                   for p in range(len(IDENTIFIERS))], identifiers=IDENTIFIERS)
    vote_until(client.mri.get_leaderboard_by_id(ids["looks"]), 12, [*MODELS, "delta"], prefix="new")
    client.close()
    site = tmp_path / "site"
    build_site(db, site, settings=SETTINGS, progress=None)
    assert overall_names(site, ids) == [*MODELS, "delta"]
    last = parse(bench_page(site, ids)).find("tr", attrs={"data-name": "delta"})
    assert last.find_parent("tbody")["class"] == ["preliminary"]
    assert "incomplete" in text(last) and text(last.find_all("td")[2]) == "–"  # no overall score
    looks, flaws = criteria_cells(site, ids)["delta"]
    assert " rank " in looks and flaws == "no votes yet"


@pytest.mark.slow
def test_a_criterion_that_fails_to_build_is_named_on_its_benchmark_page(tmp_path: Path) -> None:
    db, ids = make_benchmark(tmp_path)
    set_vote_time(db, ids["looks"], "yesterday")  # unreadable: this board fails to build
    site = tmp_path / "site"
    result = build_site(db, site, settings=SETTINGS, progress=None)
    assert list(result.failed) == [ids["looks"]]
    assert ids["flaws"] in result.rebuilt
    cells = criteria_cells(site, ids)
    assert [cells[name][0] for name in MODELS] == ["could not be built"] * 3
    assert all(" rank " in cells[name][1] for name in MODELS)
    check_pages(site)
    # mended, the next build (here for a vote elsewhere) tries the benchmark again, whole
    set_vote_time(db, ids["looks"], 1.0e9)
    client = Client(db)
    vote_until(client.mri.get_leaderboard_by_id(ids["solo"]), 1, ["left-model", "right-model"],
               prefix="solo")
    client.close()
    result = build_site(db, site, settings=SETTINGS, progress=None)
    assert not result.failed
    assert set(result.rebuilt) == {ids["looks"], ids["flaws"], ids["solo"]}
    assert overall_names(site, ids) == MODELS


def test_a_majority_criterion_is_ranked_on_its_majorities_everywhere(tmp_path: Path) -> None:
    """Nine raters judge the one media pair, X six times and Y three: the majority criterion
    counts one matchup (X won it), the other criterion all nine votes."""
    db = tmp_path / "db" / "leaderboards.db"
    client = Client(db, create=True)
    bench = client.mri.create_new_benchmark("Majority", identifiers=["only"], prompts=["a prompt"])
    majority = bench.create_leaderboard("Majority", "Which is better?", vote_aggregation="majority",
                                        min_votes=0)
    every = bench.create_leaderboard("Every vote", "Which is better?", min_votes=0)
    for m, name in enumerate(["X", "Y"]):
        bench.evaluate_model(name, [make_png(tmp_path / f"{name}.png", 700 + m, size=16)],
                             identifiers=["only"])
    for board in (majority, every):
        for k in range(9):
            matchup = board.next_matchup(f"rater-{k}", continue_when_settled=True)
            winner = "X" if k < 6 else "Y"
            board.record_vote(matchup.id, "left" if matchup.left.model == winner else "right", f"rater-{k}")
    ids = {"bench": bench.id, "majority": majority.id, "every": every.id}
    api = {n: majority.get_standings(**SETTINGS.standings_options()).set_index("name")["score"][n]
           for n in ("X", "Y")}
    client.close()
    site = tmp_path / "site"
    build_site(db, site, settings=SETTINGS, progress=None)
    counted = {board: {r["name"]: r["total_matches"] for r in json.loads(
        (site / "boards" / ids[board] / "standings.json").read_text())["standings"]}
        for board in ("majority", "every")}
    assert counted == {"majority": {"X": 1, "Y": 1}, "every": {"X": 9, "Y": 9}}
    scores = board_scores(site, ids["majority"])
    assert scores == pytest.approx({n: round(float(v), 4) for n, v in api.items()}, abs=1e-3)
    cells = criteria_cells(site, ids)
    assert cells["X"][0].startswith(f"{scores['X']:,.0f} ")
    votes_csv = (site / "boards" / ids["majority"] / "votes.csv").read_text().splitlines()
    assert len(votes_csv) == 1 + 9  # the evidence keeps every vote


@pytest.mark.browser
@pytest.mark.parametrize("view", ["light-wide", "dark-phone"])
def test_the_benchmark_page_in_chromium_from_disk(built, view: str) -> None:
    """No request leaves the site, no script error, no sideways scrolling of the page (the
    tables scroll in their own box), and the overall table sorts."""
    from test_site_browser import ARGS, ARTIFACTS, CHROMIUM, VIEWS

    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    _db, ids, site = built
    requests: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_context(**VIEWS[view]).new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: errors.append(f"dialog: {d.message}"))
        page.goto(bench_page(site, ids).resolve().as_uri())
        page.wait_for_load_state("load")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"benchmark-{view}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= VIEWS[view]["viewport"]["width"] + 1, "no sideways scrolling of the page"
        score = page.locator("#overall-table thead th:nth-child(3) button")
        score.click()  # ascending: the lowest overall score first
        assert page.locator("#overall-table tbody tr").first.get_attribute("data-name") == MODELS[2]
        browser.close()
    root = site.resolve().as_uri()
    assert not [u for u in requests if not u.startswith(root + "/")]
    assert not errors, errors


def test_a_renamed_participant_is_renamed_on_every_page(tmp_path: Path) -> None:
    db, ids = make_benchmark(tmp_path)
    site = tmp_path / "site"
    build_site(db, site, settings=SETTINGS, progress=None)
    client = Client(db)
    client.mri.get_benchmark_by_id(ids["bench"]).participant("alpha").rename("omega")
    client.close()
    result = build_site(db, site, settings=SETTINGS, progress=None)
    assert set(result.rebuilt) == {ids["looks"], ids["flaws"]}
    assert overall_names(site, ids) == ["omega", *MODELS[1:]]
    assert not [path for path, content in names_on_pages(site).items() if "alpha" in content]
    page = model_pages(site, ids["flaws"])["omega"]
    links = parse(page).find(id="criteria").find_all("a", href=True)
    assert all(parse((page.parent / a["href"]).resolve()).find("h1").get_text() == "omega"
               for a in links[1:])  # the first link is the benchmark page
