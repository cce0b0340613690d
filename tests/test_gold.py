"""Gold pairs and qualification: known-answer pairs are served like any pair, their votes are
stored but count nowhere (standings, matchmaking counts, matrices, exports), and they judge the
raters: a qualification gate for new raters, automatic exclusion below the board's thresholds
(reversible by the owner), with the reason in ``lb.raters()``."""

from __future__ import annotations

import sqlite3

import pytest

import rater
from rater.matchmaking.gold import QUALIFYING
from rater.store import SCHEMA_VERSION, schema

pytestmark = pytest.mark.both_backends  # `client` tests run on SQLite and on PostgreSQL

PROMPTS = ["a red fox", "a blue bird", "a green frog"]


def board(client, png, *, models=3, **options):
    lb = client.mri.create_new_leaderboard("Gold", "Which image is better?", PROMPTS, show_prompt=True,
                                           repeat_share=0.0, **options)
    for m in range(models):
        lb.evaluate_model(f"model-{m}", [png(10 * m + k) for k in range(len(PROMPTS))], PROMPTS)
    return lb


def with_gold(lb, png, count=3):
    """``count`` gold pairs by file on the board's prompts (better: seeds 500+, worse 600+)."""
    return lb.add_gold_pairs([(png(500 + i), png(600 + i), PROMPTS[i % len(PROMPTS)]) for i in range(count)])


def answer(lb, pair, rater_id, right=True):
    """Vote on a served matchup: on a gold pair pick the better side (or the worse one)."""
    better = {g.better_sha256 for g in lb.gold_pairs()}
    left_better = pair.left.sha256 in better
    choice = "left" if left_better == right else "right"
    return lb.record_vote(pair.id, choice, rater_id)


def standings_table(lb):
    return lb.get_standings()[["name", "wins", "total_matches"]].to_dict("records")


# -- gold pairs: API --------------------------------------------------------------------------

def test_gold_pairs_are_stored_listed_and_removed(client, png):
    lb = board(client, png)
    stored_sha = lb.model_media("model-0")[PROMPTS[1]][0].stem  # a stored medium, by its sha256
    first = lb.add_gold_pair(png(900), png(901), "a red fox")
    second = lb.add_gold_pair(stored_sha, png(902))  # the prompt comes from the stored medium
    assert [(g.identifier, g.votes) for g in lb.gold_pairs()] == [("a red fox", 0), ("a blue bird", 0)]
    assert second.better_sha256 == stored_sha and second.better.is_file() and first.worse.is_file()
    # hidden participants: listed nowhere, rated nowhere
    assert [m.name for m in lb.models()] == ["model-0", "model-1", "model-2"]
    assert [p.name for p in lb.benchmark.participants] == ["model-0", "model-1", "model-2"]
    lb.remove_gold_pair(first.id)
    assert [g.id for g in lb.gold_pairs()] == [second.id]
    with pytest.raises(rater.NotFoundError, match="no gold pair 999"):
        lb.remove_gold_pair(999)


@pytest.mark.parametrize("pair, message", [
    (("same", "same", "a red fox"), "same medium"),
    (("a" * 64, "new", "a red fox"), "no stored medium has sha256"),
    (("new", "new2", None), "name the pair's prompt"),
    (("new", "new2", "a red cat"), "not registered"),
    (("missing.png", "new", "a red fox"), "missing.png"),
])
def test_bad_gold_pairs_are_refused_whole(client, png, tmp_path, pair, message):
    lb = board(client, png)
    files = {"same": png(700), "new": png(701), "new2": png(702), "missing.png": tmp_path / "missing.png"}
    better, worse, ident = (files.get(x, x) for x in pair[:2]), None, pair[2]
    better, worse = list(better)
    blobs_before = client.store.conn.execute("SELECT count(*) FROM blobs").fetchone()[0]
    with pytest.raises(rater.LeaderboardError, match=message):
        # a good pair first: the call is all or nothing
        lb.add_gold_pairs([(png(703), png(704), "a red fox"), (better, worse, ident)])
    assert lb.gold_pairs() == []
    assert client.store.conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == blobs_before


