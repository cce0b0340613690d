"""``rater audience ...``: pools of raters, the boards restricted to them, invite and study
links, revocation and the payment report. Click wiring only; each command calls the Python API."""

from __future__ import annotations

import click

from rater.api.audience import DEFAULT_BASE_URL, PLATFORMS
from rater.cli.support import friendly_errors, open_client

__all__ = ["audience"]

_BASE_URL = click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True,
                         help="Where raters reach `rater serve` (the links start with it).")
_QUOTA = click.option("--quota", type=click.IntRange(min=1),
                      help="Votes after which the rater is done and gets a completion code.")
_COMPLETION = click.option("--completion-url", default="",
                           help="Where a finished rater is sent, e.g. the platform's completion page.")


@click.group()
def audience() -> None:
    """Audiences: raters who reach a leaderboard by a personal or study link.

    A leaderboard attached to an audience is rated only by its members; one attached to none
    stays open to everyone with the passcode.

    Example:

    \b
        rater audience create "Prompt alignment experts"
        rater audience attach "Prompt alignment experts" k7gq2mxa
        rater audience invite "Prompt alignment experts" --board k7gq2mxa --count 20 --quota 50
    """


@audience.command("create")
@click.argument("name")
@click.option("--platform", type=click.Choice(sorted(PLATFORMS)), default="prolific", show_default=True,
              help="Whose worker id study links read: prolific (PROLIFIC_PID) or mturk (workerId).")
@friendly_errors
def create(name: str, platform: str) -> None:
    """Create an empty audience; prints its id.

    Example:

        rater audience create "Prompt alignment experts"
    """
    made = open_client().audience.create_audience(name, platform=platform)
    click.echo(f"created audience {made.id} ({made.name})")


@audience.command("list")
@friendly_errors
def list_audiences() -> None:
    """Every audience: id, name, members, leaderboards restricted to it.

    Example:

        rater audience list
    """
    found = open_client().audience.list_audiences()
    if not found:
        click.echo("no audiences yet: `rater audience create NAME` makes one")
    for a in found:
        boards = ", ".join(a.leaderboard_ids) or "none"
        click.echo(f"{a.id}  {a.name}  members: {len(a.members())}  leaderboards: {boards}")


@audience.command("attach")
@click.argument("name")
@click.argument("board")
@friendly_errors
def attach(name: str, board: str) -> None:
    """Restrict leaderboard BOARD to audience NAME (its name or id): from now on only its
    members rate there, through their links.

    Example:

        rater audience attach "Prompt alignment experts" k7gq2mxa
    """
    found = open_client().audience.audience(name)
    if found.attach(board):
        click.echo(f"leaderboard {board} is now restricted to audience {found.id} ({found.name})")
    else:
        click.echo(f"leaderboard {board} was already restricted to audience {found.id}")


@audience.command("detach")
@click.argument("name")
@click.argument("board")
@friendly_errors
def detach(name: str, board: str) -> None:
    """Undo `attach`; a leaderboard left without audiences is open to everyone again.

    Example:

        rater audience detach "Prompt alignment experts" k7gq2mxa
    """
    found = open_client().audience.audience(name)
    if not found.detach(board):
        raise click.ClickException(f"leaderboard {board} is not restricted to audience {found.id}")
    left = open_client().audience.board_audiences(board)
    click.echo(f"leaderboard {board} is no longer restricted to audience {found.id}"
               + ("" if left else "; it is open to everyone with the passcode"))


@audience.command("invite")
@click.argument("name")
@click.option("--board", required=True, help="The leaderboard the links open (attached to the audience).")
@click.option("--count", type=click.IntRange(min=1), required=True, help="How many links.")
@_QUOTA
@click.option("--expires", type=click.FloatRange(min=0, min_open=True), help="The links stop working after DAYS days.")
@_COMPLETION
@_BASE_URL
@friendly_errors
def invite(name: str, board: str, count: int, quota: int | None, expires: float | None,
           completion_url: str, base_url: str) -> None:
    """Print COUNT personal links, one per line, each for a new pseudonymous rater
    (aud-<audience>-<n>). They are shown this once: only their hashes are stored. The report
    maps each pseudonym to its votes and code; keep your own note of who got which link.

    Example:

        rater audience invite experts --board k7gq2mxa --count 20 --quota 50 --expires 14
    """
    found = open_client().audience.audience(name)
    links = found.invite(board, count, quota=quota, expires_days=expires, completion_url=completion_url,
                         base_url=base_url)
    for link in links:
        click.echo(link.url)
    click.echo(f"{len(links)} links for {links[0].rater} .. {links[-1].rater} on leaderboard {board}", err=True)


@audience.command("study")
@click.argument("name")
@click.option("--board", required=True, help="The leaderboard the study link opens (attached to the audience).")
@_QUOTA
@_COMPLETION
@click.option("--platform", type=click.Choice(sorted(PLATFORMS)), help="Presets for the URL parameters.")
@click.option("--worker-param", help="The URL parameter holding the worker id (e.g. PROLIFIC_PID, workerId).")
@click.option("--extra-param", "extra_params", multiple=True,
              help="Another URL parameter kept with each worker for the report (repeatable).")
@_BASE_URL
@friendly_errors
def study(name: str, board: str, quota: int | None, completion_url: str, platform: str | None,
          worker_param: str | None, extra_params: tuple[str, ...], base_url: str) -> None:
    """Print the study link to paste into a crowd platform: it admits each worker into the
    audience under their platform id. A new secret each time: the previous study link stops.

    Example:

        rater audience study experts --board k7gq2mxa --quota 40 --completion-url https://app.prolific.com/submissions/complete?cc=C0DE
    """
    found = open_client().audience.audience(name)
    click.echo(found.open_study(board, quota=quota, completion_url=completion_url, platform=platform,
                                worker_param=worker_param, extra_params=list(extra_params) or None,
                                base_url=base_url))


@audience.command("revoke")
@click.argument("token_or_rater")
@friendly_errors
def revoke(token_or_rater: str) -> None:
    """Revoke an invite link (its token) or a rater (aud-..., prolific:...): their link stops
    working at once; their votes stay (the Raters page or Leaderboard.exclude_rater leaves them
    out of standings).

    Example:

        rater audience revoke aud-k7gq2mxa-3
    """
    for rater in open_client().audience.revoke(token_or_rater):
        click.echo(f"revoked {rater}")


@audience.command("report")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["csv", "table"]), default="table", show_default=True)
@friendly_errors
def report(name: str, fmt: str) -> None:
    """Each member: votes, active minutes, median seconds per vote, repeat agreement, excluded,
    completion code, revoked, platform ids. What you upload to approve payments.

    Example:

        rater audience report experts --format csv > payments.csv
    """
    from rater.results.audience_report import report_csv

    found = open_client().audience.audience(name)
    rows = found.report()
    if fmt == "csv":
        click.echo(report_csv(rows), nl=False)
        return
    if not rows:
        click.echo(f"audience {found.id} has no members yet: `rater audience invite` or `study` makes links",
                   err=True)
    for r in rows:
        agreement = "-" if r.agreement is None else f"{100 * r.agreement:.0f}%"
        click.echo(f"{r.rater}  votes {r.votes}  active {r.active_minutes} min  agreement {agreement}"
                   f"{'  excluded' if r.excluded else ''}{'  revoked' if r.revoked else ''}"
                   f"  code {r.completion_code or '-'}")
