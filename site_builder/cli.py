"""``build-site``: the command-line skin over :func:`site_builder.build_site`."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from rater import is_database_url
from rater.errors import LeaderboardError

from .build import build_site as _build
from .build import default_db_path
from .data import Settings
from .publish import SiteError
from .watch import report_failures, watch

__all__ = ["build_site"]


@click.command(name="build-site")
@click.option("--db", "db", type=click.Path(dir_okay=False), default=None, metavar="FILE|URL",
              help="The database: an SQLite file, or a postgresql://user@host/db URL (a password "
              "only in $RATER_DB, never here).  [default: $RATER_DB or data/leaderboards.db]")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("site"), show_default=True,
              help="The site folder (replaced atomically; must be new, empty or a previous site; "
              "a symlink is followed and kept).")
@click.option("--leaderboard", "leaderboards", multiple=True, metavar="ID",
              help="Build only this leaderboard (repeatable; with the other leaderboards of its "
              "benchmark); other boards already published are kept as they are.  [default: all]")
@click.option("--only", is_flag=True, help="Publish exactly the chosen boards (all of the "
              "database's without --leaderboard), dropping every other published board.")
@click.option("--templates", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="A folder of templates that override ours (same file names; "
              "extend ours with {% extends \"default/base.html\" %}).")
@click.option("--watch", "every", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="SECONDS", help="Keep running: check every SECONDS and rebuild when votes "
              "or models change.")
@click.option("--force", is_flag=True, help="Rebuild even if nothing changed.")
@click.option("--bootstrap", type=click.IntRange(min=0), default=Settings.n_bootstrap,
              show_default=True, help="Bootstrap replicates for score intervals "
              "(0: faster sandwich intervals).")
@click.option("--method", type=click.Choice(["plackett_luce", "bradley_terry_full",
                                             "thurstone_mosteller_full"]),
              default=Settings.method, show_default=True, help="OpenSkill model to fit.")
def build_site(db: str | None, out: Path, leaderboards: tuple[str, ...], only: bool,
               templates: Path | None, every: float | None, force: bool, bootstrap: int,
               method: str) -> None:
    """Render every leaderboard (or those named) to a static website.

    The site works from any static host or opened straight from disk: plain HTML with
    charts drawn at build time, no request leaves the folder. Nothing is rebuilt when no
    vote, model or setting changed. Progress goes to stderr. A board that cannot be built
    gets a page saying why, the others build as usual, and the exit code is 1.

    Example:

        rater demo && build-site --out site/ && xdg-open site/index.html

        build-site --db data/leaderboards.db --out site/ --watch 30

        build-site --out site/ --leaderboard k7gq2mxa    # rebuild one board, keep the rest

        build-site --db postgresql://rater@dbhost/rater --out site/
    """
    if db is not None and is_database_url(db) and urlsplit(db).password is not None:
        raise click.ClickException("a password in --db is readable by every user of this machine (ps): "
                                   "put the URL in RATER_DB, or leave the password out and use ~/.pgpass")
    settings = Settings(method=method, n_bootstrap=bootstrap)
    options = {"db_path": db if db is not None else default_db_path(), "out": out,
               "leaderboard_ids": list(leaderboards) or None, "only": only,
               "templates": templates, "settings": settings}
    try:
        result = _build(force=force, **options)
        if result.skipped:
            click.echo(f"{out}: up to date (nothing changed since it was built)", err=True)
        report_failures(result)
        if every is not None:
            click.echo(f"watching {result.database} every {every:g} s (Ctrl-C stops)", err=True)
            watch(every, **options)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
        return
    except (LeaderboardError, SiteError, OSError) as exc:  # one line, never a traceback
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    if result.failed:
        sys.exit(1)
