"""``publish_prompts``: whether the static site publishes the prompt texts, a board setting
apart from ``show_prompt`` (what raters see). Set through the API and the CLI; honoured by
the board page, prompt cards and pages, the podium caption, model pages and downloads."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

import site_builder
from rater import Client, ValidationError
from rater.cli.main import cli
from site_builder import build_site
from site_support import HOSTILE, parse, vote_until
from conftest import make_png

PROMPTS = ["A red cat on a mat", f"A secret prompt {HOSTILE}"]
MODELS = ["one", "two", "three"]

pytestmark = pytest.mark.both_backends  # the site built from SQLite, then from PostgreSQL


def _board(folder: Path, db: str, **options):
    client = Client(db, create=True)
    lb = client.mri.create_new_leaderboard("B", "Which?", PROMPTS, **options)
    for m, name in enumerate(MODELS):
        lb.evaluate_model(name, [make_png(folder / f"in/{m}-{p}.png", 10 * m + p, size=16)
                                 for p in range(2)], PROMPTS)
    vote_until(lb, 30, MODELS)
    return db, lb


def _site_texts(db: str, site: Path) -> tuple[str, list[str]]:
    """The whole site's visible text and the prompt column of votes.csv."""
    build_site(db, site, progress=None, settings=site_builder.Settings(n_bootstrap=0))
    folder = next((site / "boards").iterdir())
    text = " ".join(parse(p).get_text(" ") for p in sorted(site.rglob("*.html")))
    with open(folder / "votes.csv", encoding="utf-8", newline="") as fh:
        prompts = sorted({r["prompt"] for r in csv.DictReader(fh)})
    return text, prompts


def test_new_boards_publish_prompts_even_when_raters_do_not_see_them(tmp_path, db_location) -> None:
    db, lb = _board(tmp_path, db_location, show_prompt=False)  # the README's example
    assert lb.show_prompt is False and lb.publish_prompts is True
    text, prompts = _site_texts(db, tmp_path / "site")
    assert "A red cat on a mat" in text and HOSTILE in text  # shown as text, escaped
    assert prompts == sorted(PROMPTS)
    board = parse(next((tmp_path / "site" / "boards").iterdir()) / "index.html")
    cards = [li.select_one("bdi").get_text() for li in board.select("#prompts .prompt-list li")]
    assert cards == PROMPTS
    caption = board.select_one(".podium-prompt bdi")
    assert caption is not None and caption.get_text() in PROMPTS


def test_a_board_that_does_not_publish_prompts_shows_none_anywhere(tmp_path, db_location) -> None:
    db, lb = _board(tmp_path, db_location, show_prompt=True, publish_prompts=False)
    assert lb.show_prompt is True and lb.publish_prompts is False
    text, prompts = _site_texts(db, tmp_path / "site")
    assert "red cat" not in text and "secret prompt" not in text
    assert prompts == ["prompt 1", "prompt 2"]
    board = parse(next((tmp_path / "site" / "boards").iterdir()) / "index.html")
    assert board.select_one(".podium-prompt bdi") is None
    assert "chose not to publish the prompt texts" in board.select_one("#prompts .note").get_text()


def test_update_turns_publishing_on_and_off_and_the_site_follows(tmp_path, db_location) -> None:
    db, lb = _board(tmp_path, db_location)
    hidden = lb.update(publish_prompts=False)
    assert hidden.publish_prompts is False and hidden.show_standings is False  # the other kept
    assert "red cat" not in _site_texts(db, tmp_path / "site")[0]
    shown = hidden.update(publish_prompts=True, show_standings=True)
    assert shown.publish_prompts and shown.show_standings
    assert "red cat" in _site_texts(db, tmp_path / "site")[0]  # rebuilt with no new vote
    with pytest.raises(ValidationError, match="publish_prompts must be True or False"):
        lb.update(publish_prompts="no")
    with pytest.raises(ValidationError, match="nothing to change"):
        lb.update()
    with pytest.raises(ValidationError, match="publish_prompts must be True or False"):
        Client(db).mri.create_new_leaderboard("C", "Which?", ["p"], publish_prompts=1)


def test_cli_create_and_update_set_publishing(db_location) -> None:
    db = db_location
    run = lambda *a: CliRunner().invoke(cli, ["--db", db, *a])  # noqa: E731
    made = run("create", "--name", "N", "--instruction", "Which?", "--prompt", "p",
               "--hide-prompts-on-site")
    assert made.exit_code == 0, made.output
    board_id = made.output.strip()
    assert Client(db).mri.get_leaderboard_by_id(board_id).publish_prompts is False
    assert "prompts published on the site: no" in run("show", board_id).output
    on = run("update", board_id, "--publish-prompts")
    assert on.exit_code == 0 and on.output == f"{board_id}: the site publishes the prompt texts\n"
    assert Client(db).mri.get_leaderboard_by_id(board_id).publish_prompts is True
    off = run("update", board_id, "--no-publish-prompts", "--show-standings")
    assert off.exit_code == 0 and off.output.splitlines() == [
        f"{board_id}: raters see the standings",
        f"{board_id}: the site does not publish the prompt texts"]
    default = run("create", "--name", "M", "--instruction", "Which?", "--prompt", "p")
    assert Client(db).mri.get_leaderboard_by_id(default.output.strip()).publish_prompts is True
