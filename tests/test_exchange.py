"""Several rater hosts, one leaderboard: export-votes / import-votes.

Two hosts create the same board (name, prompts, models, media files) independently, so their
row ids differ; raters vote on both; each host imports the other's export, and both end with the
same votes and identical standings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import make_png
from db_dump import dump_database
from prebuilt import Prebuilt

from rater import Client, LeaderboardNotFound
from rater.cli import cli
from rater.exchange.votes import (
    BoardMismatchError,
    ExchangeError,
    ImportConflictError,
    MissingMediaError,
    board_fingerprint,
)
from rater.store import exchange as exchange_sql
from rater.store import integrity

NAME = "Arena <b>🎨</b> مرحبا"
PROMPTS = ["A red sun", "A <script>alert(1)</script> boat", "שלום\u2028world\u2029!"]
MODELS = ["alpha", "beta 🚀", "gamma <i>", "delta"]

pytestmark = pytest.mark.both_backends  # every host here on SQLite, then on PostgreSQL


def _media(root: Path) -> dict[str, list[Path]]:
    """The same media bytes for every host: ``{model: [one file per prompt]}``."""
    return {
        model: [make_png(root / f"{m}-{p}.png", 1000 + 10 * m + p) for p in range(len(PROMPTS))]
        for m, model in enumerate(MODELS)
    }


def _host(location: str, media: dict[str, list[Path]], models: list[str] = MODELS,
          prompts: list[str] = PROMPTS, instruction: str = "Which is better?",
          inverse: bool = False, other_first: bool = False) -> tuple[Client, Any]:
    """A host at ``location`` with the board; ``other_first``: it creates an unrelated board
    first and adds the models in the other order, so that its local ids differ."""
    client = Client(location, create=True)
    if other_first:
        other = client.mri.create_new_leaderboard("Other", "Which?", ["x", "y"], False)
        other.evaluate_model("zeta", [media[MODELS[0]][0]], ["x"])
    lb = client.mri.create_new_leaderboard(NAME, instruction, prompts, True, strategy="uniform",
                                           inverse_ranking=inverse)
    for model in reversed(models) if other_first else models:
        lb.evaluate_model(model, media[model][: len(prompts)], prompts)
    return client, lb


def _vote(lb: Any, raters: list[str], count: int) -> None:
    for i in range(count):
        rater = raters[i % len(raters)]
        matchup = lb.next_matchup(rater, continue_when_settled=True)
        assert matchup is not None
        lb.record_vote(matchup.id, ("left", "right", "tie", "left")[i % 4], rater)
    lb.next_matchup(raters[0], continue_when_settled=True)  # served, never voted: stays home


def _votes(client: Client, board_id: str) -> list[tuple[Any, ...]]:
    rows = exchange_sql.exported_votes(client.store.conn, board_id)
    return sorted((r["matchup_id"], r["rater"], r["choice"], r["voted_at"], r["origin"]) for r in rows)


def _dump(client: Client) -> dict[str, Any]:
    return dump_database(client.store.conn)


def _build(root: Path, location) -> tuple[str, str]:
    media = _media(root / "generated")
    (a_client, a), (b_client, b) = _host(location("host-a"), media), _host(location("host-b"), media, other_first=True)
    _vote(a, ["ann", "bob", "dan", "eve"], 40)
    _vote(b, ["ann", "cyd", "fay"], 30)  # "ann" rates on both hosts
    a_client.close()
    b_client.close()
    return a.id, b.id


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Prebuilt:
    """Two hosts with votes, built once per module and backend (tests work on copies)."""
    return Prebuilt(tmp_path_factory, _build)


@pytest.fixture
def hosts(built: Prebuilt, backend: str, new_location, request):
    """``(work folder, media files, (client, board) of host A, of host B)``, copies for this test."""
    work, locations, (a_id, b_id) = built.copy(backend, new_location, request)
    media = _media_paths(work)
    a_client, b_client = Client(locations["host-a"]), Client(locations["host-b"])
    a = a_client.mri.get_leaderboard_by_id(a_id)
    b = b_client.mri.get_leaderboard_by_id(b_id)
    yield work, media, (a_client, a), (b_client, b)
    a_client.close()
    b_client.close()


def _media_paths(root: Path) -> dict[str, list[Path]]:
    return {model: [root / "generated" / f"{m}-{p}.png" for p in range(len(PROMPTS))]
            for m, model in enumerate(MODELS)}


def test_two_hosts_merge_both_ways_and_agree(hosts) -> None:
    tmp, _, (a_client, a), (b_client, b) = hosts
    assert a.id != b.id
    from_a, from_b = tmp / "a.jsonl", tmp / "b.jsonl"
    assert a.export_votes(from_a).votes == 40
    assert b.export_votes(from_b).votes == 30
    into_b = b_client.import_votes(from_a)  # found by fingerprint
    into_a = a_client.import_votes(from_b, into=a.id)
    assert (into_b.votes_added, into_b.votes_present, into_b.leaderboard_id) == (40, 0, b.id)
    assert (into_a.votes_added, into_a.votes_present, into_a.leaderboard_id) == (30, 0, a.id)
    assert _votes(a_client, a.id) == _votes(b_client, b.id)
    assert len(_votes(a_client, a.id)) == 70
    host_a, host_b = (exchange_sql.host_id(c.store.conn) for c in (a_client, b_client))
    assert len(host_a) == 32 and host_a != host_b
    assert {row[4] for row in _votes(a_client, a.id)} == {host_a, host_b}  # origin travels along
    sa = a.get_standings(seed=7)
    sb = b.get_standings(seed=7)
    pd.testing.assert_frame_equal(sa, sb)
    assert sa["total_matches"].sum() > 0
    for client in (a_client, b_client):
        assert integrity.check_integrity(client.store.conn) == []


def test_importing_twice_adds_nothing(hosts) -> None:
    tmp, _, (a_client, a), (b_client, b) = hosts
    path = tmp / "a.jsonl"
    a.export_votes(path)
    b_client.import_votes(path)
    before = _dump(b_client)
    again = b_client.import_votes(path)
    assert (again.votes_added, again.matchups_added) == (0, 0)
    assert again.votes_present == 40
    assert _dump(b_client) == before
    # Re-exporting merged data and importing it back into its origin also adds nothing new.
    back = tmp / "b-merged.jsonl"
    b.export_votes(back)
    result = a_client.import_votes(back)
    assert result.votes_added == 30 and result.votes_present == 40


def test_missing_media_is_refused_with_a_list(hosts, new_location) -> None:
    tmp, media, (a_client, a), _ = hosts
    path = tmp / "a.jsonl"
    a.export_votes(path)
    c_client, c = _host(new_location("host-c"), media, models=MODELS[:2])  # lacks gamma and delta
    before = _dump(c_client)
    with pytest.raises(MissingMediaError) as caught:
        c_client.import_votes(path, into=c.id)
    message = str(caught.value)
    assert "are not on leaderboard" in message and "'gamma <i>'" in message and "'delta'" in message
    assert "'alpha'" not in message
    assert _dump(c_client) == before
    c_client.close()


def _rewrite(path: Path, target: Path, change) -> Path:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]
    change(lines)
    target.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return target


def _flip_first_vote(lines: list[dict[str, Any]]) -> None:
    vote = next(line for line in lines if line.get("type") == "vote")
    vote["choice"] = "right" if vote["choice"] != "right" else "left"


def _move_first_matchup(lines: list[dict[str, Any]]) -> None:
    matchup = next(line for line in lines if line.get("type") == "matchup")
    matchup["served_at"] += 1.0


@pytest.mark.parametrize("change, what", [(_flip_first_vote, "already have a different vote"),
                                          (_move_first_matchup, "already exist here with different content")])
def test_conflicting_ids_are_an_error_never_an_overwrite(hosts, change, what: str) -> None:
    tmp, _, (a_client, a), (b_client, _) = hosts
    path = tmp / "a.jsonl"
    a.export_votes(path)
    b_client.import_votes(path)
    altered = _rewrite(path, tmp / "altered.jsonl", change)
    for client in (a_client, b_client):  # the origin host and the one that merged it
        before = _dump(client)
        with pytest.raises(ImportConflictError, match=what):
            client.import_votes(altered)
        assert _dump(client) == before


def test_board_matching(hosts, new_location) -> None:
    tmp, media, (a_client, a), (b_client, b) = hosts
    path = tmp / "a.jsonl"
    a.export_votes(path)
    header = json.loads(path.read_text(encoding="utf-8").split("\n")[0])
    assert header["format"] == "rater-votes" and header["version"] == 2
    assert (header["leaderboard"]["instruction"], header["leaderboard"]["inverse_ranking"]) == (
        "Which is better?", False)
    assert header["leaderboard"]["fingerprint"] == board_fingerprint(NAME, list(reversed(PROMPTS)))
    assert header["counts"] == {"matchups": 40, "votes": 40}
    stranger = Client(new_location("host-d"), create=True)
    stranger.mri.create_new_leaderboard("Something else", "Which?", PROMPTS, False)
    with pytest.raises(LeaderboardNotFound, match="no leaderboard here matches the file's board"):
        stranger.import_votes(path)
    with pytest.raises(LeaderboardNotFound, match="no leaderboard with id 'nope'"):
        stranger.import_votes(path, into="nope")
    stranger.close()
    twin = b_client.mri.create_new_leaderboard(NAME, "Again?", PROMPTS, False)
    with pytest.raises(ExchangeError, match=f"2 leaderboards here match .*{twin.id}.*--into ID"):
        b_client.import_votes(path)
    assert b_client.import_votes(path, into=b.id).votes_added == 40


def _truncate(lines):
    del lines[-1]


def _set(key, value, kind=None):
    def change(lines):
        target = lines[0] if kind is None else next(x for x in lines if x.get("type") == kind)
        target[key] = value
    return change


def _orphan_vote(lines):
    lines.append({"type": "vote", "matchup": "f" * 32, "rater": "ann", "choice": "left", "voted_at": 1.7e9})
    lines[0]["counts"]["votes"] += 1


def _wrong_rater(lines):
    _set("rater", "mallory", "vote")(lines)


BAD_FILES = [
    ("truncated", _truncate, r"incomplete or altered: its header announces 40 matchups and 40 votes"),
    ("not an export", _set("format", "csv"), r"is not a rater vote export"),
    ("newer format", _set("version", 4), r"format version 4; this tool reads versions 1 to 3"),
    ("no direction", lambda lines: lines[0]["leaderboard"].pop("inverse_ranking"),
     r"line 1, leaderboard: missing field 'inverse_ranking'"),
    ("direction not a bool", lambda lines: lines[0]["leaderboard"].update(inverse_ranking=0),
     r"field 'inverse_ranking' has the wrong type"),
    ("bad choice", _set("choice", "both", "vote"), r"choice 'both' is not one of left, right, tie"),
    ("bad type", _set("type", "ballot", "vote"), r"unknown line type 'ballot'"),
    ("missing field", _set("prompt", None, "matchup"), r"field 'prompt' has the wrong type"),
    ("orphan vote", _orphan_vote, r"refers to matchups it does not contain: f{32}"),
    ("vote by another rater", _wrong_rater, r"votes from a rater the matchup was not served to"),
    ("bad origin", _set("origin", "x" * 40, "vote"), r"origin 'x{40}' is not a host id"),
    ("empty rater", _set("rater", " ", "matchup"), r"field 'rater' is empty \(only whitespace\)"),
    ("control characters in an id", _set("id", "a\x00b", "matchup"), r"field 'id' contains control"),
    ("not a finite time", _set("voted_at", float("nan"), "vote"), r"'voted_at' is not a finite number"),
]


@pytest.mark.parametrize("label, change, message", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_broken_files_are_refused(hosts, label: str, change, message: str) -> None:
    tmp, _, (a_client, a), (b_client, _) = hosts
    path = tmp / "a.jsonl"
    a.export_votes(path)
    bad = _rewrite(path, tmp / "bad.jsonl", change)
    before = _dump(b_client)
    with pytest.raises(ExchangeError, match=message):
        b_client.import_votes(bad)
    assert _dump(b_client) == before


def test_undecodable_and_empty_files(hosts) -> None:
    tmp, _, _, (b_client, _) = hosts
    latin = tmp / "latin.jsonl"
    latin.write_bytes('{"format": "caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(ExchangeError, match="is not UTF-8 text"):
        b_client.import_votes(latin)
    empty = tmp / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ExchangeError, match="is empty"):
        b_client.import_votes(empty)
    with pytest.raises(ExchangeError, match="line 1: not valid JSON"):
        b_client.import_votes(_write(tmp / "junk.jsonl", "{oops\n"))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_round_trip(hosts) -> None:
    tmp, _, (a_client, a), (b_client, b) = hosts
    out = tmp / "cli.jsonl"
    runner = CliRunner()
    exported = runner.invoke(cli, ["--db", str(a_client.db_path), "export-votes", a.id, str(out)])
    assert exported.exit_code == 0, exported.output
    assert exported.output == f"exported 40 votes on 40 matchups of {a.id} to {out}\n"
    args = ["--db", str(b_client.db_path), "import-votes", str(out)]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert first.output == f"imported 40 votes and 40 matchups into {b.id} (0 votes were already here)\n"
    second = runner.invoke(cli, [*args, "--into", b.id])
    assert second.output == f"imported 0 votes and 0 matchups into {b.id} (40 votes were already here)\n"
    bad = _rewrite(out, tmp / "bad.jsonl", _flip_first_vote)
    refused = runner.invoke(cli, ["--db", str(b_client.db_path), "import-votes", str(bad)])
    assert refused.exit_code == 1 and refused.output.count("\n") == 1
    assert refused.output.startswith("Error: refused: 1 matchups in ")


def test_hostile_text_survives_the_trip(hosts) -> None:
    tmp, _, (a_client, a), (b_client, b) = hosts
    path = tmp / "a.jsonl"
    a.export_votes(path)
    text = path.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" in text and "🚀" in text  # JSON, written as UTF-8 text
    b_client.import_votes(path)
    models = {r["left_model"] for r in exchange_sql.exported_matchups(b_client.store.conn, b.id)}
    assert models <= set(MODELS) and "beta 🚀" in models | {
        r["right_model"] for r in exchange_sql.exported_matchups(b_client.store.conn, b.id)}


def _unchanged(client: Client) -> tuple[dict[str, Any], bytes, bytes]:
    """The database's content and (SQLite) the bytes of its file and write-ahead log."""
    if client.store.path is None:  # a server database: its content is all there is to compare
        return _dump(client), b"", b""
    db, wal = Path(client.db_path), Path(f"{client.db_path}-wal")
    return _dump(client), db.read_bytes(), wal.read_bytes() if wal.exists() else b""


