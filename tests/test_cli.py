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
    print(table.output)
    header, *lines = table.stdout.splitlines()  # the table (legends go to stderr)
    assert header.split() == ["rank", "range", "score", "95%", "interval", "votes", "win", "rate", "model"]
    [unrated] = [line for line in lines if line.endswith("m2")]
    assert unrated.split() == ["-", "-", "-", "not", "rated", "yet", "0", "-", "m2"]
    # Columns line up under their headers.
    names = [line.removesuffix("  (preliminary)") for line in lines]  # few votes: marked
    assert all(line.index(line.split()[-1]) == header.index("model") for line in names)
    rows = json.loads(run(db, "standings", board_id, "--format", "json").output)["standings"]
    assert [r["win_rate"] for r in rows if r["name"] == "m2"] == [None]


def test_manifest_errors_name_the_file_and_the_line(tmp_path: Path, png) -> None:
    """Lines count from 1 with the header, as an editor shows them, across blank and multi-line records."""
    db = tmp_path / "lb.db"
    board_id = run(db, "create", "--name", "B", "--instruction", "Which?", "--prompt", "p",
                   "--prompt", "two\nlines").output.strip()
    png(1, "one.png"), png(2, "two.png")
    (tmp_path / "media" / "empty.png").write_bytes(b"")
    cases = {  # manifest text -> the error after "Error: manifest PATH, "
        "media,prompt\none.png,p\n\n\"two.png\",\"two\nlines\"\ntwo.png,q\n":
            "line 6: prompt 'q' is not registered on this leaderboard",
        "media,prompt\none.png,p\nempty.png,p\n": "line 3: media file is empty (0 bytes): ",
        "media,prompt\none.png,p\ntwo.png,p\none.png,p\n": "line 4 ({media}/one.png) is the same file as "
            "manifest {manifest}, line 2 for prompt 'p'",
        '{"media": "one.png", "prompt": "p"}\n\n{"media": "two.png", "prompt": "P "}\n':
            "line 3: prompt 'P ' is not registered on this leaderboard; it differs only in case",
    }
    for i, (text, message) in enumerate(cases.items()):
        manifest = tmp_path / "media" / f"m{i}.{'jsonl' if text.startswith('{') else 'csv'}"
        manifest.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(cli, ["--db", str(db), "add-model", board_id, "--name", "m", "--manifest",
                                          str(manifest)])
        expected = f"Error: manifest {manifest}, " + message.format(media=tmp_path / "media", manifest=manifest)
        assert result.exit_code == 1 and result.output.startswith(expected), result.output
        assert result.output.count("\n") == 1
    assert Client(db).mri.get_leaderboard_by_id(board_id).models() == []


def test_add_model_warns_about_another_models_file_and_strict_refuses(tmp_path: Path, png) -> None:
    db = tmp_path / "lb.db"
    board_id = run(db, "create", "--name", "B", "--instruction", "Which?", "--prompt", "p").output.strip()
    png(1, "one.png"), png(2, "two.png")
    (tmp_path / "media" / "copy.png").write_bytes((tmp_path / "media" / "one.png").read_bytes())
    first = tmp_path / "media" / "first.csv"
    first.write_text("media,prompt\none.png,p\n", encoding="utf-8")
    assert run(db, "add-model", board_id, "--name", "m1", "--manifest", str(first)).stderr == ""
    copied = tmp_path / "media" / "copied.csv"
    copied.write_text("media,prompt\ntwo.png,p\ncopy.png,p\n", encoding="utf-8")
    strict = run(db, "add-model", board_id, "--name", "m2", "--manifest", str(copied), "--strict")
    assert strict.exit_code == 1 and strict.stdout == ""
    assert strict.stderr == (
        f"Error: 1 of 2 media for model 'm2' are byte-identical to another model's on this board: manifest "
        f"{copied}, line 3 ({tmp_path / 'media' / 'copy.png'}) is also stored for model(s) 'm1'; two models "
        "with identical output is almost always a copy mistake; nothing added (strict)\n")
    assert [m.name for m in Client(db).mri.get_leaderboard_by_id(board_id).models()] == ["m1"]
    loose = run(db, "add-model", board_id, "--name", "m2", "--manifest", str(copied))
    assert loose.exit_code == 0 and loose.stdout == "created model 'm2': 2 media added (1 new files)\n"
    assert loose.stderr.startswith("warning: 1 of 2 media for model 'm2' are byte-identical")
    assert "line 3" in loose.stderr and "'m1'" in loose.stderr and loose.stderr.count("\n") == 1


def test_standings_rows_mark_preliminary_models() -> None:
    from collections import namedtuple

    from rater.cli.tables import STANDINGS_COLUMNS, format_table, standings_rows

    Row = namedtuple("Row", "rank rank_low rank_high name score ci_low ci_high total_matches win_rate preliminary")
    rows = [Row(1, 1, 1, "old", 1100.0, 1050.0, 1150.0, 200, 0.6, False),
            Row(2, 1, 2, "new", 1090.0, 900.0, 1300.0, 7, 0.7, True)]
    header, old, new = format_table(STANDINGS_COLUMNS, standings_rows(rows))
    assert old.endswith("  old") and new.endswith("  new  (preliminary)")
    assert new.split()[:2] == ["2", "1-2"] and header.startswith("rank  range")
