"""The speed benchmark's board builder: bulk rows through rater.store, then served normally."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from rater import Client
from rater.matchmaking.state import forget_states
from rater.store import votes

ROOT = Path(__file__).resolve().parents[1]


def _bench():  # benchmarks/ is not a package
    spec = importlib.util.spec_from_file_location("matchmaking_speed", ROOT / "benchmarks" / "matchmaking_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bulk_built_board_is_served_incrementally(tmp_path: Path) -> None:
    bench = _bench()
    with Client(tmp_path / "speed.db") as client:
        lb = bench.build(client, models=6, prompts=5, media_per=2, n_votes=3000, raters=10)
        assert votes.vote_summary(client.store.conn, lb.id)["votes"] == 3000
        status = lb.status()
        assert status.votes == 3000 and sum(m.votes for m in status.models) == 6000
        # a new vote is picked up by the cached state
        m = lb.next_matchup("rater1", continue_when_settled=True)
        assert m is not None and m.left.model != m.right.model
        lb.record_vote(m.id, "tie", "rater1")
        assert lb.status().votes == 3001
        forget_states(client.store)
        assert lb.status().votes == 3001  # a cold load agrees with the incremental one


def test_benchmark_prints_its_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = _bench()
    bench.main(["--db", str(tmp_path / "b.db"), "--models", "5", "--prompts", "4", "--votes", "500",
                "--raters", "5", "--requests", "20", "--naive", "1"])
    out = capsys.readouterr().out
    assert "next_matchup, information" in out and "naive: load every vote + full refit" in out
    assert "information next_matchup p99" in out


def test_scale_benchmark_prints_local_and_all_pairs_rows(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("matchmaking_scale", ROOT / "benchmarks" / "matchmaking_scale.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--sizes", "320", "--requests", "5", "--statuses", "3", "--all-pairs-requests", "1"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    kinds = {(r[1], r[2]) for r in rows if r and r[0] == "320"}
    assert {("local", "next_matchup"), ("all-pairs", "next_matchup"), ("local", "status()")} <= kinds
