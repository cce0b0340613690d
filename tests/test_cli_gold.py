"""``rater gold add/list/remove/rules`` on a real database with real PNG files."""

from __future__ import annotations

from pathlib import Path

from conftest import make_png
from cli_support import fails, ok, run
from rater import Client

PROMPTS = ["a red fox", "a blue bird"]


def setup(tmp_path: Path) -> tuple[Path, str]:
    db = tmp_path / "lb.db"
    client = Client(db, create=True)
    lb = client.mri.create_new_leaderboard("Gold", "Which?", PROMPTS)
    for m in range(2):
        lb.evaluate_model(f"m{m}", [make_png(tmp_path / f"m{m}-{k}.png", 10 * m + k) for k in range(2)], PROMPTS)
    client.close()
    return db, lb.id


def test_gold_add_list_rules_remove(tmp_path):
    db, board = setup(tmp_path)
    good, bad = make_png(tmp_path / "good.png", 500), make_png(tmp_path / "bad.png", 501)
    out = ok(db, "gold", "add", board, "--better", str(good), "--worse", str(bad), "--identifier", "a red fox")
    first = out.split("\t")[0]
    folder = tmp_path / "csv"
    folder.mkdir()
    for i in range(3):
        make_png(folder / f"good{i}.png", 600 + i)
        make_png(folder / f"bad{i}.png", 700 + i)
    (folder / "gold.csv").write_text("better,worse,prompt\n" + "".join(
        f"good{i}.png,bad{i}.png,{PROMPTS[i % 2]}\n" for i in range(3)))
    out = ok(db, "gold", "add", board, "--csv", str(folder / "gold.csv"))
    assert [line.split("\t")[1] for line in out.splitlines()] == ["a red fox", "a blue bird", "a red fox"]
    listed = ok(db, "gold", "list", board).splitlines()
    assert len(listed) == 4 and listed[0].startswith(f"{first}\ta red fox\t0 votes\t0 right")
    out = ok(db, "gold", "rules", board, "--qualification", "3", "2", "--min-gold-accuracy", "0.8")
    assert "qualification: 2 of 3 gold pairs right" in out and "min gold accuracy: 0.8" in out
    assert "gold pairs: 4" in ok(db, "gold", "rules", board)
    ok(db, "gold", "remove", board, first)
    assert len(ok(db, "gold", "list", board).splitlines()) == 3
    lb = Client(db).mri.get_leaderboard_by_id(board)
    assert lb.quality_rules().qualification_required == 2 and len(lb.gold_pairs()) == 3


def test_gold_errors_are_one_line_and_change_nothing(tmp_path):
    db, board = setup(tmp_path)
    good = make_png(tmp_path / "good.png", 500)
    (tmp_path / "bad.csv").write_text(f"better,worse,identifier\n{good},{good.parent / 'nope.png'},a red fox\n")
    fails(db, "gold", "add", board, "--csv", str(tmp_path / "bad.csv"), message="bad.csv:2")
    (tmp_path / "cols.csv").write_text("good,bad\nx,y\n")
    fails(db, "gold", "add", board, "--csv", str(tmp_path / "cols.csv"), message="needs the columns better,worse")
    (tmp_path / "prompt.csv").write_text(f"better,worse,prompt\n{good},{good},a red cat\n")
    fails(db, "gold", "add", board, "--csv", str(tmp_path / "prompt.csv"), message="'a red cat' is not registered")
    fails(db, "gold", "add", board, "--better", str(good), "--worse", str(good), "--identifier", "a red fox",
          message="same medium")
    fails(db, "gold", "rules", board, "--qualification", "5", "4", message="needs 5 gold pairs on the board")
    fails(db, "gold", "remove", board, "7", message="has no gold pair 7")
    assert run(db, "gold", "list", board).stderr.strip() == "no gold pairs"
