"""The ``rater serve`` and ``rater update`` commands (registered on the ``rater`` group by
:mod:`rater.cli.main`): starting the rating app, and what it shows raters."""

from __future__ import annotations

from pathlib import Path

import click

from rater.cli.support import db_path, friendly_errors, open_client, refuse_password
from rater.errors import ValidationError
from rater.app.serve import ENV_ADMIN_PASSCODE, ENV_PASSCODE, read_passcode_file, serve as run_server

__all__ = ["COMMANDS", "serve", "update"]

_FILE = click.Path(dir_okay=False, path_type=Path)


@click.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True,
              help="TCP port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 lets others on the network rate (needs both "
                   "passcodes).")
@click.option("--passcode-file", type=_FILE, default=None,
              help=f"File whose first line is the raters' passcode (instead of ${ENV_PASSCODE}).")
@click.option("--admin-passcode-file", type=_FILE, default=None,
              help=f"File whose first line is the owner's passcode (instead of ${ENV_ADMIN_PASSCODE}).")
@click.option("--passcode", "argv_passcode", hidden=True, default=None)
@click.option("--admin-passcode", "argv_admin_passcode", hidden=True, default=None)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="App processes on one database behind nginx (one core each; needs nginx).")
@click.option("--db", "db", default=None,
              help="The database, as `rater --db` (a postgresql:// URL without its password).")
@friendly_errors
def serve(port: int, host: str, passcode_file: Path | None, admin_passcode_file: Path | None,
          argv_passcode: str | None, argv_admin_passcode: str | None, workers: int, db: str | None) -> None:
    """Start the rating app: raters judge pairs in the browser; Raters and Standings pages.

    By default it listens on 127.0.0.1 only, and whoever opens the page is the owner. Listening
    on another address (such as 0.0.0.0, to let people on the network rate) needs two
    passcodes, from the environment or a file, never the command line (where `ps` shows them):
    RATER_PASSCODE, which everyone enters before seeing anything, and RATER_ADMIN_PASSCODE (a
    different one), which the owner pages ask for: the Raters page, excluding or including
    raters, and standings a board hides from raters.

    Example:

    \b
        rater --db data/leaderboards.db serve --port 8501
        read -rs RATER_PASSCODE; read -rs RATER_ADMIN_PASSCODE; export RATER_PASSCODE RATER_ADMIN_PASSCODE
        rater --db data/leaderboards.db serve --host 0.0.0.0
        rater serve --host 0.0.0.0 --passcode-file rate.txt --admin-passcode-file admin.txt
        rater --db data/leaderboards.db serve --workers 2    # two processes behind nginx
        RATER_DB=postgresql://rater:PASSWORD@dbhost/rater rater serve --host 0.0.0.0
        rater serve --db postgresql://rater@dbhost/rater      # password from ~/.pgpass

    With --workers N, N app processes share the database behind Debian's nginx, which keeps
    each browser on one process.
    """
    if db is not None:
        refuse_password(db)
    location = db if db is not None else db_path()
    if argv_passcode is not None or argv_admin_passcode is not None:
        raise ValidationError(
            "passcodes on the command line are readable by every user of this machine (ps): "
            f"set {ENV_PASSCODE} / {ENV_ADMIN_PASSCODE} or use --passcode-file / "
            "--admin-passcode-file"
        )
    passcode = read_passcode_file(passcode_file) if passcode_file else None
    admin = read_passcode_file(admin_passcode_file, "admin passcode") if admin_passcode_file else None
    if workers > 1:
        from rater.app.workers import serve_workers

        code = serve_workers(location, workers, port=port, host=host, passcode=passcode,
                             admin_passcode=admin)
    else:
        code = run_server(location, port=port, host=host, passcode=passcode, admin_passcode=admin)
    click.get_current_context().exit(code)


@click.command("update")
@click.argument("leaderboard_id")
@click.option("--show-standings/--hide-standings", default=None,
              help="Whether raters see the live standings in the rating app (owners always do).")
@click.option("--publish-prompts/--no-publish-prompts", default=None,
              help="Whether the static site publishes the prompt texts (apart from what raters see).")
@click.option("--min-votes", type=int, default=None,
              help="Votes a model needs to be ranked with the others; below that it is preliminary.")
@click.option("--weighted-scoring/--unweighted-scoring", default=None,
              help="Whether the standings weigh each rater's votes by an estimated reliability "
                   "(the site shows the unweighted standings beside them).")
@friendly_errors
def update(leaderboard_id: str, show_standings: bool | None, publish_prompts: bool | None,
           min_votes: int | None, weighted_scoring: bool | None) -> None:
    """Change a leaderboard's settings.

    Raters do not see the live standings unless the board shows them (they would learn which
    model is which, and judge by the table); owners always see them. The site publishes the
    prompt texts unless --no-publish-prompts, whatever raters see. A model with fewer than
    --min-votes votes (default 20) is preliminary: marked, listed after the others, never on
    the podium.

    Example:

    \b
        rater update k7gq2mxa --show-standings --no-publish-prompts --min-votes 30
    """
    if show_standings is None and publish_prompts is None and min_votes is None and weighted_scoring is None:
        raise click.UsageError("nothing to change: give --show-standings/--hide-standings, "
                               "--publish-prompts/--no-publish-prompts, --min-votes or "
                               "--weighted-scoring/--unweighted-scoring")
    lb = open_client().mri.get_leaderboard_by_id(leaderboard_id).update(
        show_standings=show_standings, publish_prompts=publish_prompts, min_votes=min_votes,
        weighted_scoring=weighted_scoring)
    if show_standings is not None:
        click.echo(f"{lb.id}: raters {'see' if lb.show_standings else 'do not see'} the standings")
    if publish_prompts is not None:
        click.echo(f"{lb.id}: the site {'publishes' if lb.publish_prompts else 'does not publish'} "
                   "the prompt texts")
    if min_votes is not None:
        click.echo(f"{lb.id}: models with fewer than {lb.min_votes} votes are preliminary")
    if weighted_scoring is not None:
        click.echo(f"{lb.id}: the standings {'weigh raters by estimated reliability' if lb.weighted_scoring else 'count every vote alike'}")


COMMANDS = (serve, update)
