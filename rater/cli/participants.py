"""``rater participant ...``: a benchmark's models, added from a manifest and run, disabled,
enabled, renamed or deleted. Click wiring only; each command calls the Python API."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from rater.cli.support import friendly_errors, media_options, open_client, warn_duplicates
from rater.intake.manifest import Manifest, read_manifest

__all__ = ["participant"]

_BENCH = click.argument("benchmark_id")
_NAME = click.argument("name")
F = TypeVar("F", bound=Callable[..., Any])


def _on_participant(command: str) -> Callable[[F], F]:
    """``rater participant COMMAND BENCHMARK_ID NAME``, with one-line errors."""
    def wrap(func: F) -> F:
        return participant.command(command)(_BENCH(_NAME(friendly_errors(func))))  # type: ignore[return-value]

    return wrap


@click.group()
def participant() -> None:
    """A benchmark's participants (models): created (media stored, not rated yet), rating,
    disabled (not served, out of the standings, votes kept) or deleted.

    Example:

    \b
        rater participant add k7gq2mxa painter-v2 out/manifest.csv --run
        rater participant list k7gq2mxa
    """


def _find(benchmark_id: str, name: str) -> tuple[Any, Any]:
    bench = open_client().mri.get_benchmark_by_id(benchmark_id)
    return bench, bench.participant(name)


def _media_count(p: Any) -> int:
    return sum(len(files) for files in p.media().values())


def _votes(bench: Any) -> dict[int, int]:
    """Votes involving each participant (by id), over the benchmark's leaderboards."""
    out: dict[int, int] = {}
    for lb in bench.leaderboards:
        for job in lb.jobs:
            out[job.participant_id] = out.get(job.participant_id, 0) + job.votes
    return out


def _rating_on(bench: Any) -> str:
    boards = len(bench.leaderboards)
    if not boards:
        return " (no leaderboard yet: `rater leaderboard create` adds one, which rates it)"
    return f" on {boards} leaderboard{'' if boards == 1 else 's'}"


def _read(benchmark_id: str, manifest: Path, max_pixels: int, allow_outside: bool) -> tuple[Any, Manifest]:
    """The benchmark (on a Client refusing images over ``max_pixels``) and the manifest's items."""
    client = open_client()
    client.max_pixels = max_pixels
    bench = client.mri.get_benchmark_by_id(benchmark_id)
    return bench, read_manifest(manifest, allow_outside=allow_outside, identifiers=True,
                                hint="--allow-outside allows it")


@participant.command("add")
@_BENCH
@_NAME
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--run", "run_", is_flag=True, help="Start rating it at once (default: stored, not rated yet).")
@media_options
@friendly_errors
def add(benchmark_id: str, name: str, manifest: Path, run_: bool, max_pixels: int, allow_outside: bool,
        strict: bool) -> None:
    """Add a participant with its media from a manifest, as for ``rater add-model``: CSV
    (columns media, and prompt or identifier) or JSONL ({"media": ..., "identifier": ...}).

    Media are matched to the benchmark's prompts by identifier (or by prompt text); every file
    is checked before anything is stored, and errors name the manifest's line. The participant
    is not rated until --run or ``rater participant run``.

    Example:

        rater participant add k7gq2mxa painter-v2 out/manifest.csv --run
    """
    bench, items = _read(benchmark_id, manifest, max_pixels, allow_outside)
    with warn_duplicates():
        p = bench.add_model(name, items.media, strict=strict, sources=items.sources, **items.matched_by())
    if run_:
        p.run()
        click.echo(f"added participant {name!r}: {len(items.media)} media, rating{_rating_on(bench)}")
    else:
        click.echo(f"added participant {name!r}: {len(items.media)} media, not rated yet "
                   f"(`rater participant run {bench.id} {name}` starts it)")