def test_the_same_gold_pair_twice_is_refused(client, png):
    lb = board(client, png)
    lb.add_gold_pair(png(800), png(801), "a red fox")
    with pytest.raises(rater.ValidationError, match="already has this gold pair"):
        lb.add_gold_pair(png(800), png(801), "a red fox")
    assert len(lb.gold_pairs()) == 1


# -- serving and counting ---------------------------------------------------------------------

def test_gold_votes_never_enter_standings_counts_or_matrices(client, png):
    lb = board(client, png)
    lb.set_quality_rules(gold_share=0.5)
    with_gold(lb, png, 3)
    gold_served, ordinary = 0, 0
    for r in range(6):
        rid = f"rater-{r}"
        for _ in range(6):
            pair = lb.next_matchup(rid, continue_when_settled=True)
            if pair is None:
                break
            if pair.is_gold:
                gold_served += 1
                assert pair.prompt in PROMPTS and pair.left.path.is_file() and pair.right.path.is_file()
                answer(lb, pair, rid, right=False)  # always wrong: would move nothing if counted
            else:
                ordinary += 1
                lb.record_vote(pair.id, "left", rid)
    assert gold_served and ordinary
    stored = client.store.conn.execute("SELECT count(*) FROM votes").fetchone()[0]
    assert stored == gold_served + ordinary  # every gold vote is stored
    assert lb.status().votes == ordinary  # ... and the matchmaker counts only the others
    assert lb.summary()["votes"] == ordinary
    assert int(lb.get_standings()["total_matches"].sum()) == 2 * ordinary
    assert int(lb.get_win_loss_matrix().to_numpy().sum()) == ordinary
    assert sum(g.votes for g in lb.gold_pairs()) == gold_served
    # the same board without the gold matchups' votes has the same standings
    before = standings_table(lb)
    with client.store.write() as conn:
        conn.execute("DELETE FROM votes WHERE matchup_id IN (SELECT id FROM matchups WHERE gold_pair IS NOT NULL)")
    assert standings_table(lb) == before


def test_a_gold_pair_is_never_served_twice_to_one_rater(client, png):
    lb = board(client, png, models=2)
    lb.set_quality_rules(gold_share=0.5)
    pairs = with_gold(lb, png, 2)
    served = []
    for _ in range(60):  # None: no ordinary pair left and no gold pair drawn this time
        pair = lb.next_matchup("alice", continue_when_settled=True)
        if pair is None:
            continue
        if pair.is_gold:
            served.append(frozenset((pair.left.sha256, pair.right.sha256)))
        lb.record_vote(pair.id, "left", "alice")
    assert len(served) == len(set(served)) == len(pairs)


def test_exported_votes_leave_gold_matchups_home(client, png, tmp_path, new_location):
    lb = board(client, png)
    lb.set_quality_rules(gold_share=0.5)
    with_gold(lb, png, 3)
    for _ in range(12):
        pair = lb.next_matchup("alice", continue_when_settled=True)
        if pair is None:
            break
        lb.record_vote(pair.id, "left", "alice")
    lb.export_votes(tmp_path / "votes.jsonl")
    other = rater.Client(new_location("other"), create=True)
    target = board(other, png)
    other.import_votes(tmp_path / "votes.jsonl", into=target.id)
    assert target.summary()["votes"] == lb.summary()["votes"]


# -- automatic exclusion ----------------------------------------------------------------------

