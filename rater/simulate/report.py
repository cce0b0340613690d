"""Summaries of simulated campaigns (:mod:`rater.simulate.campaign`): medians, spread, ratios."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rater.simulate.campaign import CampaignResult, World

__all__ = ["format_summary", "summarise"]

_RESULT_ORDER = ("order", "newcomer-first", "newcomer", "settle")


def summarise(results: Sequence[CampaignResult]) -> list[dict[str, object]]:
    """Per experiment and strategy: median votes, quartiles, range and unfinished runs;
    censored runs count as their limit (so a median with any censored run is a lower bound)."""
    rows = []
    keys = sorted({(r.experiment, r.strategy) for r in results}, key=lambda k: (_RESULT_ORDER.index(k[0]), k[1]))
    for experiment, strategy in keys:
        runs = [r for r in results if (r.experiment, r.strategy) == (experiment, strategy)]
        values = np.array([r.votes if r.votes is not None else r.limit for r in runs], dtype=float)
        rows.append({
            "experiment": experiment, "strategy": strategy, "seeds": len(runs),
            "median": float(np.median(values)),
            "q25": float(np.percentile(values, 25)), "q75": float(np.percentile(values, 75)),
            "min": float(values.min()), "max": float(values.max()),
            "unfinished": sum(r.votes is None for r in runs),
        })
    return rows



def format_summary(rows: Sequence[dict[str, object]], world: World) -> str:
    """The summary as a text table, with the ratio of uniform's median to information's."""
    titles = {
        "settle": f"votes until {world.models} models settle (information only)",
        "order": f"votes until Kendall tau >= {world.tau_target:g}",
        "newcomer-first": "votes until a new model first sits within +-1 rank",
        "newcomer": f"votes after which it stays within +-1 rank (to {world.newcomer_max_votes})",
    }
    lines = [
        f"{world.models} models (strengths evenly over +-{world.spread:g} logits), "
        f"{world.prompts} prompts (prompt sd {world.prompt_sd:g}), {world.noise} noise, "
        f"position bias {world.position_bias:g}, random raters {world.random_share:.0%}",
        f"{'experiment':<52} {'strategy':<12} {'seeds':>5} {'median':>7} {'q25-q75':>12} "
        f"{'min-max':>12} {'unfinished':>10} {'ratio':>6}",
    ]
    medians = {(r["experiment"], r["strategy"]): float(r["median"]) for r in rows}  # type: ignore[arg-type]
    for r in rows:
        e, s = str(r["experiment"]), str(r["strategy"])
        base = medians.get((e, "uniform"))
        ratio = f"{base / medians[(e, s)]:.2f}x" if base and medians[(e, s)] else ""
        lines.append(
            f"{titles.get(e, e):<52} {s:<12} {r['seeds']:>5} {r['median']:>7.0f} "
            f"{r['q25']:>5.0f}-{r['q75']:<6.0f} {r['min']:>5.0f}-{r['max']:<6.0f} "
            f"{r['unfinished']:>10} {ratio:>6}"
        )
    lines.append("ratio = uniform's median / this strategy's median; unfinished runs count as "
                 "their limit, so a median they affect is a lower bound.")
    return "\n".join(lines)
