"""``rater benchmark ...`` and ``rater leaderboard create``: benchmarks (one prompt set, several
criteria) from the command line. Click wiring only; each command calls the Python API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from rater.api.settings import Tag
from rater.cli.support import friendly_errors, open_client
from rater.intake.manifest import PromptFile, read_prompt_file

__all__ = ["COMMANDS", "benchmark", "leaderboard"]

_FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
_PROMPT_FILE_HELP = ("Prompts: .txt (one per line), .jsonl ({\"identifier\", \"prompt\", \"asset\", \"tags\"} "
                     "per line) or .csv (some of those columns, tags separated by ';'); asset paths are "
                     "relative to the file's folder.")
_ALLOW_OUTSIDE = click.option("--allow-outside", is_flag=True,
                              help="Accept prompt assets outside the prompt file's folder.")


def _prompt_args(items: PromptFile) -> dict[str, Any]:
    """The keyword arguments of ``create_new_benchmark`` / ``add_prompts`` for a prompt file."""
    return {"identifiers": items.identifiers, "prompts": items.prompts, "prompt_assets": items.assets,
            "tags": [[Tag(value, category) for value, category in group] for group in items.tags]}


@click.group()
def benchmark() -> None:
    """Benchmarks: one prompt set rated on several criteria (leaderboards) by the same models.

    Example:

    \b
        rater benchmark create "T2I 2026" --prompts prompts.jsonl
        rater leaderboard create k7gq2mxa Aesthetics --instruction "Which image looks better?"
        rater participant add k7gq2mxa painter-v2 out/manifest.csv --run
    """


@benchmark.command("create")
@click.argument("name")
@click.option("--prompts", "prompts_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help=_PROMPT_FILE_HELP)
@_ALLOW_OUTSIDE
@friendly_errors
def create(name: str, prompts_file: Path, allow_outside: bool) -> None:
    """Create a benchmark with the prompts of a file and print its id.

    Like ``rater create``, this makes the database at --db if there is none, once the prompt
    file passed every check (a bad file creates nothing). A .jsonl line looks like
    {"identifier": "cat-1", "prompt": "A cat", "asset": "src/cat.png", "tags": ["animal"]};
    every key but a prompt or an asset is optional, and the identifier defaults to the text
    (so a text that repeats needs identifiers).

    Example:

        rater benchmark create "T2I 2026" --prompts prompts.jsonl
    """
    items = read_prompt_file(prompts_file, allow_outside=allow_outside)
    bench = open_client(lazy=True).mri.create_new_benchmark(name, **_prompt_args(items))
    click.echo(bench.id)


@benchmark.command("add-prompts")
@click.argument("benchmark_id")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_ALLOW_OUTSIDE
@friendly_errors
def add_prompts(benchmark_id: str, file: Path, allow_outside: bool) -> None:
    """Register more prompts (a file as for ``benchmark create``); all or nothing.

    They are served from now on to every participant that has media for them (``rater
    participant add`` media for them to a new participant).

    Example:

        rater benchmark add-prompts k7gq2mxa more-prompts.txt
    """
    bench = open_client().mri.get_benchmark_by_id(benchmark_id)
    items = read_prompt_file(file, allow_outside=allow_outside)
    bench.add_prompts(**_prompt_args(items))
    click.echo(f"added {len(items.identifiers)} prompts to benchmark {bench.id} "
               f"(now {len(bench.identifiers)})")


def _summary(bench: Any) -> dict[str, Any]:
    """What ``benchmark show`` prints, as plain data (the JSON of ``--format json``)."""
    boards = []
    for lb in bench.leaderboards:
        boards.append({
            "id": lb.id, "name": lb.name, "instruction": lb.instruction, "show_prompt": lb.show_prompt,
            "inverse_ranking": lb.inverse_ranking, "vote_aggregation": lb.vote_aggregation.value,
            "min_responses_per_matchup": lb.min_responses_per_matchup, "level_of_detail": lb.level_of_detail,
            "response_budget": lb.response_budget, "included_tags": lb.included_tags,
            "excluded_tags": lb.excluded_tags, "votes": lb.summary()["votes"],
            "rated": len(lb.models()),
        })
    participants = [{"id": p.id, "name": p.name, "status": p.status,
                     "media": sum(len(files) for files in p.media().values())} for p in bench.participants]
    tags: dict[str, int] = {}
    for group in bench.tags:
        for tag in group:
            tags[tag] = tags.get(tag, 0) + 1
    return {"id": bench.id, "name": bench.name, "prompts": len(bench.identifiers), "tags": tags,
            "prompt_assets": sum(a is not None for a in bench.prompt_assets), "leaderboards": boards,
            "participants": participants}


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


@benchmark.command("show")
@click.argument("benchmark_id")
@click.option("--prompts", "list_prompts", is_flag=True,
              help="Also list every prompt: identifier, text, tags, and whether it has an asset.")
@_FORMAT
@friendly_errors
def show(benchmark_id: str, list_prompts: bool, fmt: str) -> None:
    """Show a benchmark: its prompts, its leaderboards with their settings, its participants
    with their status and media.

    Example:

        rater benchmark show k7gq2mxa --prompts --format json
    """
    bench = open_client().mri.get_benchmark_by_id(benchmark_id)
    info = _summary(bench)
    if list_prompts:
        info["prompt_list"] = [{"identifier": i, "prompt": t, "tags": g, "asset": a is not None}
                               for i, t, g, a in zip(bench.identifiers, bench.prompts, bench.tags, bench.prompt_assets)]
    if fmt == "json":
        click.echo(json.dumps(info, indent=2, ensure_ascii=False))
        return
    click.echo(f"{info['name']}  [{info['id']}]")
    tags = ", ".join(f"{t} {n}" for t, n in info["tags"].items())
    click.echo(f"prompts: {info['prompts']}   with assets: {info['prompt_assets']}" + (f"   tags: {tags}" if tags else ""))
    for n, p in enumerate(info.get("prompt_list", []), 1):
        text = p["prompt"] if p["prompt"] == p["identifier"] else f"{p['identifier']}: {p['prompt'] or ''}"
        click.echo(f"  {n:>3}. {text}" + (f"  [{', '.join(p['tags'])}]" if p["tags"] else "")
                   + ("  (with asset)" if p["asset"] else ""))
    click.echo(f"leaderboards ({len(info['leaderboards'])}):")
    for b in info["leaderboards"]:
        level = "none" if b["level_of_detail"] is None else f"{b['level_of_detail']} ({b['response_budget']} votes)"
        votes = "all votes" if b["vote_aggregation"] == "all" else \
            f"majority of {b['min_responses_per_matchup']}+ raters per pair"
        scope = (f"   only tags: {', '.join(b['included_tags'])}" if b["included_tags"] else "") + \
            (f"   not tags: {', '.join(b['excluded_tags'])}" if b["excluded_tags"] else "")
        click.echo(f"  {b['id']}  {b['name']}: {b['instruction']}")
        click.echo(f"      show prompt: {_yes(b['show_prompt'])}   inverse: {_yes(b['inverse_ranking'])}"
                   f"   counting: {votes}   level of detail: {level}{scope}"
                   f"   rated: {b['rated']}   votes: {b['votes']}")
    click.echo(f"participants ({len(info['participants'])}):")
    for p in info["participants"]:
        click.echo(f"  {p['name']}  ({p['status']}, {p['media']} media)")


@benchmark.command("list")
@click.option("--name", default="", help="Only benchmarks whose name contains this.")
@click.option("--amount", default=50, show_default=True, help="At most this many.")
@_FORMAT
@friendly_errors
def list_(name: str, amount: int, fmt: str) -> None:
    """List benchmarks, newest first: id, prompts, leaderboards, participants, name.

    Example:

        rater benchmark list --name T2I
    """
    found = open_client().mri.find_benchmarks(name=name, amount=amount)
    rows = [{"id": b.id, "name": b.name, "prompts": len(b.identifiers), "leaderboards": len(b.leaderboards),
             "participants": len(b.participants)} for b in found]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no benchmarks" + (f" matching {name!r}" if name else ""), err=True)
    for r in rows:
        click.echo(f"{r['id']}\t{r['prompts']} prompts\t{r['leaderboards']} leaderboards\t"
                   f"{r['participants']} participants\t{r['name']}")


@click.group()
def leaderboard() -> None:
    """Leaderboards of a benchmark: each is one criterion with its own votes and standings.

    Example:

        rater leaderboard create k7gq2mxa Alignment --instruction "Which image fits the prompt?" --show-prompt
    """


def _level(value: str | None) -> str | int | None:
    return int(value) if value is not None and value.strip().isdigit() else value


@leaderboard.command("create")
@click.argument("benchmark_id")
@click.argument("name")
@click.option("--instruction", required=True, help='What raters answer, e.g. "Which image looks better?".')
@click.option("--show-prompt", is_flag=True, help="Raters see the prompt text.")
@click.option("--show-prompt-asset", is_flag=True, help="Raters see the prompt's asset (e.g. the source image).")
@click.option("--inverse", is_flag=True, help='The instruction asks for the worse one ("Which is worse?").')
@click.option("--level-of-detail", help="Votes per participant run: debug, low, medium, high, "
                                        "'very high' or a number (our stopping rule may end earlier).")
@click.option("--majority", is_flag=True, help="Count each media pair once, for the side most raters "
                                               "picked (default: every vote counts).")
@click.option("--min-responses", type=int, help="With --majority: raters a pair needs before it counts.")
@click.option("--include-tag", "included", multiple=True, help="Only prompts with this tag (repeatable).")
@click.option("--exclude-tag", "excluded", multiple=True, help="Never prompts with this tag (repeatable).")
@click.option("--skip-initial-run", is_flag=True, help="Do not rate the participants already rated on "
                                                       "the benchmark; only those run later.")
@click.option("--strategy", type=click.Choice(["information", "uniform"]), default="information",
              show_default=True, help="Default matchmaking strategy.")
@click.option("--show-standings", is_flag=True, help="Raters see the live standings in the app.")
@friendly_errors
def create_leaderboard(benchmark_id: str, name: str, instruction: str, show_prompt: bool, show_prompt_asset: bool,
                       inverse: bool, level_of_detail: str | None, majority: bool, min_responses: int | None,
                       included: tuple[str, ...], excluded: tuple[str, ...], skip_initial_run: bool,
                       strategy: str, show_standings: bool) -> None:
    """Add a criterion to a benchmark and print the new leaderboard's id.

    The participants already rated on the benchmark are rated on it too (unless
    --skip-initial-run). Every vote counts by default, which the ranking model handles best;
    --majority counts a pair once (a tie splits half-half).

    Example:

    \b
        rater leaderboard create k7gq2mxa Alignment --instruction "Which image fits the prompt?" \\
            --show-prompt --level-of-detail low --exclude-tag nsfw
    """
    if min_responses is not None and not majority:
        raise click.ClickException("--min-responses counts raters per pair under --majority: add --majority")
    bench = open_client().mri.get_benchmark_by_id(benchmark_id)
    known = sorted({tag for group in bench.tags for tag in group})
    for tag in (*included, *excluded):
        if tag not in known:  # a typo would make a board that serves nothing (or everything)
            raise click.ClickException(f"tag {tag!r} is not used by any prompt of benchmark {bench.id} "
                                       f"(tags: {', '.join(map(repr, known[:20])) or 'none'})")
    lb = bench.create_leaderboard(
        name, instruction, show_prompt=show_prompt, show_prompt_asset=show_prompt_asset, inverse_ranking=inverse,
        level_of_detail=_level(level_of_detail), min_responses_per_matchup=min_responses,
        vote_aggregation="majority" if majority else "all", included_tags=list(included) or None,
        excluded_tags=list(excluded) or None, skip_initial_run=skip_initial_run, strategy=strategy,
        show_standings=show_standings)
    click.echo(lb.id)


COMMANDS = (benchmark, leaderboard)
