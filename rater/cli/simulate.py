"""The ``rater simulate`` command (registered on the ``rater`` group by :mod:`rater.cli.main`)."""

from __future__ import annotations

import json
import os
import sys

import click

__all__ = ["simulate"]

# rater.simulate.campaign.EXPERIMENTS (a test checks they agree): that module imports numpy, scipy and
# the ranking package, so it is imported only when the command runs.
EXPERIMENTS = ("order", "newcomer")


@click.command("simulate")
@click.option("--seeds", type=click.IntRange(1), default=20, show_default=True,
              help="Campaigns per strategy and experiment, one per seed.")
@click.option("--first-seed", type=int, default=0, show_default=True, help="Seed of the first campaign; the others follow it.")
@click.option("--experiment", "experiments", type=click.Choice(EXPERIMENTS), multiple=True,
              help="Run only this experiment (repeatable; default: all).")
@click.option("--strategy", "strategies", type=click.Choice(["information", "uniform"]),
              multiple=True, help="Run only this strategy (repeatable; default: both).")
@click.option("--models", type=click.IntRange(3), default=20, show_default=True,
              help="Models on the board (the newcomer experiment adds one more).")
@click.option("--prompts", type=click.IntRange(1), default=30, show_default=True,
              help="Registered prompts, one medium per model for each.")
@click.option("--spread", type=click.FloatRange(0, min_open=True), default=2.0, show_default=True,
              help="True strengths are spread evenly over +-SPREAD logits.")
@click.option("--prompt-sd", type=click.FloatRange(0), default=0.3, show_default=True,
              help="Standard deviation of prompt-specific quality differences, in logits.")
@click.option("--noise", type=click.Choice(["bradley_terry", "thurstone"]), default="bradley_terry",
              show_default=True, help="How raters' choices are noisy.")
@click.option("--position-bias", type=float, default=0.0, show_default=True,
              help="Logits added in favour of the left medium.")
@click.option("--random-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of raters who vote at random.")
@click.option("--raters", type=click.IntRange(1), default=40, show_default=True,
              help="Simulated raters (each vote comes from a random one).")
@click.option("--tau", "tau_target", type=click.FloatRange(0, 1), default=0.95, show_default=True,
              help="Kendall tau the published order must reach.")
@click.option("--workers", type=click.IntRange(1), default=os.cpu_count() or 1,
              show_default="number of CPUs", help="Processes running campaigns in parallel.")
@click.option("--json", "as_json", is_flag=True, help="Print every campaign's result as JSON.")
def simulate(
    seeds: int, first_seed: int, experiments: tuple[str, ...], strategies: tuple[str, ...],
    workers: int, as_json: bool, **world: object,
) -> None:
    """Simulate rating campaigns and compare matchmaking strategies.

    Each campaign creates a temporary database and rates it through the public API with
    simulated raters whose choices follow a known truth. Two experiments, reported as the
    median number of votes over the seeds, with quartiles and range, for "information" and
    "uniform" matchmaking: votes until the published order reaches Kendall tau >= --tau with
    the truth (checked every 25 votes), and votes until a model added to a settled board sits
    within +-1 rank of its true place (first reached; and stays there). Progress goes to
    stderr; the table to stdout.

    Example:

    \b
        rater simulate                                  # 20 seeds, both experiments
        rater simulate --seeds 5 --experiment order --noise thurstone --random-share 0.1
    """
    from rater.simulate.campaign import World, run_campaigns
    from rater.simulate.report import format_summary, summarise

    config = World(**world)  # type: ignore[arg-type]
    seed_list = list(range(first_seed, first_seed + seeds))
    chosen = experiments or EXPERIMENTS
    picked = strategies or ("information", "uniform")
    total = len(seed_list) * len(chosen) * len(picked)
    with click.progressbar(length=total, label="campaigns", file=sys.stderr) as bar:
        results = run_campaigns(
            config, seed_list, experiments=chosen, strategies=picked, workers=workers,
            progress=lambda _: bar.update(1),
        )
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in results], indent=2))
        return
    click.echo(format_summary(summarise(results), config))
