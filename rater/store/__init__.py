"""All SQL in the project lives in this package.

``db`` opens SQLite connections and migrates the schema; ``postgres`` opens PostgreSQL ones;
``store`` hands them to threads (the :class:`Store`, and :class:`PostgresStore` for a server
database; :func:`open_store` picks by the location); ``dialect`` spells what the two SQLs spell
differently; ``catalog`` reads and writes leaderboards, prompts, models and media; ``votes``
reads and writes matchups, votes and raters; ``blobs`` says which stored media files rows still
use (for ``rater gc``).
"""

from __future__ import annotations

import os

from . import blobs, catalog, votes
from .db import SCHEMA_VERSION, connect, migrate, transaction
from .dialect import is_database_url
from .pg_store import PostgresStore
from .store import Store

__all__ = ["SCHEMA_VERSION", "PostgresStore", "Store", "blobs", "catalog", "connect", "migrate",
           "open_store", "transaction", "votes"]


def open_store(location: str | os.PathLike[str], *, create: bool = False) -> Store:
    """The store for ``location``: a ``postgresql://`` URL opens a :class:`PostgresStore`,
    anything else is the path of an SQLite file (see :class:`Store` for ``create``)."""
    if is_database_url(location):
        return PostgresStore(str(location), create=create)
    return Store(location, create=create)
