"""The hosted SDK's benchmark flow, as a user porting their script would call it.

Walks the calls that the SDK's ``docs/mri.md`` and ``docs/mri_advanced.md`` document for
benchmarks, leaderboards and participants (identifiers, prompt assets, tags, several
leaderboards, vote aggregation, level of detail, tag scopes, participants, jobs, standings,
matrices) against a real database, real PNG files and real votes. Calls that only make sense
against the hosted service (audiences with country/language filters, upload workers, opening
a browser) are out of scope.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from rater import (
    Benchmark, BenchmarkNotFound, Client, Job, NotFoundError, Participant, Tag, ValidationError, VoteAggregation,
)

#: Every test runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

IDS = ["scene_1", "scene_2", "scene_3", "scene_4"]
PROMPTS = ["A sunny beach", "A mountain landscape", "A city skyline", "A sunny beach"]  # text repeats: ids differ
TAGS = [[Tag("beach", category="scene"), "outdoor"], ["mountain", "outdoor"], ["city"], ["beach", "nsfw"]]
STRENGTH = {"ModelA": 3, "ModelB": 2, "ModelC": 1, "ModelD": 0}


def _png(path: Path, colour: tuple[int, int, int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 8), colour).save(path)
    return path


def _outputs(folder: Path, model: str) -> list[Path]:
    k = list(STRENGTH).index(model)
    return [_png(folder / model / f"{i}.png", (40 * k + 5, 50 * i + 3, 77)) for i in range(len(IDS))]


def _vote(lb, raters: list[str], rounds: int, flip: bool = False) -> int:
    """Raters judge by the known strengths (the stronger side wins; flipped: the weaker)."""
    cast = 0
    for _ in range(rounds):
        for rater in raters:
            m = lb.next_matchup(rater, continue_when_settled=True)
            if m is None:
                continue
            better_left = STRENGTH[m.left.model] > STRENGTH[m.right.model]
            if lb.inverse_ranking or flip:
                better_left = not better_left
            lb.record_vote(m.id, "left" if better_left else "right", rater)
            cast += 1
    return cast


@pytest.fixture
def bench(client: Client, tmp_path: Path) -> Benchmark:
    return client.mri.create_new_benchmark(
        name="Tagged Benchmark", identifiers=IDS, prompts=PROMPTS, tags=TAGS,
        prompt_assets=[_png(tmp_path / "assets" / f"{i}.png", (9, 9, 9 + i)) for i in range(len(IDS))],
    )


def test_the_documented_benchmark_flow(bench: Benchmark, tmp_path: Path) -> None:
    client = bench._client
    # Retrieving: by id, by name, paged
    assert client.mri.get_benchmark_by_id(bench.id) == bench
    assert client.mri.find_benchmarks(name="tagged", amount=10) == [bench]
    assert client.mri.find_benchmarks(name="tagged", amount=10, page=2) == []
    with pytest.raises(BenchmarkNotFound, match="no benchmark with id 'nope'"):
        client.mri.get_benchmark_by_id("nope")
    # The benchmark's registered prompts
    assert bench.identifiers == IDS and bench.prompts == PROMPTS
    assert bench.tags == [["beach", "outdoor"], ["mountain", "outdoor"], ["city"], ["beach", "nsfw"]]
    assert bench.structured_tags[0] == [Tag("beach", "scene"), Tag("outdoor")]
    assert all(a is not None and a.exists() for a in bench.prompt_assets)

    # Several leaderboards, each a criterion
    realism = bench.create_leaderboard(name="Realism", instruction="Which image is more realistic?", show_prompt=False)
    quality = bench.create_leaderboard(name="Quality Assessment", instruction="Which image has lower quality?",
                                       inverse_ranking=True, show_prompt=True, show_prompt_asset=True)
    outdoor = bench.create_leaderboard(name="Realism (outdoor)", instruction="Which image is more realistic?",
                                       included_tags=["outdoor"], excluded_tags=["nsfw"], level_of_detail="low",
                                       vote_aggregation=VoteAggregation.MAJORITY_VOTE, min_responses_per_matchup=1)
    assert [lb.id for lb in bench.leaderboards] == [realism.id, quality.id, outdoor.id]
    assert outdoor.included_tags == ["outdoor"] and outdoor.excluded_tags == ["nsfw"]
    assert outdoor.level_of_detail == "low" and outdoor.response_budget == 2000
    assert outdoor.vote_aggregation == VoteAggregation.MAJORITY_VOTE
    assert realism.vote_aggregation == VoteAggregation.ALL_VOTES  # our default (see VoteAggregation)

    # Participants: add_model (CREATED), run, bench.run
    a = bench.add_model(name="ModelA", media=_outputs(tmp_path, "ModelA"), identifiers=IDS)
    assert isinstance(a, Participant) and a.status == "created" and realism.models() == []
    a.run()
    assert a.status == "rating" and [m.name for m in realism.models()] == ["ModelA"]
    bench.add_model(name="ModelB", media=_outputs(tmp_path, "ModelB"), identifiers=IDS)
    c = bench.add_model(name="ModelC", media=_outputs(tmp_path, "ModelC")[1:3],
                        prompts=["A mountain landscape", "A city skyline"])  # by prompt text where it is unique
    c.upload_media(_outputs(tmp_path, "ModelC")[::3], identifiers=["scene_1", "scene_4"])
    assert [p.name for p in bench.run()] == ["ModelB", "ModelC"]
    bench.evaluate_model("ModelD", media=_outputs(tmp_path, "ModelD"), identifiers=IDS)
    assert [(p.name, p.status) for p in bench.participants] == [(n, "rating") for n in STRENGTH]
    for lb in (realism, quality, outdoor):
        assert [m.name for m in lb.models()] == list(STRENGTH)

    # Jobs: one per participant run on a leaderboard, newest first
    jobs = outdoor.jobs
    assert [j.participant for j in jobs] == ["ModelD", "ModelC", "ModelB", "ModelA"]
    assert all(isinstance(j, Job) and j.get_status() == "rating" and j.budget == 2000 for j in jobs)

    # Votes on each criterion; the tag scope decides what 'outdoor' serves
    assert _vote(realism, ["ann", "bob", "cy"], 30) > 50
    assert _vote(quality, ["ann", "dee"], 30) > 40
    assert _vote(outdoor, ["eve", "fay", "gus", "hal"], 30) > 40  # 12 media pairs per rater there
    served = {p for (p,) in client.store.conn.execute(
        "SELECT DISTINCT p.identifier FROM matchups mu JOIN prompts p ON p.id = mu.prompt_id "
        "WHERE mu.leaderboard_id = ?", (outdoor.id,))}
    assert served == {"scene_1", "scene_2"}  # outdoor, and not nsfw

    # Standings per leaderboard (tags filter what is read back), overall, matrices
    for lb in (realism, quality, outdoor):
        table = lb.get_standings()
        assert list(table["name"]) == list(STRENGTH), lb.name
    by_tag = realism.get_standings(tags=["outdoor"])
    assert by_tag["total_matches"].sum() < realism.get_standings()["total_matches"].sum()
    overall = bench.get_overall_standings()
    assert list(overall["name"]) == list(STRENGTH) and overall["complete"].all()
    assert set(overall.attrs["leaderboards"]) == {realism.id, quality.id, outdoor.id}
    two = bench.get_overall_standings(leaderboard_ids=[realism.id, quality.id], weights={realism.id: 2, quality.id: 1})
    assert list(two["name"]) == list(STRENGTH)
    matrix = realism.get_win_loss_matrix()
    assert list(matrix.index) == list(matrix.columns) and (matrix.values.diagonal() == 0).all()
    assert matrix.loc["ModelA", "ModelD"] >= 0 and matrix.loc["ModelD", "ModelA"] == 0  # A always wins
    total = bench.get_win_loss_matrix()
    counted = [lb.get_standings()["total_matches"].sum() / 2 for lb in (realism, quality, outdoor)]
    assert total.values.sum() == pytest.approx(sum(counted))  # each counted vote (outdoor: pair) once
    assert counted[2] < outdoor.summary()["votes"]  # majority: one row per media pair
    pair = bench.get_win_loss_matrix(participant_ids=[a.id, bench.participant("ModelB").id], leaderboard_ids=[realism.id])
    assert list(pair.index) == ["ModelA", "ModelB"]
    weighted = realism.get_win_loss_matrix(tags=["outdoor"], use_weighted_scoring=True)
    assert weighted.values.sum() <= realism.get_win_loss_matrix(tags=["outdoor"]).values.sum()
    assert a.get_elo() == pytest.approx(float(overall.loc[overall["name"] == "ModelA", "score"].iloc[0]))

    # Adding prompts and assets afterwards; editing a prompt's tags
    bench.add_prompts(identifiers=["new_style"], prompts=["Generate artwork in this new style"],
                      prompt_assets=[_png(tmp_path / "assets" / "new.png", (1, 2, 3))], tags=[["abstract", "modern"]])
    assert bench.identifiers[-1] == "new_style" and bench.tags[-1] == ["abstract", "modern"]
    bench.update_prompt("new_style", tags=["abstract", "surreal"])
    assert bench.tags[-1] == ["abstract", "surreal"]
    assert a.missing_counts() == {"new_style": 1}
    assert a.missing_counts([*IDS, "scene_1"]) == {"scene_1": 1}  # two media intended for scene_1
    everything = [*_outputs(tmp_path, "ModelA"), _png(tmp_path / "late.png", (200, 1, 1))]
    added = a.retry_missing(everything, [*IDS, "new_style"])  # the full lists, as the SDK takes them
    assert added.media_added == 1 and a.missing_counts() == {}
    assert a.retry_missing(everything, [*IDS, "new_style"]).media_added == 0  # again: nothing to add

    # Changing a leaderboard's configuration in one call
    changed = outdoor.update(name="Realism v2", level_of_detail=5000, min_responses_per_matchup=5,
                             vote_aggregation=VoteAggregation.ALL_VOTES)
    assert (changed.name, changed.level_of_detail, changed.response_budget) == ("Realism v2", "custom", 5000)
    assert changed.min_responses_per_matchup == 5 and changed.vote_aggregation == "all"
    with pytest.raises(ValidationError, match="level_of_detail must be one of"):
        outdoor.update(level_of_detail="extreme")

    # Renaming, disabling, deleting participants
    b = bench.participant("ModelB")
    b.rename("New model name")
    assert "New model name" in list(realism.get_standings()["name"])
    with pytest.raises(ValidationError, match="already has a participant named 'ModelA'"):
        b.rename("ModelA")
    bench.participant("ModelD").delete()
    assert [p.name for p in bench.participants] == ["ModelA", "New model name", "ModelC"]
    with pytest.raises(NotFoundError, match="no participant 'ModelD'"):
        bench.participant("ModelD")


def test_one_evaluate_model_feeds_two_leaderboards_and_votes_on_one_never_move_the_other(bench, tmp_path) -> None:
    one = bench.create_leaderboard("Aesthetics", "Which image looks better?")
    two = bench.create_leaderboard("Alignment", "Which image fits the description?", show_prompt=True)
    for name in STRENGTH:
        bench.evaluate_model(name, _outputs(tmp_path, name), identifiers=IDS)
    stored = bench._client.store.conn.execute("SELECT count(*) FROM media").fetchone()[0]
    assert stored == len(STRENGTH) * len(IDS)  # stored once, rated on both
    assert one.model_media("ModelA") == two.model_media("ModelA")
    _vote(one, ["ann", "bob"], 20)
    before = two.get_standings(seed=1)
    assert before["total_matches"].sum() == 0
    _vote(one, ["cy"], 5, flip=True)
    assert two.get_standings(seed=1).equals(before)
    mine = one.get_standings(seed=1)
    _vote(two, ["ann", "bob"], 20, flip=True)  # the same raters sees the same pairs again on another criterion
    flipped = two.get_standings().set_index("name")
    assert flipped.loc["ModelA", "wins"] == 0 and flipped.loc["ModelA", "losses"] > 0  # A lost every one there
    assert one.get_standings(seed=1).equals(mine)


def test_a_disabled_participant_leaves_standings_and_comes_back_identical(bench, tmp_path) -> None:
    lb = bench.create_leaderboard("Aesthetics", "Which image looks better?")
    for name in STRENGTH:
        bench.evaluate_model(name, _outputs(tmp_path, name), identifiers=IDS)
    _vote(lb, ["ann", "bob", "cy"], 15)
    full = lb.get_standings(seed=3)
    overall = bench.get_overall_standings(seed=3)
    c = bench.participant("ModelC")
    c.disable()
    assert c.status == "disabled"
    assert "ModelC" not in list(lb.get_standings()["name"]) and "ModelC" not in [m.name for m in lb.models()]
    assert "ModelC" not in list(bench.get_win_loss_matrix().index)
    for _ in range(30):  # never served while disabled
        m = lb.next_matchup("dee", continue_when_settled=True)
        assert m is None or "ModelC" not in (m.left.model, m.right.model)
        if m is not None:
            lb.record_vote(m.id, "tie", "dee")
    lb.exclude_rater("dee")  # take dee's votes out again, to compare with the first standings
    c.enable()
    assert c.status == "rating"
    assert lb.get_standings(seed=3).equals(full)
    assert bench.get_overall_standings(seed=3).equals(overall)


def test_a_deleted_participant_is_gone_and_its_name_free(bench, tmp_path) -> None:
    lb = bench.create_leaderboard("Aesthetics", "Which image looks better?")
    for name in STRENGTH:
        bench.evaluate_model(name, _outputs(tmp_path, name), identifiers=IDS)
    _vote(lb, ["ann", "bob"], 15)
    votes_before = lb.summary()["votes"]
    bench.participant("ModelA").delete()
    assert "ModelA" not in list(lb.get_standings()["name"]) and "ModelA" not in lb.model_cards()
    assert "ModelA" not in list(bench.get_overall_standings()["name"])
    assert lb.summary()["votes"] < votes_before  # its votes left the standings
    unrated = bench.add_model("ModelE", [_png(tmp_path / "e.png", (7, 7, 7))], identifiers=["scene_1"])
    unrated.delete()
    from rater.intake.gc import collect_garbage

    found = collect_garbage(bench._client.store, grace=0)
    assert found.unused_rows == 1 and [x.reason for x in found.leftovers] == ["unused blob"]
    again = bench.evaluate_model("ModelA", [_png(tmp_path / "new-a.png", (250, 250, 0))], identifiers=["scene_1"])
    assert again.status == "rating" and lb.get_standings().loc[lambda t: t["name"] == "ModelA", "total_matches"].iloc[0] == 0


def test_majority_aggregation_on_a_hand_computed_case(bench, tmp_path) -> None:
    """Three raters judge the same media pair: 2 for A, 1 for B -> one win of A. Two raters
    split another pair -> half a win each. A pair judged once counts only with min 1."""
    lb = bench.create_leaderboard("Majority", "Which is better?", vote_aggregation="majority",
                                  min_responses_per_matchup=2, repeat_share=0)
    for name in ("ModelA", "ModelB"):
        bench.evaluate_model(name, _outputs(tmp_path, name)[:3], identifiers=IDS[:3])
    from rater.store import votes as vote_sql

    conn = bench._client.store.conn
    media = {(m, q): i for i, m, q in conn.execute(
        "SELECT m.id, o.name, p.identifier FROM media m JOIN models o ON o.id = m.model_id "
        "JOIN prompts p ON p.id = m.prompt_id")}
    ids = dict(conn.execute("SELECT name, id FROM models"))
    prompt = dict(conn.execute("SELECT identifier, id FROM prompts"))
    script = [("scene_1", "ann", "left"), ("scene_1", "bob", "left"), ("scene_1", "cy", "right"),
              ("scene_2", "ann", "left"), ("scene_2", "bob", "right"), ("scene_3", "ann", "left")]
    import time
    import uuid

    with bench._client.store.write() as w:
        for k, (q, rater, choice) in enumerate(script):
            mid = uuid.uuid4().hex
            vote_sql.insert_matchup(w, {"id": mid, "leaderboard_id": lb.id, "prompt_id": prompt[q],
                                        "left_media": media[("ModelA", q)], "left_model": ids["ModelA"],
                                        "right_media": media[("ModelB", q)], "right_model": ids["ModelB"],
                                        "rater": rater, "served_at": time.time() - 100 + k, "repeat_of": None})
            vote_sql.insert_vote(w, mid, rater, choice, time.time() - 50 + k)
    table = lb.get_standings().set_index("name")
    assert (table.loc["ModelA", "wins"], table.loc["ModelA", "losses"], table.loc["ModelA", "ties"]) == (1, 0, 1)
    assert table["total_matches"].sum() == 4  # two counted pairs, each counted for both models
    assert lb.get_win_loss_matrix().loc["ModelA", "ModelB"] == 1.5
    lb = lb.update(min_responses_per_matchup=1)
    assert lb.get_standings().set_index("name").loc["ModelA", "wins"] == 2  # scene_3 now counts
    lb = lb.update(vote_aggregation=VoteAggregation.ALL_VOTES)
    assert lb.get_standings().set_index("name").loc["ModelA", "wins"] == 4


def test_level_of_detail_ends_a_run_at_its_budget(bench, tmp_path) -> None:
    lb = bench.create_leaderboard("Quick", "Which is better?", level_of_detail="debug", repeat_share=0)
    for name in ("ModelA", "ModelB"):
        bench.evaluate_model(name, _outputs(tmp_path, name), identifiers=IDS)
    cast = 0
    for i in range(60):
        m = lb.next_matchup(f"r{i}")
        if m is None:
            break
        lb.record_vote(m.id, "tie", f"r{i}")  # ties: the stopping rule alone would never end it
        cast += 1
    assert cast == 20  # 'debug' is 20 votes: then the board is settled for these two
    assert lb.next_matchup("someone-new") is None and lb.status().settled
    assert [j.status for j in lb.jobs] == ["completed", "completed"]


def test_a_leaderboard_created_later_rates_existing_participants_unless_skipped(bench, tmp_path) -> None:
    bench.create_leaderboard("First", "Which is better?")
    bench.evaluate_model("ModelA", _outputs(tmp_path, "ModelA"), identifiers=IDS)
    bench.add_model("ModelB", _outputs(tmp_path, "ModelB"), identifiers=IDS)  # created, not run
    later = bench.create_leaderboard("Later", "Which is worse?", inverse_ranking=True)
    skipped = bench.create_leaderboard("Staged", "Which is better?", skip_initial_run=True)
    assert [m.name for m in later.models()] == ["ModelA"] and skipped.models() == []
    bench.participant("ModelB").run()
    assert [m.name for m in skipped.models()] == ["ModelB"]  # a model run afterwards meets the field


def test_bad_benchmark_input_is_refused_whole(client: Client, tmp_path: Path) -> None:
    cases = [
        (dict(name="B", prompts=["x", "x"]), "identifiers must be unique"),
        (dict(name="B", identifiers=["a", "b"], prompts=["x"]), "prompts must have one entry per identifier"),
        (dict(name="B", identifiers=["a"]), "give prompts or prompt_assets"),
        (dict(name="B", prompts=["x"], tags=[["ok"], ["extra"]]), "one list of tags per prompt"),
        (dict(name=" ", prompts=["x"]), "benchmark name"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValidationError, match=message):
            client.mri.create_new_benchmark(**kwargs)
    assert client.mri.list_benchmarks() == []
    bench = client.mri.create_new_benchmark("B", identifiers=["a", "b"], prompts=["x", "x"])
    for kwargs, message in [(dict(level_of_detail=0), "level_of_detail"), (dict(vote_aggregation="most"), "most"),
                            (dict(min_responses_per_matchup=0), "min_responses_per_matchup"),
                            (dict(included_tags="outdoor"), "included_tags must be a list")]:
        with pytest.raises((ValidationError, ValueError), match=message):
            bench.create_leaderboard("L", "Which?", **kwargs)
    assert bench.leaderboards == []
    bench.create_leaderboard("L", "Which?")
    png = _png(tmp_path / "a.png", (1, 1, 1))
    with pytest.raises(ValidationError, match="registered under several identifiers"):
        bench.add_model("M", [png], prompts=["x"])
    with pytest.raises(ValidationError, match="either identifiers or prompts"):
        bench.add_model("M", [png])
    assert bench.participants == []
    bench.add_model("M", [png], identifiers=["a"])
    with pytest.raises(ValidationError, match="already has a participant named 'M'"):
        bench.add_model("M", [png], identifiers=["b"])
    with pytest.raises(ValidationError, match="already stored for model 'M'"):
        bench.participant("M").upload_media([png], ["a"])


def test_text_outputs_are_compared_like_media(bench) -> None:
    lb = bench.create_leaderboard("Answers", "Which answer is better?", repeat_share=0)
    bench.evaluate_model("llm-a", ["**Sunny** beach <b>", "Peaks", "Towers", "Sand"], identifiers=IDS, data_type="text")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same short answer from two models is no copy mistake
        bench.evaluate_model("llm-b", ["A beach", "Hills", "Streets", "Sand"], identifiers=IDS, data_type="text",
                             strict=True)
    served = []
    while (m := lb.next_matchup("ann")) is not None:
        assert {m.left.kind, m.right.kind} == {"text"}
        texts = {m.left.path.read_text(encoding="utf-8"), m.right.path.read_text(encoding="utf-8")}
        assert len(texts) == 2  # never the same answer against itself ("Sand" for scene_4)
        served.append(m)
        lb.record_vote(m.id, "left", "ann")
    assert len(served) == 3 and lb.get_standings()["total_matches"].sum() == 6
    with pytest.raises(ValidationError, match="data_type must be 'media' or 'text'"):
        bench.add_model("llm-c", ["x"], identifiers=IDS[:1], data_type="html")
