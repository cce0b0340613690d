"""``rater standings``: a leaderboard's standings, or a benchmark's overall standings across its
leaderboards. Click wiring only; the numbers come from the Python API."""

from __future__ import annotations

import csv
import json
import math
import sys
from typing import Any

import click

from rater.api.settings import BenchmarkNotFound
from rater.cli.support import friendly_errors, open_client
from rater.cli.tables import STANDINGS_COLUMNS, format_table, standings_rows
from rater.errors import LeaderboardNotFound
from rater.results.csv_cells import safe_cell

__all__ = ["standings"]

BOARD_COLUMNS = ["rank", "rank_low", "rank_high", "name", "score", "ci_low", "ci_high", "wins",
                 "losses", "ties", "total_matches", "win_rate", "mu", "sigma", "preliminary"]


def _weights(pairs: tuple[str, ...]) -> dict[str, float] | None:
    out: dict[str, float] = {}
    for pair in pairs:
        board, sep, value = pair.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if not sep or not board or not math.isfinite(weight) or weight <= 0:
            raise click.ClickException(f"--weight takes LEADERBOARD_ID=WEIGHT with a weight above 0, got {pair!r}")
        out[board] = weight
    return out or None


@click.command()
@click.argument("target_id", metavar="ID")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--tag", "tags", multiple=True, help="Only prompts with this tag (repeatable).")
@click.option("--overall", is_flag=True, help="ID is a benchmark: its overall standings, also when "
                                              "ID is its leaderboard too (a board made by `rater create`).")
@click.option("--leaderboard", "boards", multiple=True, metavar="LEADERBOARD_ID",
              help="Overall standings over these leaderboards only (repeatable; default: all).")
@click.option("--weight", "weights", multiple=True, metavar="LEADERBOARD_ID=W",
              help="A leaderboard's weight in the overall standings (repeatable; default: equal).")
@click.option("--audience", help="Only the votes of this audience's members (its name or id; a leaderboard's standings).")
@click.option("--weighted/--unweighted", default=None,
              help="Weigh each rater's votes by an estimated reliability, or count every vote alike "
                   "(default: as the leaderboard's setting, `rater update --weighted-scoring`).")
@friendly_errors
def standings(target_id: str, fmt: str, tags: tuple[str, ...], overall: bool, boards: tuple[str, ...],
              weights: tuple[str, ...], audience: str | None, weighted: bool | None) -> None:
    """Print the standings of a leaderboard, or the overall standings of a benchmark: rank
    range, score with 95% interval, votes.

    An ID that is a leaderboard shows that board (wins, ties, win rate too); a benchmark's id
    shows its overall standings across its leaderboards: one weighted mean of the criteria's
    scores, with intervals from prompts resampled jointly over the criteria. A benchmark
    made by ``rater create`` has one leaderboard of the same id, so its id shows the board;
    --overall (or --leaderboard, --weight) asks for the benchmark.

    A model without votes shows "not rated yet" and no rank. Models with too few votes to be
    ranked with the others are marked preliminary and listed after them (``rater update
    --min-votes`` sets how many votes that takes).

    Example:

    \b
        rater standings k7gq2mxa --format csv --tag landscape
        rater standings t2i2026x --weight aesthet1=2 --weight align123=1
        rater standings k7gq2mxa --audience "Prompt alignment experts"
    """
    client = open_client()
    mri = client.mri
    if not (overall or boards or weights):
        try:
            lb = mri.get_leaderboard_by_id(target_id)
        except LeaderboardNotFound:
            pass
        else:
            _board_standings(lb, fmt, tags, None if audience is None else client.audience.audience(audience),
                             weighted)
            return
    if audience is not None or weighted is not None:
        raise click.ClickException("--audience and --weighted apply to a leaderboard's standings: give a leaderboard id")
    try:
        bench = mri.get_benchmark_by_id(target_id)
    except BenchmarkNotFound:
        try:
            of = mri.get_leaderboard_by_id(target_id).benchmark_id
        except LeaderboardNotFound:
            raise click.ClickException(
                f"no leaderboard or benchmark with id {target_id!r} in {client.db_path} "
                "(`rater list` and `rater benchmark list` show the ids)") from None
        raise click.ClickException(f"{target_id!r} is a leaderboard of benchmark {of!r}: for its overall "
                                   f"standings give the benchmark, `rater standings {of}`") from None
    _overall_standings(bench, fmt, tags, list(boards) or None, _weights(weights))


