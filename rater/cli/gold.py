"""``rater gold ...``: a leaderboard's gold (known-answer) pairs and its quality rules.
Click wiring only; each command calls the Python API."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import click

from rater.cli.support import friendly_errors, open_client
from rater.errors import ValidationError

__all__ = ["gold"]

_SHA256 = re.compile(r"[0-9a-f]{64}")


@click.group()
def gold() -> None:
    """Gold pairs: pairs whose better side you know (e.g. a deliberately broken image against a
    good one). Served like any pair; their votes never enter the standings but judge the raters
    (qualification, automatic exclusion: see `rater gold rules`).

    Example:

    \b
        rater gold add k7gq2mxa --better good.png --worse broken.png --identifier fox
        rater gold rules k7gq2mxa --qualification 5 4 --min-gold-accuracy 0.7
    """


def _medium(value: str, folder: Path) -> str:
    """A CSV cell: a path relative to the CSV's folder, or a stored medium's sha256."""
    path = folder / value
    if _SHA256.fullmatch(value) and not path.exists():
        return value
    return str(path)


def read_gold_csv(path: Path, prompts: list[str], identifiers: list[str]) -> tuple[list[tuple[Any, ...]], list[str]]:
    """The pairs of a CSV with columns ``better,worse`` and optionally ``identifier`` or
    ``prompt`` (a registered prompt text), and each pair's ``file:line`` for errors."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
        columns = set(rows[0]) if rows else set()
    if not {"better", "worse"} <= columns:
        raise ValidationError(f"{path}: a gold CSV needs the columns better,worse (and optionally "
                              f"identifier or prompt); found {', '.join(sorted(columns)) or 'nothing'}")
    by_text: dict[str, list[str]] = {}
    for text, ident in zip(prompts, identifiers):
        by_text.setdefault(text, []).append(ident)
    pairs, sources = [], []
    for line, row in enumerate(rows, 2):
        where = f"{path}:{line}"
        ident = (row.get("identifier") or "").strip() or None
        text = (row.get("prompt") or "").strip()
        if ident is None and text:
            found = by_text.get(text, [])
            if len(found) != 1:
                raise ValidationError(f"{where}: prompt {text!r} is " + (
                    "not registered on this leaderboard" if not found else "registered under several identifiers: "
                    "use an identifier column"))
            ident = found[0]
        better, worse = (row.get("better") or "").strip(), (row.get("worse") or "").strip()
        if not better or not worse:
            raise ValidationError(f"{where}: both better and worse must be given")
        pairs.append((_medium(better, path.parent), _medium(worse, path.parent), ident))
        sources.append(where)
    return pairs, sources


@gold.command()
@click.argument("leaderboard_id")
@click.option("--better", help="The better medium: a file, or the sha256 of a stored medium.")
@click.option("--worse", help="The worse medium: a file, or the sha256 of a stored medium.")
@click.option("--identifier", help="The pair's prompt identifier (else told by a stored copy of a medium).")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A CSV of pairs: columns better,worse[,identifier|prompt]; paths relative to it.")
@friendly_errors
def add(leaderboard_id: str, better: str | None, worse: str | None, identifier: str | None,
        csv_file: Path | None) -> None:
    """Add gold pairs to a leaderboard, all or nothing; prints each pair's id.

    Example:

    \b
        rater gold add k7gq2mxa --better good.png --worse broken.png --identifier fox
        rater gold add k7gq2mxa --csv gold.csv
    """
    lb = open_client().mri.get_leaderboard_by_id(leaderboard_id)
    if csv_file is not None:
        if better or worse or identifier:
            raise click.UsageError("give either --csv or --better/--worse, not both")
        pairs, sources = read_gold_csv(csv_file, lb.prompts, lb.identifiers)
        added = lb.add_gold_pairs(pairs, sources=sources)
    elif better and worse:
        added = [lb.add_gold_pair(better, worse, identifier)]
    else:
        raise click.UsageError("give --better and --worse (or --csv FILE)")
    for pair in added:
        click.echo(f"{pair.id}\t{pair.identifier}")
    click.echo(f"added {len(added)} gold pair{'' if len(added) == 1 else 's'}", err=True)


@gold.command(name="list")
@click.argument("leaderboard_id")
@friendly_errors
def list_(leaderboard_id: str) -> None:
    """List a leaderboard's gold pairs: id, prompt identifier, votes, right answers, media.

    Example:

        rater gold list k7gq2mxa
    """
    pairs = open_client().mri.get_leaderboard_by_id(leaderboard_id).gold_pairs()
    if not pairs:
        click.echo("no gold pairs", err=True)
    for p in pairs:
        click.echo(f"{p.id}\t{p.identifier}\t{p.votes} votes\t{p.correct} right\t"
                   f"better {p.better_sha256[:12]}\tworse {p.worse_sha256[:12]}")


@gold.command()
@click.argument("leaderboard_id")
@click.argument("pair_id", type=int)
@friendly_errors
def remove(leaderboard_id: str, pair_id: int) -> None:
    """Serve a gold pair no more (its votes stay in the raters' gold figures).

    Example:

        rater gold remove k7gq2mxa 3
    """
    open_client().mri.get_leaderboard_by_id(leaderboard_id).remove_gold_pair(pair_id)
    click.echo(f"removed gold pair {pair_id}")


@gold.command()
@click.argument("leaderboard_id")
@click.option("--qualification", type=(int, int), metavar="N K",
              help="New raters answer N gold pairs first and must get K right (0 0: none).")
@click.option("--gold-share", type=float, help="Share of pairs served as gold pairs afterwards (0 to 0.5).")
@click.option("--min-gold-accuracy", type=float, help="Exclude a rater below this share of right gold answers (0: off).")
@click.option("--min-repeat-agreement", type=float, help="Exclude a rater below this agreement on repeats (0: off).")
@click.option("--min-quality-votes", type=int, help="Gold (repeat) votes a rater needs before the thresholds apply.")
@friendly_errors
def rules(leaderboard_id: str, qualification: tuple[int, int] | None, gold_share: float | None,
          min_gold_accuracy: float | None, min_repeat_agreement: float | None,
          min_quality_votes: int | None) -> None:
    """Show (or, with options, change) a leaderboard's qualification and exclusion rules.

    Example:

        rater gold rules k7gq2mxa --qualification 5 4 --gold-share 0.05 --min-gold-accuracy 0.7
    """
    lb = open_client().mri.get_leaderboard_by_id(leaderboard_id)
    given = {"gold_share": gold_share, "min_gold_accuracy": min_gold_accuracy,
             "min_repeat_agreement": min_repeat_agreement, "min_quality_votes": min_quality_votes}
    if qualification is not None:
        given["qualification_pairs"], given["qualification_required"] = qualification
    r = lb.set_quality_rules(**given) if any(v is not None for v in given.values()) else lb.quality_rules()
    qual = (f"{r.qualification_required} of {r.qualification_pairs} gold pairs right"
            if r.qualification_required else "none")
    click.echo(f"gold pairs: {r.gold_pairs}\nqualification: {qual}\ngold share: {r.gold_share:g}\n"
               f"min gold accuracy: {r.min_gold_accuracy:g}\nmin repeat agreement: {r.min_repeat_agreement:g}\n"
               f"min quality votes: {r.min_quality_votes}")
