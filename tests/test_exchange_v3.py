"""Vote files of format version 3: benchmarks with several criteria, matched across hosts by
benchmark, leaderboard and participant identities, media by (participant, prompt identifier,
sha256). Two hosts build the same benchmark independently (their ids differ), rate both criteria,
and merge each other's exports; a version 2 file written by the code before version 3
(``tests/fixtures/votes_v2.jsonl``) still imports; crafted version 3 files are refused whole.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import FIXTURES, make_png
from prebuilt import Prebuilt

from rater import Client, LeaderboardNotFound
from rater.exchange.votes import BoardMismatchError, ExchangeError, MissingMediaError
from rater.store import integrity
from test_exchange import _dump, _rewrite, _votes
from test_exchange_backends import export_text

BENCH = "T2I 2026"
# The same text twice, under two identifiers (two seeds): only the identifier tells them apart.
IDENTIFIERS = ["cube-seed1", "cube-seed2", "lake"]
TEXTS = ["A red cube", "A red cube", "A blue lake"]
CRITERIA = {"Aesthetics": "Which image looks better?",
            "Alignment": "Which image fits the description?"}
MODELS = ["alpha", "beta", "gamma"]

pytestmark = pytest.mark.both_backends  # both hosts on SQLite, then on PostgreSQL


def _media(root: Path) -> dict[str, list[Path]]:
    return {model: [make_png(root / f"{m}-{k}.png", 3000 + 10 * m + k) for k in range(len(IDENTIFIERS))]
            for m, model in enumerate(MODELS)}


def _host(location: str, media: dict[str, list[Path]], models: list[str] = MODELS, flip: bool = False) -> Client:
    """A host's copy of the benchmark; ``flip``: it makes another benchmark first and adds the
    criteria and participants in the other order, so that none of its ids or row ids agree."""
    client = Client(location, create=True)
    if flip:
        other = client.mri.create_new_benchmark("Other", prompts=["x"])
        other.create_leaderboard("Aesthetics", CRITERIA["Aesthetics"])
    bench = client.mri.create_new_benchmark(BENCH, identifiers=IDENTIFIERS, prompts=TEXTS)
    for crit in reversed(CRITERIA) if flip else CRITERIA:
        bench.create_leaderboard(crit, CRITERIA[crit], show_prompt=True, strategy="uniform", repeat_share=0.2)
    for model in reversed(models) if flip else models:
        bench.evaluate_model(model, media[model], identifiers=IDENTIFIERS)
    return client


def _bench(client: Client):
    [bench] = client.mri.find_benchmarks(BENCH)
    return bench


def _board(client: Client, criterion: str):
    [board] = [b for b in _bench(client).leaderboards if b.name == criterion]
    return board


def _vote(board, raters: list[str], count: int, offset: int = 0) -> None:
    for i in range(count):
        rater = raters[i % len(raters)]
        pair = board.next_matchup(rater, continue_when_settled=True)
        assert pair is not None
        board.record_vote(pair.id, ("left", "right", "tie", "left", "right")[(i + offset) % 5], rater)


def _build(root: Path, location) -> None:
    media = _media(root / "generated")
    for name, raters, offset in (("host-a", ["ann", "bob", "dan"], 0), ("host-b", ["cyd", "ann", "eve"], 2)):
        client = _host(location(name), media, flip=name == "host-b")
        _vote(_board(client, "Aesthetics"), raters, 18, offset)
        _vote(_board(client, "Alignment"), raters, 12, offset + 1)
        client.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Prebuilt:
    """Hosts a and b with votes, built once per module and backend (tests work on copies)."""
    return Prebuilt(tmp_path_factory, _build)


@pytest.fixture
def hosts(built: Prebuilt, backend: str, new_location, request):
    work, locations, _ = built.copy(backend, new_location, request)
    a, b = Client(locations["host-a"]), Client(locations["host-b"])
    yield work, a, b
    a.close()
    b.close()


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def _overall(client: Client) -> pd.DataFrame:
    """The benchmark's overall standings, each criterion's column named by the criterion (the
    leaderboard ids differ between hosts)."""
    bench = _bench(client)
    df = bench.get_overall_standings(seed=7).rename(
        columns={f"score_{b.id}": f"score_{b.name}" for b in bench.leaderboards})
    return df[sorted(df.columns)]


def test_a_two_criterion_benchmark_round_trips(hosts) -> None:
    work, a, b = hosts
    assert _bench(a).id != _bench(b).id
    before = {c: (len(_votes(a, _board(a, c).id)), len(_votes(b, _board(b, c).id))) for c in CRITERIA}
    assert before == {"Aesthetics": (18, 18), "Alignment": (12, 12)}
    for crit in CRITERIA:
        path = work / f"a-{crit}.jsonl"
        _board(a, crit).export_votes(path)
        header = _lines(path)[0]
        assert header["version"] == 3
        assert header["benchmark"] == {"id": _bench(a).id, "name": BENCH, "prompts": 3}
        assert header["participants"] == MODELS
        assert header["leaderboard"]["vote_aggregation"] == "all"
        assert {m["identifier"] for m in _lines(path)[1:] if m["type"] == "matchup"} == set(IDENTIFIERS)
        result = b.import_votes(path)  # found by benchmark name, then leaderboard name
        assert result.leaderboard_id == _board(b, crit).id
        assert result.votes_added == before[crit][0]
        back = work / f"b-{crit}.jsonl"
        _board(b, crit).export_votes(back)
        assert a.import_votes(back).votes_added == before[crit][1]  # only b's own are new
    for crit in CRITERIA:
        board_a, board_b = _board(a, crit), _board(b, crit)
        assert _votes(a, board_a.id) == _votes(b, board_b.id)
        assert len(_votes(a, board_a.id)) == sum(before[crit])  # none landed on the other criterion
        pd.testing.assert_frame_equal(board_a.get_standings(seed=7), board_b.get_standings(seed=7))
    pd.testing.assert_frame_equal(_overall(a), _overall(b))
    for client in (a, b):
        assert integrity.check_integrity(client.store.conn) == []


def test_a_file_goes_to_the_board_of_its_id_or_the_one_named(hosts) -> None:
    work, a, b = hosts
    path = work / "a.jsonl"
    _board(a, "Alignment").export_votes(path)
    # a copy of host a (a restored backup) has the board itself: its id wins
    twin = Client(a.db_path)
    assert twin.import_votes(path).leaderboard_id == _board(a, "Alignment").id
    twin.close()
    # renamed here, the board is no longer found by name; --into still works
    _board(b, "Alignment").update(name="Prompt fit")
    with pytest.raises(LeaderboardNotFound, match="no leaderboard named 'Alignment' in benchmark"):
        b.import_votes(path)
    target = _board(b, "Prompt fit")
    assert b.import_votes(path, into=target.id).votes_added == 12
    # into the other criterion by mistake: its question differs, refused
    with pytest.raises(BoardMismatchError, match="refusing to merge votes on a different question"):
        b.import_votes(path, into=_board(b, "Aesthetics").id)


def test_a_version_2_file_still_imports(tmp_path, db_location) -> None:
    spec = importlib.util.spec_from_file_location("make_votes_v2", FIXTURES / "make_votes_v2.py")
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    client = Client(db_location, create=True)
    board = maker.board(client, tmp_path / "src")  # the same board, made anew: other ids
    fixture = FIXTURES / "votes_v2.jsonl"
    lines = _lines(fixture)
    assert lines[0]["version"] == 2 and lines[0]["leaderboard"]["id"] != board.id
    result = client.import_votes(fixture)  # matched by name and prompt texts
    assert (result.leaderboard_id, result.matchups_added, result.votes_added) == (board.id, 12, 12)
    # what the file says, counted by hand: wins and ties of each model, repeats left out
    matchups = {m["id"]: m for m in lines if m.get("type") == "matchup"}
    wins = dict.fromkeys(maker.COLOURS, 0.0)
    for v in (v for v in lines if v.get("type") == "vote"):
        m = matchups[v["matchup"]]
        if m["repeat_of"]:
            continue
        if v["choice"] == "tie":
            continue
        wins[m[v["choice"]]["model"]] += 1
    got = board.get_standings().set_index("name")["wins"].to_dict()
    assert got == wins and sum(wins.values()) > 0
    again = client.import_votes(fixture)
    assert (again.votes_added, again.votes_present) == (0, 12)
    client.close()


def _bad_participant(lines: list[dict[str, Any]]) -> None:
    lines[0]["participants"].append("ghost")
    next(m for m in lines if m.get("type") == "matchup")["left"]["model"] = "ghost"


def _unlisted(lines: list[dict[str, Any]]) -> None:
    next(m for m in lines if m.get("type") == "matchup")["right"]["model"] = "ghost"


def _matchup(**fields: Any):
    def change(lines: list[dict[str, Any]]) -> None:
        next(m for m in lines if m.get("type") == "matchup").update(fields)
    return change


def _header(*keys: str, value: Any = None, drop: bool = False):
    def change(lines: list[dict[str, Any]]) -> None:
        item = lines[0]
        for key in keys[:-1]:
            item = item[key]
        if drop:
            item.pop(keys[-1])
        else:
            item[keys[-1]] = value
    return change


def _other_seed(lines: list[dict[str, Any]]) -> None:
    """The first matchup's quality-control repeat, sides swapped, but on the other seed of the
    same text: the same prompt text, another prompt, so not a repeat at all."""
    first = next(m for m in lines if m.get("type") == "matchup" and m["identifier"] == "cube-seed1")
    header = lines[0]
    repeat = {**first, "id": "f" * 32, "identifier": "cube-seed2", "left": first["right"],
              "right": first["left"], "served_at": first["served_at"] + 1, "repeat_of": first["id"]}
    lines.insert(1 + header["counts"]["matchups"], repeat)
    header["counts"]["matchups"] += 1


CRAFTED = [
    ("a participant not on the target", _bad_participant, MissingMediaError, r"'ghost' \(unknown here\)"),
    ("a model not in the header", _unlisted, ExchangeError, r"participant 'ghost' is not in the header"),
    ("no identifier", _matchup(identifier=None), ExchangeError, r"field 'identifier' must be text"),
    ("empty identifier", _matchup(identifier="  "), ExchangeError, r"field 'identifier' is empty"),
    ("unknown identifier", _matchup(identifier="nope"), MissingMediaError, r"on prompt identifier 'nope'"),
    ("another seed of the same text", _other_seed, MissingMediaError, r"on prompt identifier 'cube-seed2'"),
    ("no benchmark", _header("benchmark", drop=True), ExchangeError, r"header lacks 'benchmark'"),
    ("benchmark not an object", _header("benchmark", value="T2I"), ExchangeError, r"header lacks 'benchmark'"),
    ("benchmark id with control characters", _header("benchmark", "id", value="a\x00b"), ExchangeError,
     r"field 'id' contains control"),
    ("unknown aggregation", _header("leaderboard", "vote_aggregation", value="mean"), ExchangeError,
     r"vote_aggregation 'mean' is not one of all, majority"),
    ("tags not a list", _header("leaderboard", "included_tags", value="x"), ExchangeError,
     r"'included_tags' must be a list of tag texts"),
    ("no participants", _header("participants", drop=True), ExchangeError, r"lacks the 'participants' list"),
    ("a participant twice", _header("participants", value=["alpha", "alpha", "beta", "gamma"]),
     ExchangeError, r"a participant is listed twice"),
    ("a participant with a newline", _header("participants", value=["alpha", "be\nta", "gamma"]),
     ExchangeError, r"contains control"),
    ("another benchmark", _header("benchmark", value={"id": "nope", "name": "Nope"}), LeaderboardNotFound,
     r"no benchmark here matches the file's benchmark 'Nope'"),
    ("another question", _header("leaderboard", "name", value="Aesthetics"), BoardMismatchError,
     r"refusing to merge votes on a different question"),
]


@pytest.mark.parametrize("label, change, error, message", CRAFTED, ids=[c[0] for c in CRAFTED])
def test_crafted_version_3_files_are_refused_whole(hosts, label, change, error, message) -> None:
    work, a, b = hosts
    path = work / "a.jsonl"
    _board(a, "Alignment").export_votes(path)
    bad = _rewrite(path, work / "bad.jsonl", change)
    before = _dump(b)
    with pytest.raises(error, match=message) as caught:
        b.import_votes(bad)
    assert "\n" not in str(caught.value)  # one line
    assert _dump(b) == before


def test_votes_on_a_participant_disabled_here_are_refused(hosts) -> None:
    work, a, b = hosts
    path = work / "a.jsonl"
    _board(a, "Aesthetics").export_votes(path)
    _bench(b).participant("beta").disable()
    before = _dump(b)
    with pytest.raises(MissingMediaError, match=r"'beta' \(disabled here\)") as caught:
        b.import_votes(path)
    assert "'alpha'" not in str(caught.value)
    assert _dump(b) == before
    _bench(b).participant("beta").enable()
    assert b.import_votes(path).votes_added == 18


def test_a_benchmark_exports_the_same_from_sqlite_and_from_postgresql(built: Prebuilt, pg_location: str,
                                                                     request, tmp_path: Path) -> None:
    """Both criteria of host a, copied onto a server by copy-db, export the same bytes (format
    version 3) apart from the host id and the export time."""
    from rater.exchange.copy_db import copy_database

    _, locations, _ = built.copy("sqlite", None, request)
    copy_database(locations["host-a"], pg_location)
    with Client(locations["host-a"]) as a:
        boards = {crit: _board(a, crit).id for crit in CRITERIA}
    for crit, board_id in boards.items():
        exported = export_text(locations["host-a"], board_id, tmp_path / f"sqlite-{crit}.jsonl")
        assert '"version": 3' in exported and exported.count('"type": "vote"') == {"Aesthetics": 18,
                                                                                   "Alignment": 12}[crit]
        assert export_text(pg_location, board_id, tmp_path / f"postgresql-{crit}.jsonl") == exported
