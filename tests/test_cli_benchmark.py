"""The benchmark commands: ``rater benchmark``, ``rater leaderboard create``, ``rater participant``
and ``rater standings`` of a benchmark, on real databases with real PNG files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import make_png
from rater import Client
from rater.cli import cli

PROMPTS = [
    {"identifier": "cat-1", "prompt": "A cat", "tags": ["animal"]},
    {"identifier": "cat-2", "prompt": "A cat", "tags": [{"value": "animal", "category": "subject"}, "night"]},
    {"identifier": "edit-1", "prompt": "Make it blue", "asset": "src/source.png", "tags": ["edit"]},
    {"identifier": "dog", "prompt": "A dog"},
]
IDENTIFIERS = [p["identifier"] for p in PROMPTS]


def run(db: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], input=input, catch_exceptions=False)


def ok(db: Path, *args: str) -> str:
    result = run(db, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def fails(db: Path, *args: str, message: str, input: str | None = None) -> None:
    """The command exits 1 with ``message`` in one line on stderr (and nothing on stdout)."""
    result = run(db, *args, input=input)
    assert result.exit_code == 1, result.output
    assert message in result.stderr, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.output, result.stderr
    assert result.stdout == "" or input is not None


def write_prompts(folder: Path) -> Path:
    make_png(folder / "src" / "source.png", 999)
    path = folder / "prompts.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PROMPTS), encoding="utf-8")
    return path


def write_manifest(folder: Path, name: str, seed: int, *, key: str = "identifier", items: list[str] | None = None) -> Path:
    """A CSV manifest of distinct PNGs for ``items`` (default: every identifier)."""
    items = IDENTIFIERS if items is None else items
    lines = [f"media,{key}"]
    for i, item in enumerate(items):
        make_png(folder / name / f"{i}.png", seed + i)
        lines.append(f"{i}.png,{item}")
    path = folder / name / "manifest.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def snapshot(db: Path) -> list[str]:
    """Every row of the database, to show a refused command changed nothing."""
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def bench(tmp_path: Path) -> dict:
    """A benchmark with two leaderboards and three participants rated on both."""
    db = tmp_path / "db" / "lb.db"
    bench_id = ok(db, "benchmark", "create", "T2I 2026", "--prompts", str(write_prompts(tmp_path / "p"))).strip()
    boards = [ok(db, "leaderboard", "create", bench_id, "Aesthetics", "--instruction", "Which looks better?").strip(),
              ok(db, "leaderboard", "create", bench_id, "Alignment", "--instruction", "Which fits the prompt?",
                 "--show-prompt").strip()]
    for k, name in enumerate(["alpha", "beta", "gamma"]):
        ok(db, "participant", "add", bench_id, name, str(write_manifest(tmp_path / "m", name, 10 * k)), "--run")
    return {"db": db, "id": bench_id, "boards": boards, "tmp": tmp_path}


def vote(db: Path, board_id: str, order: list[str], n: int = 36) -> None:
    """``n`` votes on the board by a fixed true order (first is best)."""
    lb = Client(db).mri.get_leaderboard_by_id(board_id)
    for k in range(n):
        rater = f"rater-{k % 6}"
        pair = lb.next_matchup(rater, continue_when_settled=True)
        assert pair is not None
        better = order.index(pair.left.model) < order.index(pair.right.model)
        lb.record_vote(pair.id, "left" if better else "right", rater)


# -- benchmark ----------------------------------------------------------------------------------


def test_benchmark_create_list_show_and_add_prompts(bench: dict) -> None:
    db, bench_id, tmp = bench["db"], bench["id"], bench["tmp"]
    b = Client(db).mri.get_benchmark_by_id(bench_id)
    assert b.name == "T2I 2026" and b.identifiers == IDENTIFIERS
    assert b.prompts == ["A cat", "A cat", "Make it blue", "A dog"]
    assert b.tags == [["animal"], ["animal", "night"], ["edit"], []]
    assert b.structured_tags[1][0].category == "subject"
    assets = b.prompt_assets
    assert assets[2] is not None and assets[2].read_bytes() == (tmp / "p" / "src" / "source.png").read_bytes()
    assert [a is None for a in assets] == [True, True, False, True]

    assert ok(db, "benchmark", "list") == f"{bench_id}\t4 prompts\t2 leaderboards\t3 participants\tT2I 2026\n"
    assert json.loads(ok(db, "benchmark", "list", "--format", "json"))[0]["participants"] == 3
    shown = ok(db, "benchmark", "show", bench_id).splitlines()
    assert shown[0] == f"T2I 2026  [{bench_id}]"
    assert shown[1] == "prompts: 4   with assets: 1   tags: animal 2, night 1, edit 1"
    assert shown[3] == f"  {bench['boards'][0]}  Aesthetics: Which looks better?"
    assert "show prompt: yes" in shown[6] and "counting: all votes" in shown[6] and "rated: 3" in shown[6]
    assert shown[-4:] == ["participants (3):", "  alpha  (rating, 4 media)", "  beta  (rating, 4 media)",
                          "  gamma  (rating, 4 media)"]
    info = json.loads(ok(db, "benchmark", "show", bench_id, "--format", "json"))
    assert [lb["name"] for lb in info["leaderboards"]] == ["Aesthetics", "Alignment"]
    assert info["participants"][0] == {"id": info["participants"][0]["id"], "name": "alpha", "status": "rating", "media": 4}

    listed = ok(db, "benchmark", "show", bench_id, "--prompts").splitlines()
    assert listed[2:6] == ["    1. cat-1: A cat  [animal]", "    2. cat-2: A cat  [animal, night]",
                           "    3. edit-1: Make it blue  [edit]  (with asset)", "    4. dog: A dog"]
    listed = json.loads(ok(db, "benchmark", "show", bench_id, "--prompts", "--format", "json"))["prompt_list"]
    assert listed[2] == {"identifier": "edit-1", "prompt": "Make it blue", "tags": ["edit"], "asset": True}

    more = tmp / "p" / "more.txt"
    more.write_text("A red fox\n\nA horse at dawn\n", encoding="utf-8")
    assert ok(db, "benchmark", "add-prompts", bench_id, str(more)) == \
        f"added 2 prompts to benchmark {bench_id} (now 6)\n"
    csv_file = tmp / "p" / "more.csv"
    csv_file.write_text("identifier,prompt,tags\nowl,An owl,animal;night\n", encoding="utf-8")
    ok(db, "benchmark", "add-prompts", bench_id, str(csv_file))
    b = Client(db).mri.get_benchmark_by_id(bench_id)
    assert b.identifiers[-3:] == ["A red fox", "A horse at dawn", "owl"] and b.tags[-1] == ["animal", "night"]
    assert ok(db, "benchmark", "show", bench_id, "--prompts").splitlines()[6:9] == [
        "    5. A red fox", "    6. A horse at dawn", "    7. owl: An owl  [animal, night]"]


def test_benchmark_create_makes_a_database_only_when_the_prompts_pass(tmp_path: Path) -> None:
    """As `rater create`: the database is made once the arguments passed, never for a bad file."""
    db = tmp_path / "new" / "lb.db"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"identifier": "a", "prompt": "x"}\n{"identifier": "a", "prompt": "y"}\n', encoding="utf-8")
    fails(db, "benchmark", "create", "B", "--prompts", str(bad), message=f"prompt file {bad}, line 2: identifier 'a' repeats")
    fails(db, "benchmark", "list", message="no database at")
    assert not (tmp_path / "new").exists()
    good = tmp_path / "prompts.txt"
    good.write_text("A cat\nA dog\n", encoding="utf-8")
    bench_id = ok(db, "benchmark", "create", "B", "--prompts", str(good)).strip()
    assert Client(db).mri.get_benchmark_by_id(bench_id).identifiers == ["A cat", "A dog"]


# -- leaderboards -------------------------------------------------------------------------------


def test_leaderboard_create_takes_every_setting(bench: dict) -> None:
    db, bench_id = bench["db"], bench["id"]
    board = ok(db, "leaderboard", "create", bench_id, "Worse", "--instruction", "Which is worse?", "--inverse",
               "--level-of-detail", "very high", "--majority", "--min-responses", "3", "--include-tag", "animal",
               "--exclude-tag", "night", "--show-prompt-asset").strip()
    lb = Client(db).mri.get_leaderboard_by_id(board)
    assert (lb.benchmark_id, lb.name, lb.instruction, lb.inverse_ranking, lb.show_prompt_asset) == \
        (bench_id, "Worse", "Which is worse?", True, True)
    assert (lb.level_of_detail, lb.response_budget) == ("very high", 16000)
    assert (lb.vote_aggregation.value, lb.min_responses_per_matchup) == ("majority", 3)
    assert (lb.included_tags, lb.excluded_tags) == (["animal"], ["night"])
    assert {m.name for m in lb.models()} == {"alpha", "beta", "gamma"}  # the rated participants join
    later = ok(db, "leaderboard", "create", bench_id, "Later", "--instruction", "Which?", "--skip-initial-run",
               "--level-of-detail", "300").strip()
    lb = Client(db).mri.get_leaderboard_by_id(later)
    assert lb.models() == [] and (lb.level_of_detail, lb.response_budget) == ("custom", 300)
    assert "counting: majority of 3+ raters per pair" in ok(db, "benchmark", "show", bench_id)


# -- participants -------------------------------------------------------------------------------


def test_participant_add_run_disable_enable_rename_list(bench: dict) -> None:
    db, bench_id, tmp = bench["db"], bench["id"], bench["tmp"]
    by_prompt = tmp / "m" / "delta" / "manifest.jsonl"
    make_png(by_prompt.parent / "dog.png", 500)
    by_prompt.write_text(json.dumps({"media": "dog.png", "prompt": "A dog"}) + "\n", encoding="utf-8")
    assert ok(db, "participant", "add", bench_id, "delta", str(by_prompt)) == \
        f"added participant 'delta': 1 media, not rated yet (`rater participant run {bench_id} delta` starts it)\n"
    b = Client(db).mri.get_benchmark_by_id(bench_id)
    assert b.participant("delta").status == "created" and list(b.participant("delta").media()) == ["dog"]
    assert ok(db, "participant", "run", bench_id, "delta") == "participant 'delta' is rating on 2 leaderboards\n"
    assert b.participant("delta").status == "rating"
    assert "delta" in {m.name for m in b.leaderboards[0].models()}
    ok(db, "participant", "disable", bench_id, "delta")
    assert b.participant("delta").status == "disabled"
    assert "delta" not in {m.name for m in b.leaderboards[1].models()}
    assert ok(db, "participant", "enable", bench_id, "delta") == "participant 'delta' is rating\n"
    assert ok(db, "participant", "rename", bench_id, "delta", "delta-final") == "participant 'delta' is now 'delta-final'\n"
    assert [p.name for p in b.participants] == ["alpha", "beta", "gamma", "delta-final"]
    listing = ok(db, "participant", "list", bench_id).splitlines()
    assert listing[-1].split("\t")[1:] == ["rating", "1 media", "0 votes", "delta-final"]
    rows = json.loads(ok(db, "participant", "list", bench_id, "--format", "json"))
    assert [r["name"] for r in rows] == ["alpha", "beta", "gamma", "delta-final"]

    # More media for a participant, e.g. for prompts added later.
    more = tmp / "p" / "more.txt"
    more.write_text("A fox\n", encoding="utf-8")
    ok(db, "benchmark", "add-prompts", bench_id, str(more))
    fox = write_manifest(tmp / "m", "delta-more", 600, items=["cat-1", "A fox"])
    assert ok(db, "participant", "add-media", bench_id, "delta-final", str(fox)) == \
        "added 2 media to participant 'delta-final' (2 new files; 2 prompts still without media)\n"
    assert sorted(b.participant("delta-final").media()) == ["A fox", "cat-1", "dog"]
    fails(db, "participant", "add-media", bench_id, "delta-final", str(fox),
          message=f"manifest {fox}, line 2 ({fox.parent / '0.png'}) is already stored for model 'delta-final' and prompt 'cat-1'")


def test_delete_asks_first_and_says_what_goes(bench: dict) -> None:
    db, bench_id, boards = bench["db"], bench["id"], bench["boards"]
    vote(db, boards[0], ["alpha", "beta", "gamma"])
    before = snapshot(db)
    result = run(db, "participant", "delete", bench_id, "gamma", input="n\n")
    assert result.exit_code == 1 and "Aborted!" in result.stderr
    assert f"Delete participant 'gamma' of benchmark 'T2I 2026' [{bench_id}]: its 4 media leave the benchmark and its " \
        in result.stderr and "votes leave every standing; this cannot be undone. Continue?" in result.stderr
    assert snapshot(db) == before
    assert run(db, "participant", "delete", bench_id, "gamma", input="").exit_code == 1  # no answer: refused too
    assert snapshot(db) == before
    conn = sqlite3.connect(db)
    gamma_votes = conn.execute(  # every vote recorded on a pair with gamma (quality-control repeats too)
        "SELECT count(*) FROM votes v JOIN matchups m ON m.id = v.matchup_id JOIN models o "
        "ON o.id IN (m.left_model, m.right_model) WHERE o.name = 'gamma'").fetchone()[0]
    conn.close()
    assert gamma_votes > 0 and f"its {gamma_votes} votes leave" in result.stderr
    lb = Client(db).mri.get_leaderboard_by_id(boards[0])

    result = run(db, "participant", "delete", bench_id, "gamma", input="y\n")
    assert result.exit_code == 0 and result.stdout.startswith("deleted participant 'gamma'")
    b = Client(db).mri.get_benchmark_by_id(bench_id)
    assert [p.name for p in b.participants] == ["alpha", "beta"]
    standing = lb.get_standings()
    assert set(standing["name"]) == {"alpha", "beta"} and standing["total_matches"].sum() < 36 * 2
    assert ok(db, "participant", "delete", bench_id, "beta", "--yes").startswith("deleted participant 'beta'")
    assert [p.name for p in b.participants] == ["alpha"]


# -- standings ----------------------------------------------------------------------------------


def test_standings_of_a_benchmark_with_two_leaderboards(bench: dict) -> None:
    db, bench_id, (aes, ali) = bench["db"], bench["id"], bench["boards"]
    vote(db, aes, ["alpha", "beta", "gamma"])
    vote(db, ali, ["gamma", "alpha", "beta"])
    table = ok(db, "standings", bench_id).splitlines()
    assert table[0].split() == ["rank", "range", "score", "95%", "interval", "votes", "Aesthetics", "Alignment", "model"]
    assert [line.split()[-1] for line in table[1:4]][0] == "alpha"  # best over both: 1st and 2nd
    assert table[4] == f"(overall of Aesthetics [{aes}] 50%, Alignment [{ali}] 50%)"
    document = json.loads(ok(db, "standings", bench_id, "--format", "json"))
    assert [b["id"] for b in document["leaderboards"]] == [aes, ali]
    rows = {r["name"]: r for r in document["standings"]}
    assert rows["alpha"][f"score_{aes}"] > rows["beta"][f"score_{aes}"] > rows["gamma"][f"score_{aes}"]
    assert rows["gamma"][f"score_{ali}"] > rows["alpha"][f"score_{ali}"]
    # Most of the weight on one criterion gives that criterion's order.
    weighted = ok(db, "standings", bench_id, "--weight", f"{aes}=1", "--weight", f"{ali}=9").splitlines()
    assert [line.split()[-1] for line in weighted[1:4]] == ["gamma", "alpha", "beta"]
    assert weighted[4] == f"(overall of Aesthetics [{aes}] 10%, Alignment [{ali}] 90%)"
    chosen = json.loads(ok(db, "standings", bench_id, "--format", "json", "--leaderboard", aes))
    assert [b["id"] for b in chosen["leaderboards"]] == [aes]
    assert [r["name"] for r in chosen["standings"]] == ["alpha", "beta", "gamma"]
    csv_text = ok(db, "standings", bench_id, "--format", "csv")
    assert csv_text.splitlines()[0].endswith(f"score_{aes},score_{ali}")
    # A leaderboard's id still shows that board.
    board = ok(db, "standings", aes).splitlines()
    assert board[0] == "rank  range   score  95% interval      votes  win rate  model" and len(board) == 4
    # A disabled participant leaves the overall standings.
    ok(db, "participant", "disable", bench_id, "gamma")
    assert "gamma" not in ok(db, "standings", bench_id)


def test_a_board_made_by_rater_create_keeps_its_standings(tmp_path: Path) -> None:
    db = tmp_path / "lb.db"
    board = ok(db, "create", "--name", "B", "--instruction", "Which?", "--prompt", "A cat", "--prompt", "A dog").strip()
    manifest = tmp_path / "m" / "a.csv"
    for name, seed in (("alpha", 1), ("beta", 3)):
        make_png(tmp_path / "m" / f"{name}-1.png", seed), make_png(tmp_path / "m" / f"{name}-2.png", seed + 1)
        manifest.write_text(f"media,prompt\n{name}-1.png,A cat\n{name}-2.png,A dog\n", encoding="utf-8")
        ok(db, "add-model", board, "--name", name, "--manifest", str(manifest))
    vote(db, board, ["alpha", "beta"], n=12)
    table = ok(db, "standings", board).splitlines()
    assert table[0].split() == ["rank", "range", "score", "95%", "interval", "votes", "win", "rate", "model"]
    assert "100.0%  alpha" in table[1] and len(table) == 3
    overall = ok(db, "standings", board, "--overall").splitlines()
    assert overall[0].split()[-2:] == ["B", "model"] and overall[-1] == f"(overall of B [{board}] 100%)"


# -- bad input ----------------------------------------------------------------------------------


def test_bad_input_is_one_line_and_changes_nothing(bench: dict) -> None:
    db, bench_id, (aes, ali), tmp = bench["db"], bench["id"], bench["boards"], bench["tmp"]
    vote(db, aes, ["alpha", "beta", "gamma"], n=6)
    files = tmp / "bad"
    files.mkdir()
    texts = {
        "cols.csv": "identifier,text\na,b\n",
        "dup.jsonl": '{"identifier": "cat-1", "prompt": "again"}\n',
        "asset.jsonl": '{"identifier": "x", "asset": "../p/src/source.png"}\n',
        "bare.jsonl": '{"asset": "y.png"}\n',
        "tags.jsonl": '{"prompt": "z", "tags": "animal"}\n',
        "long-tag.jsonl": '{"prompt": "ok"}\n' + json.dumps({"prompt": "z", "tags": ["t" * 61]}) + "\n",
        "control.jsonl": json.dumps({"prompt": "a\u0000b"}) + "\n",
        "prompts.md": "A cat\n",
        "empty.txt": "\n\n",
    }
    for name, text in texts.items():
        (files / name).write_text(text, encoding="utf-8")
    other = tmp / "other.csv"
    cases = [
        (["benchmark", "show", "nope"], "no benchmark with id 'nope'"),
        (["benchmark", "add-prompts", bench_id, str(files / "cols.csv")], "unexpected column(s) 'text'"),
        (["benchmark", "add-prompts", bench_id, str(files / "dup.jsonl")], "identifier 'cat-1' is already registered"),
        (["benchmark", "add-prompts", bench_id, str(files / "asset.jsonl")], "asset path '../p/src/source.png' contains '..'"),
        (["benchmark", "add-prompts", bench_id, str(files / "bare.jsonl")], "line 1: a prompt that is only an asset needs an identifier"),
        (["benchmark", "add-prompts", bench_id, str(files / "tags.jsonl")], "line 1: tags must be a list, got str"),
        (["benchmark", "add-prompts", bench_id, str(files / "long-tag.jsonl")],
         "long-tag.jsonl, line 2: tag is 61 characters long; the limit is 60"),
        (["benchmark", "add-prompts", bench_id, str(files / "control.jsonl")],
         "control.jsonl, line 1: prompt contains control characters ('\\x00')"),
        (["benchmark", "add-prompts", bench_id, str(files / "prompts.md")], "unknown format .md"),
        (["benchmark", "add-prompts", bench_id, str(files / "empty.txt")], "lists no prompts"),
        (["benchmark", "add-prompts", bench_id, str(files / "none.txt")], "prompt file not found"),
        (["benchmark", "create", "", "--prompts", str(files / "empty.txt")], "lists no prompts"),
        (["leaderboard", "create", "nope", "X", "--instruction", "Which?"], "no benchmark with id 'nope'"),
        (["leaderboard", "create", bench_id, "X", "--instruction", "Which?", "--include-tag", "animl"],
         "tag 'animl' is not used by any prompt"),
        (["leaderboard", "create", bench_id, "X", "--instruction", "Which?", "--min-responses", "2"],
         "--min-responses counts raters per pair under --majority"),
        (["leaderboard", "create", bench_id, "X", "--instruction", "Which?", "--level-of-detail", "huge"],
         "level_of_detail must be one of"),
        (["leaderboard", "create", bench_id, "X", "--instruction", "Which?", "--majority", "--min-responses", "0"],
         "min_responses_per_matchup"),
        (["participant", "add", bench_id, "delta", str(write_manifest(tmp / "m", "delta", 70, items=["cat-1", "cat-3"]))],
         "line 3: identifier 'cat-3' is not registered on this benchmark; did you mean 'cat-2'?"),
        (["participant", "add", bench_id, "alpha", str(write_manifest(tmp / "m", "again", 80))],
         "already has a participant named 'alpha'"),
        (["participant", "add", bench_id, "eps", str(write_manifest(tmp / "m", "eps", 0)), "--strict"],
         "byte-identical to another model's"),
        (["participant", "add", bench_id, "eps", str(other)], "manifest not found"),
        (["participant", "run", bench_id, "nobody"], "has no participant 'nobody'"),
        (["participant", "rename", bench_id, "alpha", "beta"], "already has a participant named 'beta'"),
        (["participant", "delete", bench_id, "nobody", "--yes"], "has no participant 'nobody'"),
        (["participant", "list", "nope"], "no benchmark with id 'nope'"),
        (["standings", "nope"], "no leaderboard or benchmark with id 'nope'"),
        (["standings", bench_id, "--weight", "x"], "--weight takes LEADERBOARD_ID=WEIGHT"),
        (["standings", bench_id, "--weight", f"{aes}=0"], "--weight takes LEADERBOARD_ID=WEIGHT"),
        (["standings", bench_id, "--leaderboard", "nope"], "leaderboard 'nope' is not one of benchmark"),
        (["standings", aes, "--overall"], f"{aes!r} is a leaderboard of benchmark {bench_id!r}"),
    ]
    before = snapshot(db)
    for args, message in cases:
        fails(db, *args, message=message)
        assert snapshot(db) == before, args


NON_CREATING = [
    ["benchmark", "list"], ["benchmark", "show", "k7gq2mxa"], ["benchmark", "add-prompts", "k7gq2mxa", "p.txt"],
    ["leaderboard", "create", "k7gq2mxa", "X", "--instruction", "Which?"],
    ["participant", "add", "k7gq2mxa", "m", "m.csv"], ["participant", "run", "k7gq2mxa", "m"],
    ["participant", "disable", "k7gq2mxa", "m"], ["participant", "enable", "k7gq2mxa", "m"],
    ["participant", "rename", "k7gq2mxa", "m", "n"], ["participant", "delete", "k7gq2mxa", "m", "--yes"],
    ["participant", "list", "k7gq2mxa"], ["standings", "k7gq2mxa", "--overall"],
]


@pytest.mark.parametrize("args", NON_CREATING, ids=[" ".join(a[:2]) for a in NON_CREATING])
def test_commands_refuse_a_missing_database_and_create_nothing(tmp_path: Path, args: list[str]) -> None:
    db = tmp_path / "typo" / "x.db"
    fails(db, *args, message=f"no database at {db}")
    assert list(tmp_path.iterdir()) == []


def test_listing_a_benchmark_loads_no_numerical_stack(bench: dict) -> None:
    from test_startup import loaded_by

    for args, shown in ((["benchmark", "list"], "T2I 2026"), (["benchmark", "show", bench["id"]], "Alignment"),
                        (["participant", "list", bench["id"]], "gamma"), (["participant", "--help"], "Example:")):
        heavy, out = loaded_by("--db", str(bench["db"]), *args)
        assert heavy == [] and shown in out, args