def test_low_gold_accuracy_excludes_a_rater_reversibly(client, png):
    lb = board(client, png, models=6)  # 45 ordinary pairs: plenty between the gold ones
    lb.set_quality_rules(gold_share=0.5, min_gold_accuracy=0.7, min_quality_votes=3)
    with_gold(lb, png, 6)
    wrong = 0
    for _ in range(60):
        pair = lb.next_matchup("clicker", continue_when_settled=True)
        if pair is None or wrong == 3:
            break
        if pair.is_gold:
            answer(lb, pair, "clicker", right=False)
            wrong += 1
            stats = {s.name: s for s in lb.raters()}["clicker"]
            assert stats.excluded == (wrong >= 3)  # not before min_quality_votes gold votes
        else:
            lb.record_vote(pair.id, "left", "clicker")
    stats = {s.name: s for s in lb.raters()}["clicker"]
    assert stats.excluded and stats.gold_votes == 3 and stats.gold_accuracy == 0
    assert stats.reason == "gold accuracy 0% (0 of 3) below 70%"
    assert lb.summary()["excluded_votes"] == lb.summary()["votes"]  # their ordinary votes
    lb.include_rater("clicker")  # the owner's word wins from now on
    stats = {s.name: s for s in lb.raters()}["clicker"]
    assert not stats.excluded and stats.reason is None
    for _ in range(30):
        pair = lb.next_matchup("clicker", continue_when_settled=True)
        if pair is None:
            break
        answer(lb, pair, "clicker", right=False) if pair.is_gold else lb.record_vote(pair.id, "left", "clicker")
    assert not {s.name: s for s in lb.raters()}["clicker"].excluded


def test_low_repeat_agreement_excludes_a_rater(client, png):
    lb = client.mri.create_new_leaderboard("Repeats", "Which?", PROMPTS, repeat_share=0.5)
    for m in range(4):
        lb.evaluate_model(f"model-{m}", [png(10 * m + k) for k in range(3)], PROMPTS)
    lb.set_quality_rules(min_repeat_agreement=0.6, min_quality_votes=2)
    for _ in range(80):
        pair = lb.next_matchup("flipper", continue_when_settled=True)
        if pair is None:
            break
        lb.record_vote(pair.id, "left", "flipper")  # always left: a swapped repeat disagrees
        if {s.name: s for s in lb.raters()}["flipper"].excluded:
            break
    stats = {s.name: s for s in lb.raters()}["flipper"]
    assert stats.excluded and stats.repeats >= 2
    assert stats.reason.startswith("repeat agreement 0% (0 of ")


def test_an_owner_exclusion_is_shown_with_its_reason(client, png):
    lb = board(client, png)
    pair = lb.next_matchup("bob")
    lb.record_vote(pair.id, "left", "bob")
    lb.exclude_rater("bob")
    stats = {s.name: s for s in lb.raters()}["bob"]
    assert stats.excluded and stats.reason == "excluded by the owner"


# -- qualification ----------------------------------------------------------------------------

def test_qualification_gates_a_new_raters_votes(client, png):
    lb = board(client, png)
    with_gold(lb, png, 4)
    lb.set_quality_rules(qualification_pairs=3, qualification_required=2, gold_share=0.0)
    served = [lb.next_matchup("newbie") for _ in range(3)]
    assert all(p.is_gold for p in served)  # gold first (the app asks ahead: several at once)
    stats = {s.name: s for s in lb.raters()}["newbie"]
    assert stats.excluded and stats.reason == QUALIFYING and stats.qualified is None
    answer(lb, served[0], "newbie", right=True)
    answer(lb, served[1], "newbie", right=False)
    assert {s.name: s for s in lb.raters()}["newbie"].qualified is None  # 1 of 2: not decided
    answer(lb, served[2], "newbie", right=True)
    stats = {s.name: s for s in lb.raters()}["newbie"]
    assert stats.qualified is True and not stats.excluded and stats.reason is None
    # from now on ordinary pairs, and they count
    pair = lb.next_matchup("newbie")
    while pair.is_gold:  # the fourth gold pair may still come once: it is unseen
        answer(lb, pair, "newbie")
        pair = lb.next_matchup("newbie")
    lb.record_vote(pair.id, "left", "newbie")
    assert lb.status().votes == 1


