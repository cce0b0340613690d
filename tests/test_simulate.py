"""The campaign simulator: its measuring tools, and a small campaign information must win."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from rater import Client
from rater.cli.simulate import simulate
from rater.simulate.campaign import World, _FastOrder, kendall_tau, make_media, run_campaigns
from rater.simulate.report import summarise


def test_kendall_tau_hand_computed() -> None:
    truth = ["a", "b", "c", "d"]
    assert kendall_tau(truth, truth) == 1.0
    assert kendall_tau(truth[::-1], truth) == -1.0
    # one adjacent swap: 5 of 6 pairs agree, 1 disagrees
    assert kendall_tau(["b", "a", "c", "d"], truth) == pytest.approx(4 / 6)


def test_media_are_distinct_pngs(tmp_path: Path) -> None:
    media = make_media(tmp_path, 3, 4)
    files = [p for row in media for p in row]
    assert len({p.read_bytes() for p in files}) == 12
    with Image.open(files[0]) as img:
        assert img.format == "PNG"


def test_fast_order_is_the_published_order(tmp_path: Path) -> None:
    """The simulator's vote-by-vote order equals ``get_standings(n_bootstrap=0)``."""
    media = make_media(tmp_path / "media", 6, 3)
    prompts = [f"prompt {q}" for q in range(3)]
    with Client(tmp_path / "db" / "x.db") as client:
        lb = client.mri.create_new_leaderboard("sim", "Which?", prompts, repeat_share=0.0)
        for k in range(6):
            lb.evaluate_model(f"model{k}", media[k], prompts)
        fast = _FastOrder(lb)
        rng = np.random.default_rng(3)
        for _ in range(60):
            m = lb.next_matchup(f"r{rng.integers(5)}", "uniform")
            left, right = int(m.left.model[5:]), int(m.right.model[5:])
            choice = "left" if rng.random() < 1 / (1 + np.exp(0.6 * (right - left))) else "right"
            lb.record_vote(m.id, choice, m.rater)
            fast.add(left, right, choice)
        assert fast.order() == list(lb.get_standings(n_bootstrap=0)["name"])


def test_information_orders_a_wide_board_with_fewer_votes() -> None:
    """12 models 0.7 logits apart: uniform spends most votes on pairs whose order is obvious.
    Measured over 8 seeds: information needed 75-175 votes, uniform 200-550."""
    world = World(models=12, prompts=10, raters=20, spread=4.0)
    results = run_campaigns(world, [0, 1, 2, 3], experiments=("order",), workers=1)
    rows = {r["strategy"]: r for r in summarise(results)}
    assert rows["information"]["unfinished"] == rows["uniform"]["unfinished"] == 0
    assert rows["information"]["median"] < rows["uniform"]["median"]
    assert rows["information"]["max"] <= rows["uniform"]["median"]


def test_newcomer_campaign_runs_from_a_settled_board() -> None:
    world = World(models=5, prompts=4, raters=10, newcomer_max_votes=60, max_pair_votes=10)
    results = run_campaigns(world, [7], experiments=("newcomer",), strategies=("information",))
    assert sorted(r.experiment for r in results) == ["newcomer", "newcomer-first", "settle"]
    settle = next(r for r in results if r.experiment == "settle")
    assert settle.votes is not None and settle.votes > 0
    first = next(r for r in results if r.experiment == "newcomer-first")
    assert first.votes is not None and 1 <= first.votes <= 60


def test_simulate_command(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(
        simulate, ["--seeds", "1", "--models", "4", "--prompts", "3", "--experiment", "order",
                   "--strategy", "uniform", "--workers", "1", "--tau", "0.6"],
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # the progress bar goes to stderr
    assert lines[0].startswith("4 models (strengths evenly over +-2 logits), 3 prompts")
    assert lines[2].split()[-7:-5] == ["uniform", "1"]


def test_simulate_help_has_an_example() -> None:
    result = CliRunner().invoke(simulate, ["--help"])
    assert result.exit_code == 0 and "Example:" in result.output
    assert "rater simulate --seeds 5" in result.output
