"""The ``rater serve`` command (registered on the ``rater`` group by :mod:`rater.cli`)."""

from __future__ import annotations


import click

from .cli_support import db_path, friendly_errors
from .serve import ENV_ADMIN_PASSCODE, ENV_PASSCODE, serve as run_server

__all__ = ["serve"]


@click.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True,
              help="TCP port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 lets others on the network rate (needs a passcode).")
@click.option("--passcode", envvar=ENV_PASSCODE, show_envvar=True, default=None,
              help="Asked of everyone before any media is shown or a vote is taken.")
@click.option("--admin-passcode", envvar=ENV_ADMIN_PASSCODE, show_envvar=True, default=None,
              help="Asked before excluding or including raters (default: the passcode).")
@friendly_errors
def serve(port: int, host: str, passcode: str | None, admin_passcode: str | None) -> None:
    """Start the rating app: raters judge pairs in the browser; Raters and Standings pages.

    By default it listens on 127.0.0.1 only. Listening on another address (such as 0.0.0.0, to let
    people on the network rate) requires a passcode, which everyone enters before seeing anything.
    Excluding or including raters asks for --admin-passcode, or the passcode when there is no
    admin passcode; with no passcode at all, whoever can open the page (this machine only) is
    the owner.

    Example:

    \b
        rater --db data/leaderboards.db serve --port 8501
        RATER_PASSCODE=let-me-rate rater --db data/leaderboards.db serve --host 0.0.0.0
    """
    code = run_server(db_path(), port=port, host=host, passcode=passcode, admin_passcode=admin_passcode)
    click.get_current_context().exit(code)