@pytest.mark.parametrize("instruction", ["Which is WORSE?", "Which is better?"])
def test_opposite_direction_is_refused_even_with_into(hosts, new_location, instruction: str) -> None:
    tmp, media, (_, a), _ = hosts
    a.export_votes(path := tmp / "a.jsonl")
    w_client, w = _host(new_location("host-w"), media, instruction=instruction, inverse=True)
    before = _unchanged(w_client)
    message = (r"answer 'Which is better\?' \(the chosen one ranks higher\) but leaderboard \w+ asks "
               + re.escape(f"'{instruction}' (inverse ranking: the chosen one ranks lower): refusing"))
    for into in (None, w.id):
        for allow in (False, True):  # allowing another wording never allows another direction
            with pytest.raises(BoardMismatchError, match=message):
                w_client.import_votes(path, into=into, allow_instruction_mismatch=allow)
    runner = CliRunner()
    for extra in ([], ["--into", w.id], ["--allow-different-instruction"]):
        refused = runner.invoke(cli, ["--db", str(w_client.db_path), "import-votes", str(path), *extra])
        assert refused.exit_code == 1 and refused.stdout == ""
        assert refused.stderr.startswith("Error: ") and "refusing to merge" in refused.stderr
    assert _unchanged(w_client) == before and _votes(w_client, w.id) == []
    # An old file cannot tell: it is merged, with a warning naming the board's direction.
    old = w_client.import_votes(_rewrite(path, tmp / "old.jsonl", _old_format), into=w.id)
    assert old.votes_added == 40 and "could not verify" in old.warnings[0] and "(inverse" in old.warnings[0]
    w_client.close()