def test_a_rater_who_fails_the_qualification_is_excluded_early(client, png):
    lb = board(client, png)
    with_gold(lb, png, 5)
    lb.set_quality_rules(qualification_pairs=4, qualification_required=3, gold_share=0.0)
    for k in range(2):
        pair = lb.next_matchup("guesser")
        assert pair.is_gold
        answer(lb, pair, "guesser", right=False)
    stats = {s.name: s for s in lb.raters()}["guesser"]  # 3 of 4 can no longer be reached
    assert stats.excluded and stats.qualified is False
    assert stats.reason == "failed the qualification: 0 of 2 gold pairs right, 3 of 4 needed"
    pair = lb.next_matchup("guesser")  # still served (votes kept), never counted
    lb.record_vote(pair.id, "left", "guesser")
    assert lb.status().votes == 0 and lb.summary()["excluded_votes"] == 1


def test_qualification_votes_do_not_count_before_it_is_passed(client, png):
    """A rater who got an ordinary pair while qualifying (every gold pair served) is not counted
    until the gold votes pass them."""
    lb = board(client, png)
    with_gold(lb, png, 2)
    lb.set_quality_rules(qualification_pairs=2, qualification_required=2, gold_share=0.0)
    g1, g2 = lb.next_matchup("amy"), lb.next_matchup("amy")
    ordinary = lb.next_matchup("amy")
    assert g1.is_gold and g2.is_gold and not ordinary.is_gold
    lb.record_vote(ordinary.id, "left", "amy")
    assert lb.status().votes == 0
    answer(lb, g1, "amy")
    answer(lb, g2, "amy")
    assert lb.status().votes == 1  # passed: the stored vote counts now


def test_qualification_rules_are_checked(client, png):
    lb = board(client, png)
    with pytest.raises(rater.ValidationError, match="needs 3 gold pairs on the board; it has 0"):
        lb.set_quality_rules(qualification_pairs=3, qualification_required=2)
    with_gold(lb, png, 3)
    with pytest.raises(rater.ValidationError, match="must not exceed"):
        lb.set_quality_rules(qualification_pairs=2, qualification_required=3)
    with pytest.raises(rater.ValidationError, match="gold_share must be a number from 0 to 0.5"):
        lb.set_quality_rules(gold_share=0.9)
    with pytest.raises(rater.ValidationError, match="nothing to change"):
        lb.set_quality_rules()
    assert lb.quality_rules().qualification_pairs == 0  # nothing changed
    rules = lb.set_quality_rules(qualification_pairs=3, qualification_required=2)
    assert (rules.qualification_pairs, rules.qualification_required, rules.gold_pairs) == (3, 2, 3)


# -- schema -----------------------------------------------------------------------------------

def test_migration_to_gold_keeps_every_row(tmp_path, png):
    """A database made by the previous version gains the gold tables and keeps its votes."""
    path = tmp_path / "old.db"
    old = rater.Client(path, create=True)
    lb = board(old, png)
    pair = lb.next_matchup("alice")
    lb.record_vote(pair.id, "left", "alice")
    lb.exclude_rater("alice")
    old.close()
    conn = sqlite3.connect(path)  # take it back to the previous version, as it shipped
    conn.execute("PRAGMA foreign_keys = OFF")
    for statement in ["DROP TABLE gold_pairs", "DROP INDEX matchups_by_gold"]:
        conn.execute(statement)
    for table, column in [("matchups", "gold_pair"), ("models", "gold"), ("raters", "reason"),
                          ("raters", "qualified"), ("raters", "by_owner"),
                          *(("leaderboards", c) for c in ("qualification_required", "qualification_pairs",
                            "gold_share", "min_gold_accuracy", "min_repeat_agreement", "min_quality_votes",
                            "weighted_scoring"))]:  # steps 9 (gold) and 10 (weighted scoring)
        conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.execute("PRAGMA user_version = 8")
    conn.commit()
    conn.close()
    assert len(schema.MIGRATIONS) == SCHEMA_VERSION
    client = rater.Client(path)
    lb = client.mri.get_leaderboard_by_id(lb.id)
    assert client.store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert lb.summary()["votes"] == 1 and lb.summary()["excluded_votes"] == 1
    assert lb.quality_rules().gold_share == 0.05 and lb.gold_pairs() == []
    stats = {s.name: s for s in lb.raters()}["alice"]
    assert stats.excluded and stats.gold_votes == 0


