"""Rating a benchmark with several criteria in the app (AppTest, real database and media): the
rater picks a benchmark and a criterion, or follows a ``?benchmark=ID`` link; each criterion
shows its own instruction, serves the benchmark's one set of media, and keeps its own votes."""

from __future__ import annotations

import pytest

from app_support import PROMPTS, click, labels, make_board, open_app, session, start

CRITERIA = {"Aesthetics": "Which image looks better?",
            "Alignment": "Which image fits the description?"}
MODELS = ["m0", "m1", "m2"]


@pytest.fixture
def bench(client, png):
    """A benchmark of two prompts, three participants and two criteria."""
    bench = client.mri.create_new_benchmark("T2I 2026", identifiers=["p1", "p2"], prompts=PROMPTS[:2])
    for name, instruction in CRITERIA.items():
        bench.create_leaderboard(name, instruction, show_prompt=True, repeat_share=0.0)
    for m, model in enumerate(MODELS):
        bench.evaluate_model(model, [png(50 + 10 * m + k) for k in range(2)], identifiers=["p1", "p2"])
    return bench


def board_of(bench, name):
    [board] = [b for b in bench.leaderboards if b.name == name]
    return board


def selectbox(at, label):
    found = [s for s in at.selectbox if s.label == label]
    assert len(found) == 1, [s.label for s in at.selectbox]
    return found[0]


def all_media(bench) -> set:
    """The stored files of every participant of the benchmark."""
    return {path for p in bench.participants for paths in p.media().values() for path in paths}


def rate_until_done(at, board_id, limit=20) -> list:
    """Vote "A is better" on every pair served until nothing is left; the pairs served."""
    served = []
    for _ in range(limit):
        pair = session(at, board_id).current
        if pair is None:
            assert "A is better" not in labels(at)
            return served
        served.append(pair)
        click(at, "A is better")
    raise AssertionError(f"still serving after {limit} votes")


def stored_boards(client) -> list[str]:
    """The leaderboard of each stored vote, in order."""
    return [r[0] for r in client.store.conn.execute(
        "SELECT m.leaderboard_id FROM votes v JOIN matchups m ON m.id = v.matchup_id ORDER BY v.id")]


def test_picking_each_criterion_shows_its_instruction_and_the_same_media(client, png, bench, monkeypatch):
    legacy = make_board(client, png, models=2, prompts=1)  # a one-board benchmark beside it
    media = all_media(bench)
    assert len(media) == 6
    for rater, name in (("alice", "Aesthetics"), ("bob", "Alignment")):
        board = board_of(bench, name)
        at = open_app(monkeypatch, client.db_path)
        picker = selectbox(at, "Benchmark")
        assert picker.options == [f"T2I 2026 ({bench.id}): 2 criteria", f"Test board ({legacy.id})"]
        picker.set_value(bench.id).run()
        criteria = selectbox(at, "Criterion")
        assert criteria.options == [f"{n}: {i}" for n, i in CRITERIA.items()]  # instructions shown
        criteria.set_value(board.id)
        start(at, rater)
        assert at.header[0].value == CRITERIA[name]  # the criterion's instruction heads the page
        served = rate_until_done(at, board.id)
        assert {s.path for p in served for s in (p.left, p.right)} == media
        assert all(p.leaderboard_id == board.id for p in served)
        assert len(served) == 6  # 3 pairs on each of the 2 prompts
    # the legacy board is picked as before: no criterion to choose
    at = open_app(monkeypatch, client.db_path)
    selectbox(at, "Benchmark").set_value(legacy.id).run()
    assert not [s for s in at.selectbox if s.label == "Criterion"]
    start(at, "carol")
    assert session(at, legacy.id).current is not None


def test_a_vote_on_one_criterion_is_stored_on_that_leaderboard_only(client, bench, monkeypatch):
    aesthetics, alignment = board_of(bench, "Aesthetics"), board_of(bench, "Alignment")
    at = start(open_app(monkeypatch, client.db_path, alignment.id), "alice")
    pair = session(at, alignment.id).current
    click(at, "B is better")
    assert stored_boards(client) == [alignment.id]
    assert alignment.status().votes == 1 and aesthetics.status().votes == 0
    standings = aesthetics.get_standings()
    assert standings["total_matches"].sum() == 0
    winner = alignment.get_standings().set_index("name")
    assert winner.loc[pair.right.model, "wins"] == 1 and winner.loc[pair.left.model, "wins"] == 0


def test_a_benchmark_link_offers_its_criteria(client, bench, monkeypatch):
    aesthetics, alignment = board_of(bench, "Aesthetics"), board_of(bench, "Alignment")
    at = open_app(monkeypatch, client.db_path)
    at.query_params["benchmark"] = bench.id
    at.run()
    assert not at.exception
    assert not [s for s in at.selectbox if s.label == "Benchmark"]  # the link chose it
    assert any("T2I 2026" in m.value for m in at.markdown)
    selectbox(at, "Criterion").set_value(alignment.id)
    start(at, "alice")
    assert at.header[0].value == CRITERIA["Alignment"]
    assert at.query_params["leaderboard"] in (alignment.id, [alignment.id])  # a refresh resumes
    click(at, "Change name or leaderboard")  # back to this benchmark's criteria
    assert selectbox(at, "Criterion").options[0] == f"Aesthetics: {CRITERIA['Aesthetics']}"
    selectbox(at, "Criterion").set_value(aesthetics.id)
    start(at, "alice")
    assert at.header[0].value == CRITERIA["Aesthetics"]


def test_a_link_to_a_one_board_benchmark_or_an_unknown_one(client, png, bench, monkeypatch):
    legacy = make_board(client, png, models=2, prompts=1)
    at = open_app(monkeypatch, client.db_path)
    at.query_params["benchmark"] = legacy.id  # a board's own benchmark has its id
    at.run()
    assert not at.selectbox and any("Test board" in m.value for m in at.markdown)
    start(at, "alice")
    assert session(at, legacy.id).current is not None
    at = open_app(monkeypatch, client.db_path)
    at.query_params["benchmark"] = "nosuchbench"
    at.run()
    assert "nosuchbench" in at.warning[0].value
    assert selectbox(at, "Benchmark")  # the whole list instead


def test_a_disabled_participant_is_never_served(client, bench, monkeypatch):
    aesthetics, alignment = board_of(bench, "Aesthetics"), board_of(bench, "Alignment")
    bench.participant("m0").disable()
    at = start(open_app(monkeypatch, client.db_path, aesthetics.id), "alice")
    served = rate_until_done(at, aesthetics.id)
    assert len(served) == 2  # m1 against m2 on each prompt, nothing with m0
    assert {p.left.model for p in served} | {p.right.model for p in served} == {"m1", "m2"}
    # disabled while a rater is on the page, with the next pair already prepared
    bench.participant("m0").enable()
    at = start(open_app(monkeypatch, client.db_path, alignment.id), "bob")
    assert session(at, alignment.id).upcoming is not None
    bench.participant("m1").disable()
    seen = []
    for _ in range(10):
        click(at, "A is better")
        pair = session(at, alignment.id).current
        if pair is None:
            break
        seen += [pair.left.model, pair.right.model]
    assert seen and "m1" not in seen