def test_different_instruction_is_refused_unless_allowed(hosts, new_location) -> None:
    tmp, media, (a_client, a), _ = hosts
    a.export_votes(path := tmp / "a.jsonl")
    p_client, p = _host(new_location("host-p"), media, instruction="Which do you prefer?")
    before = _unchanged(p_client)
    for into in (None, p.id):
        with pytest.raises(BoardMismatchError, match=r"asks 'Which do you prefer\?' \(both: the "
                           r"chosen one ranks higher\): refusing .* --allow-different-instruction"):
            p_client.import_votes(path, into=into)
    runner = CliRunner()
    args = ["--db", str(p_client.db_path), "import-votes", str(path)]
    assert runner.invoke(cli, args).exit_code == 1 and _unchanged(p_client) == before
    merged = runner.invoke(cli, [*args, "--allow-different-instruction"])
    assert merged.exit_code == 0, merged.output
    assert merged.stdout == f"imported 40 votes and 40 matchups into {p.id} (0 votes were already here)\n"
    assert merged.stderr.startswith("warning: ") and "merged anyway" in merged.stderr
    again = p_client.import_votes(path, allow_instruction_mismatch=True)
    assert (again.votes_added, again.votes_present, len(again.warnings)) == (0, 40, 1)
    assert _votes(p_client, p.id) == _votes(a_client, a.id)
    p_client.close()
    # Case and spacing alone are not a different question.
    s_client, _ = _host(new_location("host-s"), media, instruction="  which is\tBETTER? ")
    assert s_client.import_votes(path).warnings == ()
    s_client.close()


