"""Audiences through the Python API and the store: boards restricted to them, invite links
(hashed tokens, quota, expiry, revocation), study links of crowd platforms, completion codes,
standings per audience, the payment report, and the store refusing outsiders."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from app_support import make_board
from db_dump import dump_database
from rater import (
    AudienceNotFound, Client, Leaderboard, LinkRefused, NotFoundError, ValidationError, VoteError,
)
from rater.results.audience_report import report_csv
from rater.store import SCHEMA_VERSION

pytestmark = pytest.mark.both_backends  # `client` tests run on SQLite and on PostgreSQL


def _token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["invite"][0]


def _vote(lb: Leaderboard, rater: str, n: int, choice: str = "left") -> int:
    done = 0
    for _ in range(n):
        matchup = lb.next_matchup(rater, continue_when_settled=True)
        if matchup is None:
            break
        lb.record_vote(matchup.id, choice, rater)
        done += 1
    return done


@pytest.fixture
def board(client: Client, png: Callable[..., Path]) -> Leaderboard:
    return make_board(client, png, models=3, prompts=2, repeat_share=0.0)


def test_create_find_get(client: Client) -> None:
    a = client.audience.create_audience(name="Prompt alignment experts")
    b = client.audience.create_audience("Crowd", platform="mturk")
    assert client.audience.get_audience_by_id(a.id) == a
    assert [x.id for x in client.audience.find_audiences("alignment")] == [a.id]
    assert [x.id for x in client.audience.find_audiences("ALIGNMENT")] == [a.id]  # either backend
    assert {x.id for x in client.audience.find_audiences("")} == {a.id, b.id}
    assert (b.worker_param, b.extra_params) == ("workerId", ("assignmentId", "hitId"))
    assert (a.worker_param, a.extra_params) == ("PROLIFIC_PID", ("STUDY_ID", "SESSION_ID"))
    with pytest.raises(AudienceNotFound, match="nosuch"):
        client.audience.get_audience_by_id("nosuch")
    with pytest.raises(ValidationError, match="platform"):
        client.audience.create_audience("X", platform="upwork")
    with pytest.raises(ValidationError, match="audience name"):
        client.audience.create_audience("  ")
    assert client.audience.audience("Crowd").id == b.id


def test_create_leaderboard_with_audience_restricts_it(client: Client, png: Callable[..., Path]) -> None:
    audience = client.audience.create_audience("Experts")
    bench = client.mri.create_new_benchmark("B", identifiers=["p1", "p2"], prompts=["A cat", "A dog"])
    restricted = bench.create_leaderboard("Realism", "Which is more realistic?", audience_id=audience)
    by_id = bench.create_leaderboard("Alignment", "Which follows the prompt?", audience_id=audience.id)
    open_board = bench.create_leaderboard("Open", "Which do you prefer?")
    assert client.audience.board_audiences(restricted.id) == [audience.id]
    assert client.audience.board_audiences(by_id.id) == [audience.id]
    assert client.audience.board_audiences(open_board.id) == []
    assert sorted(audience.leaderboard_ids) == sorted([restricted.id, by_id.id])
    with pytest.raises(AudienceNotFound):
        bench.create_leaderboard("Bad", "Which?", audience_id="nosuch")
    assert len(bench.leaderboards) == 3  # the refused one was not made


def test_open_board_unchanged_and_restricted_board_refuses_outsiders(client: Client, board: Leaderboard) -> None:
    assert _vote(board, "anyone", 2) == 2  # no audience: any rater id, as before
    audience = client.audience.create_audience("Experts")
    assert audience.attach(board) is True and audience.attach(board.id) is False
    with pytest.raises(VoteError, match="not a current member"):
        board.next_matchup("anyone")
    # the store itself refuses, whatever the caller: a raw insert of a matchup fails too
    conn = client.store.conn
    row = conn.execute("SELECT * FROM matchups LIMIT 1").fetchone()
    with pytest.raises(sqlite3.IntegrityError, match="not admitted"):
        with client.store.write() as w:
            w.execute("INSERT INTO matchups (id, leaderboard_id, prompt_id, left_media, left_model, right_media,"
                      " right_model, rater, served_at) VALUES ('x1', ?, ?, ?, ?, ?, ?, 'intruder', ?)",
                      (row[1], row[2], row[3], row[4], row[5], row[6], time.time()))
    assert audience.detach(board) is True
    assert _vote(board, "anyone", 1) == 1  # open again


def test_invite_links_admit_identify_and_are_stored_hashed(client: Client, board: Leaderboard) -> None:
    audience = client.audience.create_audience("Experts")
    with pytest.raises(ValidationError, match="attach it first"):
        audience.invite(board.id, count=1)
    audience.attach(board)
    invites = audience.invite(board.id, count=3, quota=2, completion_url="https://example.org/done?cc=X",
                              base_url="https://rate.example.org/")
    assert [i.rater for i in invites] == [f"aud-{audience.id}-{n}" for n in (1, 2, 3)]
    assert all(i.url.startswith("https://rate.example.org/?invite=") for i in invites)
    tokens = [_token(i.url) for i in invites]
    assert len(set(tokens)) == 3 and all(len(t) >= 32 for t in tokens)
    stored = client.store.conn.execute("SELECT token_hash FROM audience_raters ORDER BY id").fetchall()
    assert [r[0] for r in stored] == [hashlib.sha256(t.encode()).hexdigest() for t in tokens]
    dump = repr(dump_database(client.store.conn))
    assert not any(t in dump for t in tokens)  # never stored in clear
    admitted = client.audience.admit_invite(tokens[1])
    assert (admitted.rater, admitted.leaderboard_id, admitted.quota) == (invites[1].rater, board.id, 2)
    assert admitted.completion_url == "https://example.org/done?cc=X"
    assert _vote(board, admitted.rater, 2) == 2
    assert client.audience.votes_cast(admitted) == 2
    more = audience.invite(board, count=1)
    assert more[0].rater == f"aud-{audience.id}-4"  # numbering goes on


def test_refused_links_say_why(client: Client, board: Leaderboard) -> None:
    audience = client.audience.create_audience("Experts")
    audience.attach(board)
    [keep, revoke, expire] = [_token(i.url) for i in audience.invite(board, count=3)]
    with pytest.raises(LinkRefused, match="not valid"):
        client.audience.admit_invite("A" * 32)
    with pytest.raises(LinkRefused, match="not valid"):
        client.audience.admit_invite("short")
    assert client.audience.revoke(revoke) == [f"aud-{audience.id}-2"]
    with pytest.raises(LinkRefused, match="revoked"):
        client.audience.admit_invite(revoke)
    with pytest.raises(VoteError):  # the store too: a revoked rater is served nothing
        board.next_matchup(f"aud-{audience.id}-2")
    with client.store.write() as w:
        w.execute("UPDATE audience_raters SET expires_at = ? WHERE rater = ?", (time.time() - 1, f"aud-{audience.id}-3"))
    with pytest.raises(LinkRefused, match="expired"):
        client.audience.admit_invite(expire)
    assert client.audience.revoke(f"aud-{audience.id}-1") == [f"aud-{audience.id}-1"]  # by pseudonym
    with pytest.raises(LinkRefused, match="revoked"):
        client.audience.admit_invite(keep)
    with pytest.raises(NotFoundError, match="nobody"):
        client.audience.revoke("nobody")
    [later] = audience.invite(board, count=1)
    audience.detach(board)
    with pytest.raises(LinkRefused, match="no longer open"):
        client.audience.admit_invite(_token(later.url))
    with pytest.raises(ValidationError, match="attach"):
        audience.invite(board, count=1)


def test_invite_arguments_checked_before_anything_is_stored(client: Client, board: Leaderboard) -> None:
    audience = client.audience.create_audience("Experts")
    audience.attach(board)
    for kwargs, message in (({"count": 0}, "count"), ({"count": 1, "quota": 0}, "quota"),
                            ({"count": 1, "expires_days": -1}, "expires_days"),
                            ({"count": 1, "completion_url": "javascript:alert(1)"}, "completion_url"),
                            ({"count": 1, "base_url": "ftp://x"}, "base_url")):
        with pytest.raises(ValidationError, match=message):
            audience.invite(board, **kwargs)
    assert audience.members() == []
    [invite] = audience.invite(board, count=1, expires_days=2)
    member = audience.members()[0]
    assert 2 * 86_400 - 60 < member["expires_at"] - time.time() <= 2 * 86_400
    assert "token_hash" not in member and invite.rater == member["rater"]


def test_study_link_admits_workers_under_their_platform_id(client: Client, board: Leaderboard) -> None:
    audience = client.audience.create_audience("Prolific pool")
    audience.attach(board)
    link = audience.open_study(board, quota=3, completion_url="https://app.prolific.com/submissions/complete?cc=C1")
    query = parse_qs(urlsplit(link).query)
    assert query["audience"] == [audience.id] and query["leaderboard"] == [board.id]
    assert "PROLIFIC_PID={{%PROLIFIC_PID%}}" in link and "SESSION_ID={{%SESSION_ID%}}" in link
    secret = query["study"][0]
    params = {"PROLIFIC_PID": "5f1a2b3c4d5e6f7a8b9c0d1e", "STUDY_ID": "s1", "SESSION_ID": "x9"}
    first = client.audience.admit_worker(audience.id, secret, params)
    assert (first.rater, first.leaderboard_id, first.quota) == ("prolific:5f1a2b3c4d5e6f7a8b9c0d1e", board.id, 3)
    again = client.audience.admit_worker(audience.id, secret, params)
    assert again.member_id == first.member_id  # the same worker is found again
    assert audience.members()[0]["params"] == {"SESSION_ID": "x9", "STUDY_ID": "s1"}
    for bad_secret, bad_params, message in (
        ("wrong", params, "not valid"), (secret, {}, "worker id"),
        (secret, {"PROLIFIC_PID": "a b<script>"}, "worker id"),
        (secret, {**params, "STUDY_ID": "<x>"}, "STUDY_ID"),
    ):
        with pytest.raises(LinkRefused, match=message):
            client.audience.admit_worker(audience.id, bad_secret, bad_params)
    with pytest.raises(LinkRefused):
        client.audience.admit_worker("nosuch", secret, params)
    assert len(audience.members()) == 1
    newer = parse_qs(urlsplit(audience.open_study(board)).query)["study"][0]
    with pytest.raises(LinkRefused, match="newer"):  # a new study link replaces the old secret
        client.audience.admit_worker(audience.id, secret, params)
    assert client.audience.admit_worker(audience.id, newer, params).rater == first.rater
    mturk = client.audience.create_audience("Turkers", platform="mturk")
    mturk.attach(board)
    secret = parse_qs(urlsplit(mturk.open_study(board)).query)["study"][0]
    worker = client.audience.admit_worker(mturk.id, secret, {"workerId": "A1B2C3", "assignmentId": "Z9"})
    assert worker.rater == "mturk:A1B2C3"
    stored = client.store.conn.execute("SELECT study_hash FROM audiences WHERE id = ?", (mturk.id,)).fetchone()[0]
    assert stored == hashlib.sha256(secret.encode()).hexdigest()


def test_completion_code_is_random_stored_and_stable(client: Client, board: Leaderboard) -> None:
    audience = client.audience.create_audience("Experts")
    audience.attach(board)
    tokens = [_token(i.url) for i in audience.invite(board, count=2, quota=1)]
    a, b = (client.audience.admit_invite(t) for t in tokens)
    code = client.audience.complete(a)
    assert len(code) == 10 and code == client.audience.complete(a)  # the same on every visit
    assert client.audience.complete(b) != code
    assert client.audience.admit_invite(tokens[0]).completion_code == code


def test_standings_per_audience_count_only_its_members(client: Client, board: Leaderboard) -> None:
    experts, crowd = client.audience.create_audience("Experts"), client.audience.create_audience("Crowd")
    for audience in (experts, crowd):
        audience.attach(board)
    [e] = experts.invite(board, count=1)
    [c1, c2] = crowd.invite(board, count=2)
    _vote(board, e.rater, 6, "left")
    _vote(board, c1.rater, 4, "right")
    _vote(board, c2.rater, 3, "tie")
    everyone = board.get_standings()
    assert everyone["total_matches"].sum() == 2 * 13
    assert board.get_standings(audience=experts)["total_matches"].sum() == 2 * 6
    assert board.get_standings(audience=crowd.id)["total_matches"].sum() == 2 * 7
    assert board.get_standings(audience=crowd)["ties"].sum() == 2 * 3
    with pytest.raises(AudienceNotFound):
        board.get_standings(audience="nosuch")


def test_report_lists_each_member_with_figures_and_safe_cells(client: Client, board: Leaderboard) -> None:
    audience = client.audience.create_audience("Experts")
    audience.attach(board)
    [one, two, idle] = audience.invite(board, count=3, quota=2)
    _vote(board, one.rater, 2)
    _vote(board, two.rater, 1)
    client.audience.complete(client.audience.admit_invite(_token(one.url)))
    board.exclude_rater(two.rater)
    secret = parse_qs(urlsplit(audience.open_study(board)).query)["study"][0]
    worker = client.audience.admit_worker(audience.id, secret, {"PROLIFIC_PID": "-23", "STUDY_ID": "s-1"})
    _vote(board, worker.rater, 1)
    rows = {r.rater: r for r in audience.report()}
    assert (rows[one.rater].votes, rows[two.rater].votes, rows[idle.rater].votes) == (2, 1, 0)
    assert len(rows[one.rater].completion_code) == 10 and rows[two.rater].completion_code == ""
    assert rows[two.rater].excluded and not rows[one.rater].excluded
    assert rows[one.rater].median_seconds is not None and rows[one.rater].active_minutes >= 0
    assert rows[worker.rater].source == "study" and rows[worker.rater].platform_params == "STUDY_ID=s-1"
    table = list(csv.DictReader(io.StringIO(report_csv(audience.report()))))
    assert [r["rater"] for r in table] == [one.rater, two.rater, idle.rater, worker.rater]
    assert table[3]["platform_params"] == "STUDY_ID=s-1" and table[0]["votes"] == "2"
    rows = audience.report()  # links cannot carry a formula; were one stored, it is neutralised
    rows = [r.__class__(**{**r.__dict__, "rater": "=cmd|' /C calc'!A0"}) for r in rows]
    assert list(csv.DictReader(io.StringIO(report_csv(rows))))[0]["rater"].startswith("'=")


def test_active_minutes_cap_idle_gaps(client: Client, board: Leaderboard) -> None:
    from rater.results.audience_report import IDLE_CAP_SECONDS, _active_minutes

    rows = [("r", 1, 1000.0, 990.0, "left", None), ("r", 2, 1020.0, 995.0, "left", None),
            ("r", 3, 5000.0, 1030.0, "left", None)]
    assert _active_minutes(rows) == {"r": round((10 + 20 + IDLE_CAP_SECONDS) / 60, 1)}


def test_migration_keeps_rows_and_boards_stay_open(tmp_path: Path) -> None:
    """A database of an earlier version (the v6 fixture, through step 7) gains the audience
    tables with every row kept, and its boards stay open to any rater."""
    path = tmp_path / "old.db"
    shutil.copyfile(Path(__file__).parent / "fixtures" / "schema_v6.db", path)
    tables = ("leaderboards", "models", "media", "matchups", "votes", "raters")
    old = sqlite3.connect(path)
    before = {t: old.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    old.close()
    with Client(path) as client:
        conn = client.store.conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 8
        assert {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables} == before
        assert client.audience.list_audiences() == []
        for lb in client.mri.list_leaderboards():
            assert client.audience.board_audiences(lb.id) == []
            assert _vote(lb, "typed name", 1) == 1


def test_votes_imported_from_another_host_are_not_refused(client: Client, board: Leaderboard,
                                                          tmp_path: Path, copy_location) -> None:
    """Votes merged from another host were admitted there: the store's audience check leaves
    imports alone (staged rows), so restricting a board here never makes an import fail."""
    other_location = copy_location(client, "other")
    _vote(board, "field-rater", 4)
    board.export_votes(tmp_path / "votes.jsonl")
    with Client(other_location) as other:
        copy = other.mri.get_leaderboard_by_id(board.id)
        other.audience.create_audience("Experts").attach(copy)
        other.import_votes(tmp_path / "votes.jsonl")
        assert copy.summary()["votes"] == 4
        with pytest.raises(VoteError):
            copy.next_matchup("field-rater")  # here they are not a member: nothing served


def test_add_compare_example_makes_a_qualification_pair_on_every_attached_board(client, png) -> None:
    from app_support import make_board

    one = make_board(client, png, models=2, prompts=2)
    two = make_board(client, png, models=2, prompts=2)
    audience = client.audience.create_audience("Prompt alignment experts")
    with pytest.raises(ValidationError, match="attached to no leaderboard yet"):
        audience.add_compare_example("Which follows the prompt?", [png(800), png(801)], png(800))
    audience.attach(one)
    audience.attach(two)
    good, broken = png(810), png(811)
    with pytest.raises(ValidationError, match="truth must be one of"):
        audience.add_compare_example("Which follows the prompt?", [good, broken], png(812))
    pairs = audience.add_compare_example("Which follows the prompt?", datapoint=[good, broken], truth=good,
                                         context=one.prompts[0])
    assert len(pairs) == 2
    assert [len(b.gold_pairs()) for b in (one, two)] == [1, 1]
    assert one.gold_pairs()[0].better == pairs[0].better
    # a context one board cannot place refuses the whole call: the first board keeps nothing new
    with pytest.raises(ValidationError):
        audience.add_compare_example("Which follows the prompt?", [png(820), png(821)], png(820),
                                     context="no such prompt")
    assert [len(b.gold_pairs()) for b in (one, two)] == [1, 1]


def test_the_same_database_reads_the_same_on_both_backends(tmp_path: Path, png, pg_location: str) -> None:
    """An SQLite database copied onto a server (copy-db) answers every reader alike, types
    included (a comparison PostgreSQL returns as a boolean where SQLite gives 0 or 1 would
    show): summaries, raters' quality figures, standings, gold pairs, the audience report and
    the CLI's JSON."""
    from click.testing import CliRunner

    from rater.cli import cli
    from rater.exchange.copy_db import copy_database

    db = tmp_path / "lb.db"
    with Client(db, create=True) as client:
        board = make_board(client, png, models=3, prompts=2, repeat_share=0.3)
        audience = client.audience.create_audience("Experts")
        audience.attach(board)
        board.add_gold_pairs([(png(900), png(901), board.prompts[0])])
        members = [i.rater for i in audience.invite(board, count=3)]
        for member in members:
            _vote(board, member, 12)
        board.exclude_rater(members[1])
        board_id, benchmark_id = board.id, board.benchmark_id
    copy_database(db, pg_location)

    def readings(location: str) -> list[str]:
        with Client(location) as client:
            lb = client.mri.get_leaderboard_by_id(board_id)
            [experts] = client.audience.list_audiences()
            found = [lb.summary(), lb.raters(), lb.get_standings(seed=1).to_dict("records"), lb.quality_rules(),
                     [(g.better_sha256, g.votes, g.correct) for g in lb.gold_pairs()], experts.report(),
                     lb.status()]
        found += [CliRunner().invoke(cli, ["--db", location, *args]).output for args in (
            ["benchmark", "show", benchmark_id, "--prompts", "--format", "json"],
            ["participant", "list", benchmark_id, "--format", "json"])]
        return [repr(x) for x in found]

    sqlite = readings(str(db))
    assert "excluded=True" in sqlite[1] and '"asset": false' in sqlite[-2]
    assert readings(pg_location) == sqlite
