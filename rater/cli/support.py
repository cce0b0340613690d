"""What every ``rater`` command shares: one-line errors and the Client for the group's ``--db``."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click

from rater.api.client import Client
from rater.errors import DuplicateMediaWarning, LeaderboardError
from rater.store.dialect import is_database_url

__all__ = ["db_path", "friendly_errors", "media_options", "open_client", "refuse_password", "warn_duplicates"]

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """Turn our errors into a one-line message on stderr and exit code 1, no traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LeaderboardError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            raise click.ClickException(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from None

    return wrapper  # type: ignore[return-value]


def media_options(func: F) -> F:
    """The options of the commands that add media from a manifest: ``--max-pixels``,
    ``--allow-outside``, ``--strict``."""
    from rater.intake.media import DEFAULT_MAX_PIXELS

    options = (
        click.option("--max-pixels", type=click.IntRange(min=1), default=DEFAULT_MAX_PIXELS, show_default=True,
                     help="Refuse images and video frames with more pixels than this (checked before decoding)."),
        click.option("--allow-outside", is_flag=True,
                     help="Accept media outside the manifest's folder (absolute paths, '..', symlinks out)."),
        click.option("--strict", is_flag=True,
                     help="Refuse (add nothing) if a file is byte-identical to another model's on the board."),
    )
    for option in reversed(options):
        func = option(func)
    return func


def refuse_password(location: str, what: str = "--db",
                    instead: str = "put the URL in RATER_DB, or leave the password out and use ~/.pgpass or PGPASSWORD") -> None:
    """Refuse a server URL with a password given on the command line as ``what``.

    :raises click.ClickException: it has one (``ps`` shows every command line to every user).
    """
    if is_database_url(location) and urlsplit(location).password is not None:
        raise click.ClickException(f"a password in {what} is readable by every user of this machine (ps): {instead}")


def db_path() -> Path | str:
    """The database given to the ``rater`` group (``--db`` or ``$RATER_DB``): a file's path,
    or a ``postgresql://`` URL as given."""
    location = str(click.get_current_context().find_root().obj["db"])
    return location if is_database_url(location) else Path(location)


def open_client(*, create: bool = False, lazy: bool = False) -> Client:
    """The Client for the group's ``--db``.

    Only the commands that make a database (``init``, ``demo``) pass ``create``; ``create``
    makes one through :meth:`~rater.api.client.LeaderboardManager.create_new_leaderboard`, once its
    arguments passed. Every other command refuses a missing database here, naming the path,
    and creates nothing (no file, no folder).

    :param create: create a missing database now.
    :param lazy: do not open yet (a missing database is then created by a creating call).
    :raises DatabaseNotFound: no database at the path (unless ``create`` or ``lazy``).
    """
    client = Client(db_path(), create=create)
    if not lazy:
        client.store.require()
    return client


@contextmanager
def warn_duplicates() -> Iterator[None]:
    """Show each :class:`~rater.errors.DuplicateMediaWarning` raised inside as one
    ``warning: ...`` line on stderr (a file another model already has)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DuplicateMediaWarning)
        yield
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