def _old_format(lines: list[dict[str, Any]]) -> None:
    """What the previous rater wrote: version 1, no instruction or direction in the header."""
    lines[0]["version"] = 1
    del lines[0]["leaderboard"]["instruction"], lines[0]["leaderboard"]["inverse_ranking"]


def test_old_files_import_with_an_unverified_direction(hosts) -> None:
    tmp, media, (_, a), (b_client, b) = hosts
    a.export_votes(path := tmp / "a.jsonl")
    old = _rewrite(path, tmp / "old.jsonl", _old_format)
    first = CliRunner().invoke(cli, ["--db", str(b_client.db_path), "import-votes", str(old)])
    assert first.exit_code == 0, first.output
    assert first.stdout == f"imported 40 votes and 40 matchups into {b.id} (0 votes were already here)\n"
    assert first.stderr.startswith(f"warning: {old} was written by an older rater (format version 1)")
    assert "could not verify that its votes answer 'Which is better?'" in first.stderr
    before = _unchanged(b_client)
    again = b_client.import_votes(old, into=b.id)
    assert (again.votes_added, again.votes_present) == (0, 40) and "could not" in again.warnings[0]
    assert _unchanged(b_client) == before


def test_a_repeat_of_a_matchup_on_another_board_is_refused(hosts) -> None:
    tmp, media, (a_client, a), (b_client, b) = hosts
    other = b_client.mri.create_new_leaderboard("Other board", "Which?", PROMPTS, False)
    for model in MODELS[:2]:
        other.evaluate_model(model, media[model], PROMPTS)
    elsewhere = other.next_matchup("ann").id  # a matchup on host B, but not on the merged board
    path = tmp / "a.jsonl"
    a.export_votes(path)
    bad = _rewrite(path, tmp / "bad.jsonl", _set("repeat_of", elsewhere, "matchup"))
    before = _dump(b_client)
    with pytest.raises(ExchangeError, match="its original is a matchup on another leaderboard"):
        b_client.import_votes(bad)
    assert _dump(b_client) == before

