"""``rater audience``: create, list, attach/detach, invite (links printed once, one per line),
study links, revoke, and the payment report as CSV, on real databases with real PNG files."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from app_support import make_board
from cli_support import fails, ok, run
from rater import Client, Leaderboard


def _setup(client: Client, png: Callable[..., Path]) -> tuple[Path, Leaderboard, str]:
    board = make_board(client, png, models=3, prompts=2, repeat_share=0.0)
    db = client.db_path
    out = ok(db, "audience", "create", "Prompt experts")
    audience_id = out.split()[2]
    return db, board, audience_id


def test_create_attach_invite_revoke_report(client: Client, png: Callable[..., Path]) -> None:
    db, board, audience_id = _setup(client, png)
    fails(db, "audience", "invite", "Prompt experts", "--board", board.id, "--count", "2",
          message="attach it first")
    assert "leaderboards: none" in ok(db, "audience", "list")
    assert "no members yet" in run(db, "audience", "report", audience_id).stderr
    assert "now restricted" in ok(db, "audience", "attach", "Prompt experts", board.id)
    assert "already" in ok(db, "audience", "attach", audience_id, board.id)
    result = run(db, "audience", "invite", "Prompt experts", "--board", board.id, "--count", "3",
                 "--quota", "2", "--expires", "7", "--completion-url", "https://example.org/done",
                 "--base-url", "https://rate.example.org/")
    assert result.exit_code == 0, result.output
    links = result.stdout.splitlines()
    assert len(links) == 3 and all(line.startswith("https://rate.example.org/?invite=") for line in links)
    tokens = [parse_qs(urlsplit(line).query)["invite"][0] for line in links]
    hashes = {r[0] for r in client.store.conn.execute("SELECT token_hash FROM audience_raters")}
    assert hashes == {hashlib.sha256(t.encode()).hexdigest() for t in tokens}
    assert f"aud-{audience_id}-1 .. aud-{audience_id}-3" in result.stderr
    first = client.audience.admit_invite(tokens[0])
    matchup = board.next_matchup(first.rater)
    board.record_vote(matchup.id, "left", first.rater)
    client.audience.complete(first)
    assert ok(db, "audience", "revoke", tokens[1]).strip() == f"revoked aud-{audience_id}-2"
    assert ok(db, "audience", "revoke", f"aud-{audience_id}-3").strip() == f"revoked aud-{audience_id}-3"
    fails(db, "audience", "revoke", "nobody", message="no invite token or audience member 'nobody'")
    table = list(csv.DictReader(io.StringIO(ok(db, "audience", "report", "Prompt experts", "--format", "csv"))))
    assert [r["rater"] for r in table] == [f"aud-{audience_id}-{n}" for n in (1, 2, 3)]
    assert table[0]["votes"] == "1" and len(table[0]["completion_code"]) == 10
    assert [r["revoked"] for r in table] == ["False", "True", "True"]
    assert set(table[0]) >= {"active_minutes", "median_seconds", "agreement", "excluded", "leaderboard_id"}
    out = ok(db, "audience", "report", audience_id)
    assert f"aud-{audience_id}-1  votes 1" in out and "revoked" in out
    assert "no longer restricted" in ok(db, "audience", "detach", audience_id, board.id)
    fails(db, "audience", "detach", audience_id, board.id, message="is not restricted")


def test_study_link_and_bad_input(client: Client, png: Callable[..., Path]) -> None:
    db, board, audience_id = _setup(client, png)
    ok(db, "audience", "attach", audience_id, board.id)
    link = ok(db, "audience", "study", audience_id, "--board", board.id, "--quota", "5").strip()
    assert "PROLIFIC_PID={{%PROLIFIC_PID%}}" in link and f"leaderboard={board.id}" in link
    mturk = ok(db, "audience", "study", audience_id, "--board", board.id, "--platform", "mturk").strip()
    assert "PROLIFIC_PID" not in mturk
    secret = parse_qs(urlsplit(mturk).query)["study"][0]
    assert client.audience.admit_worker(audience_id, secret, {"workerId": "W1"}).rater == "mturk:W1"
    fails(db, "audience", "attach", "nosuch", board.id, message="no audience with id or name 'nosuch'")
    fails(db, "audience", "attach", audience_id, "nosuchboard", message="no leaderboard with id 'nosuchboard'")
    fails(db, "audience", "invite", audience_id, "--board", board.id, "--count", "1", "--completion-url",
          "javascript:alert(1)", message="completion_url must be an http")
    fails(db, "audience", "study", audience_id, "--board", board.id, "--worker-param", "bad param",
          message="URL parameter name")
    ok(db, "audience", "create", "Prompt experts")
    fails(db, "audience", "report", "Prompt experts", message="2 audiences are named 'Prompt experts'")
    assert client.store.conn.execute("SELECT count(*) FROM audience_raters WHERE source = 'invite'").fetchone()[0] == 0


def test_standings_of_one_audience(client: Client, png: Callable[..., Path]) -> None:
    db, board, audience_id = _setup(client, png)
    ok(db, "audience", "attach", audience_id, board.id)
    other = client.audience.create_audience("Crowd")
    other.attach(board)
    [expert] = client.audience.get_audience_by_id(audience_id).invite(board, count=1)
    [crowd] = other.invite(board, count=1)
    for rater, n in ((expert.rater, 3), (crowd.rater, 5)):
        for _ in range(n):
            matchup = board.next_matchup(rater, continue_when_settled=True)
            board.record_vote(matchup.id, "left", rater)
    def votes(*extra: str) -> int:
        table = list(csv.DictReader(io.StringIO(ok(db, "standings", board.id, "--format", "csv", *extra))))
        return sum(int(r["total_matches"]) for r in table) // 2
    assert (votes(), votes("--audience", "Prompt experts"), votes("--audience", other.id)) == (8, 3, 5)
    fails(db, "standings", board.id, "--audience", "nosuch", message="no audience with id or name 'nosuch'")
