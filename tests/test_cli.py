"""The rater command line: every command documented, errors as one line, the demo idempotent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from rater import Client
from rater.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def run(db: Path, *args: str) -> "click.testing.Result":
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from all_commands(command, (*prefix, name))


def test_every_command_has_help_with_an_example() -> None:
    commands = list(all_commands(cli))
    assert {"create", "list", "show", "add-model", "demo", "standings"} <= {c[0][-1] for c in commands}
    for path, command in commands:
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        assert command.help and "Example:" in command.help, f"{' '.join(path)} lacks an Example: in --help"


def test_create_list_show_add_model(tmp_path: Path, png) -> None:
    db = tmp_path / "lb.db"
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("A red apple\nA blue car\n\n", encoding="utf-8")
    result = run(db, "create", "--name", "Fruit & cars", "--instruction", "Which?", "--prompts-file", str(prompts),
                 "--prompt", "A green tree")
    assert result.exit_code == 0, result.output
    board_id = result.output.strip()
    assert Client(db).mri.get_leaderboard_by_id(board_id).prompts == ["A green tree", "A red apple", "A blue car"]
    png(1, "one.png"), png(2, "two.png")
    manifest = tmp_path / "media" / "manifest.csv"
    manifest.write_text('media,prompt\none.png,A red apple\ntwo.png,"A blue car"\n', encoding="utf-8")
    result = run(db, "add-model", board_id, "--name", "m1", "--manifest", str(manifest))
    assert result.exit_code == 0 and "created model 'm1': 2 media added" in result.output
    jsonl = tmp_path / "media" / "more.jsonl"
    jsonl.write_text(json.dumps({"media": "img-3.png", "prompt": "A green tree"}) + "\n", encoding="utf-8")
    png(3)
    assert "extended model 'm1': 1 media added" in run(db, "add-model", board_id, "--name", "m1", "--manifest", str(jsonl)).output
    listing = run(db, "list").output
    assert listing.startswith(f"{board_id}\t1 models\t0 votes\tFruit & cars")
    shown = run(db, "show", board_id).output
    assert "A blue car" in shown and "m1  (3 media)" in shown


@pytest.mark.parametrize("args, message", [
    (["show", "nope"], "Error: no leaderboard with id 'nope'"),
    (["create", "--name", "x", "--instruction", "y"], "give prompts with --prompts-file"),
    (["create", "--name", "x"], "Missing option '--instruction'"),
    (["add-model", "nope", "--name", "m", "--manifest", "x.csv"], "Error: no leaderboard with id 'nope'"),
])
def test_errors_are_one_line_without_traceback(tmp_path: Path, args: list[str], message: str) -> None:
    assert run(tmp_path / "lb.db", "init").exit_code == 0
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "lb.db"), *args])
    assert result.exit_code in (1, 2)
    assert message in result.output and "Traceback" not in result.output


def test_manifest_errors(tmp_path: Path, png) -> None:
    db = tmp_path / "lb.db"
    board_id = run(db, "create", "--name", "B", "--instruction", "Which?", "--prompt", "p").output.strip()
    cases = {
        "missing.csv": ("media\nx.png\n", "missing column\\(s\\) prompt"),
        "extra.csv": ("media,prompt,score\nx.png,p,1\n", "unexpected column\\(s\\) 'score'"),
        "escape.csv": ("media,prompt\n../x.png,p\n", "contains '..'"),
        "bad.jsonl": ("{not json}\n", "line 1: not valid JSON"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        result = CliRunner().invoke(cli, ["--db", str(db), "add-model", board_id, "--name", "m", "--manifest", str(tmp_path / name)])
        assert result.exit_code == 1 and "Traceback" not in result.output
        import re
        assert re.search(message, result.output), (name, result.output)
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("media,prompt\nx.png,caf\xe9\n".encode("latin-1"))
    result = CliRunner().invoke(cli, ["--db", str(db), "add-model", board_id, "--name", "m", "--manifest", str(latin1)])
    assert result.exit_code == 1 and "is not UTF-8 text" in result.output


def test_demo_loads_once(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    first = run(db, "demo")
    assert first.exit_code == 0, first.output
    second = run(db, "demo")
    assert second.output.count("(already loaded)") == 2
    client = Client(db)
    boards = client.mri.list_leaderboards()
    assert len(boards) == 2
    images = next(b for b in boards if b.name == "Demo: Pillow painters")
    assert len(images.models()) >= 5 and len(images.prompts) >= 8 and images.summary()["votes"] > 0
    # One model arrived after the votes: the demo opens on placing it, so raters see matchmaking work.
    assert images.status().message == "placing painter-newcomer: 0 votes so far"
    first = images.next_matchup("visitor")
    assert "painter-newcomer" in {first.left.model, first.right.model}
    audio = next(b for b in boards if b.name != images.name)
    kinds = {p.suffix for m in audio.models() for paths in audio.model_media(m.name).values() for p in paths}
    assert kinds == {".wav"}


def test_demo_runs_from_any_folder(tmp_path: Path) -> None:
    """The demo ships with the package: `rater demo` needs no checkout in the working folder."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = subprocess.run([sys.executable, "-m", "rater", "--db", "lb.db", "demo"], cwd=elsewhere,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert {b.name for b in Client(elsewhere / "lb.db").mri.list_leaderboards()} == {
        "Demo: synth tones", "Demo: Pillow painters"}


