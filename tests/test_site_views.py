"""The board page's "Counted other ways" table: unweighted standings beside a board whose
standings weigh raters by reliability, and one column per audience on a board restricted to
two or more audiences (issue #14)."""

from __future__ import annotations

from pathlib import Path

from conftest import make_png
from rater import Client
from site_builder import Settings, build_site
from site_support import parse

SETTINGS = Settings(n_bootstrap=0)
MODELS = ["alpha", "beta", "gamma"]


def _board(folder: Path, **settings):
    client = Client(folder / "lb.db", create=True)
    bench = client.mri.create_new_benchmark("B <i>", prompts=[f"prompt {i}" for i in range(4)])
    lb = bench.create_leaderboard("Looks", "Which looks better?", repeat_share=0, **settings)
    for m, name in enumerate(MODELS):
        bench.evaluate_model(name, [make_png(folder / name / f"{i}.png", 10 * m + i) for i in range(4)],
                             identifiers=bench.identifiers)
    return client, lb


def _vote(lb, raters: list[str], flip_rater: str | None = None) -> None:
    for _ in range(12):
        for rater in raters:
            m = lb.next_matchup(rater, continue_when_settled=True)
            if m is None:
                continue
            left_better = MODELS.index(m.left.model) < MODELS.index(m.right.model)
            if rater == flip_rater:
                left_better = not left_better
            lb.record_vote(m.id, "left" if left_better else "right", rater)


def _views(site: Path, board_id: str) -> tuple[list[str], dict[str, list[str]]]:
    soup = parse(site / "boards" / board_id / "index.html")
    section = soup.find(id="views")
    if section is None:
        return [], {}
    heads = [th.get_text(strip=True) for th in section.find("thead").find_all("th")][1:]
    rows = {tr.find("td").get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")[1:]]
            for tr in section.find("tbody").find_all("tr")}
    return heads, rows


def test_a_weighted_board_shows_the_unweighted_standings_beside(tmp_path: Path) -> None:
    client, lb = _board(tmp_path, weighted_scoring=True)
    _vote(lb, ["ann", "bob", "cy", "dee"], flip_rater="dee")
    assert lb.weighted_scoring and lb.get_standings().attrs.get("rater_reliability")  # weighted by default
    plain = lb.get_standings(weighted=False)
    build_site(tmp_path / "lb.db", tmp_path / "site", settings=SETTINGS, progress=None)
    heads, rows = _views(tmp_path / "site", lb.id)
    assert heads == ["Unweighted"]
    assert set(rows) == set(MODELS)
    for name, rank in zip(plain["name"], plain["rank"]):
        assert rows[name][0].startswith(str(int(rank)))
    soup = parse(tmp_path / "site" / "boards" / lb.id / "index.html")
    assert "reliability" in soup.find(id="views").get_text()
    # turning it off removes the table at the next build
    lb.update(weighted_scoring=False)
    build_site(tmp_path / "lb.db", tmp_path / "site", settings=SETTINGS, progress=None)
    assert _views(tmp_path / "site", lb.id) == ([], {})


def test_a_board_of_two_audiences_shows_each_audiences_standings(tmp_path: Path) -> None:
    client, lb = _board(tmp_path)
    experts = client.audience.create_audience("Experts <b>")
    crowd = client.audience.create_audience("Crowd")
    experts.attach(lb)
    crowd.attach(lb)
    e = [i.rater for i in experts.invite(lb, 2)]
    c = [i.rater for i in crowd.invite(lb, 2)]
    _vote(lb, e)
    _vote(lb, c, flip_rater=c[0])
    build_site(tmp_path / "lb.db", tmp_path / "site", settings=SETTINGS, progress=None)
    heads, rows = _views(tmp_path / "site", lb.id)
    assert heads == ["Votes of Crowd", "Votes of Experts <b>"]  # by name; escaped text, not markup
    page = (tmp_path / "site" / "boards" / lb.id / "index.html").read_text(encoding="utf-8")
    assert "Experts <b>" not in page and "Experts &lt;b&gt;" in page
    by_experts = lb.get_standings(audience=experts)
    for name, rank in zip(by_experts["name"], by_experts["rank"]):
        assert rows[name][1].startswith(str(int(rank)))


def test_the_cli_turns_weighted_scoring_on_and_prints_either_table(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from rater.cli.main import cli

    client, lb = _board(tmp_path)
    _vote(lb, ["ann", "bob", "cy"], flip_rater="cy")
    db = ["--db", str(tmp_path / "lb.db")]
    runner = CliRunner()
    on = runner.invoke(cli, [*db, "update", lb.id, "--weighted-scoring"])
    assert on.exit_code == 0 and "weigh raters by estimated reliability" in on.output
    assert client.mri.get_leaderboard_by_id(lb.id).weighted_scoring
    weighted = runner.invoke(cli, [*db, "standings", lb.id, "--format", "json"])
    plain = runner.invoke(cli, [*db, "standings", lb.id, "--format", "json", "--unweighted"])
    import json

    assert weighted.exit_code == plain.exit_code == 0
    for result, flag in ((weighted, True), (plain, False)):
        expected = lb.get_standings(weighted=flag)
        shown = json.loads(result.output)["standings"]
        assert [r["name"] for r in shown] == list(expected["name"])
        assert [round(r["score"], 6) for r in shown] == [round(float(x), 6) for x in expected["score"]]
    refused = runner.invoke(cli, [*db, "standings", "nope", "--weighted"])
    assert refused.exit_code == 1