# -- audiences ----------------------------------------------------------------------------------

def test_an_audience_member_qualifies_and_the_report_shows_gold_figures(client, png):
    lb = board(client, png)
    with_gold(lb, png, 3)
    lb.set_quality_rules(qualification_pairs=2, qualification_required=2, gold_share=0.0)
    audience = client.audience.create_audience("Experts")
    audience.attach(lb)
    good, bad = audience.invite(lb, count=2)
    for member, right, answers in ((good, True, 2), (bad, False, 1)):  # one wrong answer fails
        for _ in range(answers):
            pair = lb.next_matchup(member.rater)
            assert pair.is_gold
            answer(lb, pair, member.rater, right=right)
    rows = {r.rater: r for r in audience.report()}
    assert rows[good.rater].gold_accuracy == 1.0 and not rows[good.rater].excluded
    assert rows[bad.rater].gold_accuracy == 0.0 and rows[bad.rater].excluded
    assert rows[bad.rater].reason.startswith("failed the qualification: 0 of 1")


def test_the_published_site_leaves_gold_votes_and_hidden_participants_out(client, png, tmp_path):
    import csv
    import json

    from site_builder.build import build_site

    lb = board(client, png)
    lb.set_quality_rules(gold_share=0.5)
    with_gold(lb, png, 3)
    gold_votes = 0
    for r in range(3):
        for _ in range(8):
            pair = lb.next_matchup(f"rater-{r}", continue_when_settled=True)
            if pair is None:
                break
            gold_votes += pair.is_gold
            lb.record_vote(pair.id, "left", f"rater-{r}")
    assert gold_votes
    site = tmp_path / "site"
    build_site(client.db_path, site, settings=None, progress=None)
    folder = site / "boards" / lb.id
    with open(folder / "votes.csv", newline="", encoding="utf-8") as fh:
        published = list(csv.DictReader(fh))
    assert len(published) == lb.summary()["votes"]  # the ordinary votes only
    document = json.loads((folder / "standings.json").read_text(encoding="utf-8"))
    assert sorted(s["name"] for s in document["standings"]) == ["model-0", "model-1", "model-2"]
    for page in site.rglob("*"):
        if page.is_file() and page.suffix in (".html", ".csv", ".json"):
            assert "\x1f" not in page.read_text(encoding="utf-8") and "gold:" not in page.read_text(encoding="utf-8")


def test_stricter_rules_apply_to_votes_already_cast(client, png):
    lb = board(client, png, models=6)
    lb.set_quality_rules(gold_share=0.5, min_gold_accuracy=0.0)  # accuracy not checked yet
    with_gold(lb, png, 3)
    for _ in range(60):
        pair = lb.next_matchup("lazy", continue_when_settled=True)
        if pair is not None:
            answer(lb, pair, "lazy", right=False) if pair.is_gold else lb.record_vote(pair.id, "left", "lazy")
        if {s.name: s for s in lb.raters()}["lazy"].gold_votes == 3:
            break
    assert not {s.name: s for s in lb.raters()}["lazy"].excluded
    lb.set_quality_rules(min_gold_accuracy=0.5, min_quality_votes=3)
    stats = {s.name: s for s in lb.raters()}["lazy"]
    assert stats.excluded and stats.reason == "gold accuracy 0% (0 of 3) below 50%"