def _board_standings(lb: Any, fmt: str, tags: tuple[str, ...], audience: Any = None,
                     weighted: bool | None = None) -> None:
    df = lb.get_standings(tags=list(tags) or None, audience=audience, weighted=weighted)[BOARD_COLUMNS]
    if fmt == "csv":  # names that look like formulas are neutralised (rater.results.csv_cells)
        df.assign(name=df["name"].map(safe_cell)).to_csv(sys.stdout, index=False,
                                                         quoting=csv.QUOTE_MINIMAL)
    elif fmt == "json":
        click.echo(json.dumps({"leaderboard": lb.id, "excluded_votes": int(df.attrs.get("excluded_votes", 0)),
                               "standings": json.loads(df.to_json(orient="records"))}, indent=2,
                              ensure_ascii=False))
    else:
        for line in format_table(STANDINGS_COLUMNS, standings_rows(list(df.itertuples()))):
            click.echo(line)
        if df["preliminary"].any() and df["total_matches"].any():
            click.echo(f"(preliminary): fewer than {lb.min_votes} votes or a rank range over half "
                       "the board; listed after the established models", err=True)
        excluded = int(df.attrs.get("excluded_votes", 0))
        if excluded:
            click.echo(f"({excluded} votes from excluded raters left out)")


def _overall_standings(bench: Any, fmt: str, tags: tuple[str, ...], board_ids: list[str] | None,
                       weights: dict[str, float] | None) -> None:
    df = bench.get_overall_standings(tags=list(tags) or None, leaderboard_ids=board_ids, weights=weights)
    names = {lb.id: lb.name for lb in bench.leaderboards}
    used = list(df.attrs.get("leaderboards", []))
    shares = df.attrs.get("weights", {})
    if fmt == "csv":
        df.assign(name=df["name"].map(safe_cell)).to_csv(sys.stdout, index=False, quoting=csv.QUOTE_MINIMAL)
        return
    if fmt == "json":
        click.echo(json.dumps({
            "benchmark": bench.id,
            "leaderboards": [{"id": i, "name": names[i], "weight": shares.get(i), "votes": df.attrs["votes"].get(i)}
                             for i in used],
            "standings": json.loads(df.to_json(orient="records"))}, indent=2, ensure_ascii=False))
        return
    if df.empty:
        click.echo(f"no votes yet on any leaderboard of benchmark {bench.id}", err=True)
        return
    columns = [*STANDINGS_COLUMNS[:5], *((names[i], True) for i in used), STANDINGS_COLUMNS[-1]]
    rows = []
    for r in df.to_dict("records"):
        scores = ["-" if r[f"score_{i}"] != r[f"score_{i}"] else f"{r[f'score_{i}']:.1f}" for i in used]
        if not r["complete"]:  # not yet rated on every leaderboard: no overall score
            rows.append(["-", "-", "-", "not on every leaderboard yet", str(r["votes"]), *scores, r["name"]])
            continue
        ranks = f"{r['rank_low']}-{r['rank_high']}" if r["rank_low"] != r["rank_high"] else str(r["rank"])
        rows.append([str(r["rank"]), ranks, f"{r['score']:.1f}", f"[{r['ci_low']:.1f}, {r['ci_high']:.1f}]",
                     str(r["votes"]), *scores, r["name"]])
    for line in format_table(columns, rows):
        click.echo(line)
    click.echo("(overall of " + ", ".join(f"{names[i]} [{i}] {shares.get(i, 0):.0%}" for i in used) + ")")
    left_out = [i for i in (board_ids or names) if i not in used]
    if left_out:
        click.echo("(no votes yet, left out: " + ", ".join(f"{names[i]} [{i}]" for i in left_out) + ")")