def test_console_script_runs_with_env_db(tmp_path: Path) -> None:
    env = {"RATER_DB": str(tmp_path / "env.db"), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"}
    def rater(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "rater", *args], env=env, capture_output=True, text=True)

    out = rater("list")  # a missing database is refused, never created
    assert out.returncode == 1 and out.stderr == f"Error: no database at {tmp_path / 'env.db'}: " \
        "check the path (--db, $RATER_DB) or create one with `rater init` (`rater create` and " \
        "`rater demo` create one too)\n"
    assert not (tmp_path / "env.db").exists()
    out = rater("init")
    assert out.returncode == 0 and out.stdout == f"created an empty database at {tmp_path / 'env.db'}\n"
    out = rater("list")
    assert out.returncode == 0 and "no leaderboards" in out.stderr


def test_prompts_file_keeps_unicode_line_separators_inside_a_prompt(tmp_path: Path) -> None:
    db = tmp_path / "lb.db"
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("first\u2028still first\r\nsecond\n", encoding="utf-8")
    board_id = run(db, "create", "--name", "B", "--instruction", "Which?", "--prompts-file", str(prompts)).output.strip()
    assert Client(db).mri.get_leaderboard_by_id(board_id).prompts == ["first\u2028still first", "second"]


def test_standings_table_says_when_a_model_is_not_rated_yet(tmp_path: Path, png) -> None:
    db = tmp_path / "lb.db"
    with Client(db) as client:
        lb = client.mri.create_new_leaderboard("B", "Which?", ["p"], False)
        for k in range(2):
            lb.evaluate_model(f"m{k}", [png(k)], ["p"])
        for rater in ("ann", "bob", "cy"):
            matchup = lb.next_matchup(rater, continue_when_settled=True)
            lb.record_vote(matchup.id, "left", rater)
        lb.evaluate_model("m2", [png(2)], ["p"])  # arrives after the votes
        board_id = lb.id
    table = run(db, "standings", board_id)
    assert table.exit_code == 0, table.output
    assert "nan" not in table.output.lower()
    [unrated] = [line for line in table.output.splitlines() if line.endswith("m2")]
    assert "not rated yet" in unrated and "0 votes" in unrated
    rows = json.loads(run(db, "standings", board_id, "--format", "json").output)["standings"]
    assert [r["win_rate"] for r in rows if r["name"] == "m2"] == [None]