@_on_participant("add-media")
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@media_options
def add_media(benchmark_id: str, name: str, manifest: Path, max_pixels: int, allow_outside: bool,
              strict: bool) -> None:
    """Add more media to a participant from a manifest (as for ``participant add``), e.g. for
    prompts added since; all or nothing. A participant being rated is served with them at once.

    Example:

        rater participant add-media k7gq2mxa painter-v2 out/new-prompts.csv
    """
    bench, items = _read(benchmark_id, manifest, max_pixels, allow_outside)
    p = bench.participant(name)
    with warn_duplicates():
        matched = items.matched_by()
        result = p.upload_media(items.media, matched.get("identifiers"), prompts=matched.get("prompts"),
                                strict=strict, sources=items.sources)
    click.echo(f"added {result.media_added} media to participant {name!r} ({result.new_files} new files; "
               f"{sum(p.missing_counts().values())} prompts still without media)")


@_on_participant("run")
def run(benchmark_id: str, name: str) -> None:
    """Start rating a participant on every leaderboard of its benchmark.

    Example:

        rater participant run k7gq2mxa painter-v2
    """
    bench, p = _find(benchmark_id, name)
    p.run()
    click.echo(f"participant {name!r} is rating{_rating_on(bench)}")


@_on_participant("disable")
def disable(benchmark_id: str, name: str) -> None:
    """Stop serving a participant and leave it out of every standing; its votes are kept,
    so ``enable`` brings its standings back exactly as they were.

    Example:

        rater participant disable k7gq2mxa painter-v2
    """
    _, p = _find(benchmark_id, name)
    p.disable()
    click.echo(f"participant {name!r} is disabled (votes kept; `enable` brings it back)")


@_on_participant("enable")
def enable(benchmark_id: str, name: str) -> None:
    """Undo ``disable``: rated again where it ran before (``created`` if it never ran).

    Example:

        rater participant enable k7gq2mxa painter-v2
    """
    _, p = _find(benchmark_id, name)
    p.enable()
    click.echo(f"participant {name!r} is {p.status}")


@_on_participant("rename")
@click.argument("new_name")
def rename(benchmark_id: str, name: str, new_name: str) -> None:
    """Give a participant a new name, on every leaderboard, standing and page.

    Example:

        rater participant rename k7gq2mxa painter-v2 painter-v2-final
    """
    _, p = _find(benchmark_id, name)
    p.rename(new_name)
    click.echo(f"participant {name!r} is now {new_name!r}")


@_on_participant("delete")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(benchmark_id: str, name: str, yes: bool) -> None:
    """Delete a participant: it is no longer served or shown anywhere, its media leave the
    benchmark and every vote involving it leaves every standing. Cannot be undone (``disable``
    can); asks first unless --yes.

    Example:

        rater participant delete k7gq2mxa painter-v2 --yes
    """
    bench, p = _find(benchmark_id, name)
    votes, media = _votes(bench).get(p.id, 0), _media_count(p)
    what = (f"participant {name!r} of benchmark {bench.name!r} [{bench.id}]: its {media} media leave the "
            f"benchmark and its {votes} votes leave every standing")
    if not yes:
        click.confirm(f"Delete {what}; this cannot be undone. Continue?", abort=True, err=True)
    p.delete()
    click.echo(f"deleted {what}")


@participant.command("list")
@_BENCH
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@friendly_errors
def list_(benchmark_id: str, fmt: str) -> None:
    """List a benchmark's participants in the order they were added: id, status, media, votes, name.

    Example:

        rater participant list k7gq2mxa
    """
    bench = open_client().mri.get_benchmark_by_id(benchmark_id)
    votes = _votes(bench)
    rows = [{"id": p.id, "name": p.name, "status": p.status, "media": _media_count(p), "votes": votes.get(p.id, 0)}
            for p in bench.participants]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo(f"no participants on benchmark {bench.id}", err=True)
    for r in rows:
        click.echo(f"{r['id']}\t{r['status']}\t{r['media']} media\t{r['votes']} votes\t{r['name']}")
