"""Where SQLite and PostgreSQL must differ, in one place.

The store's queries are written once, with ``?`` placeholders, in the SQL both databases accept
(``ON CONFLICT DO NOTHING``, ``RETURNING id``, ``IS DISTINCT FROM``, ``count(*) FILTER``). The few
pieces neither dialect spells the other's way come from the functions here, each given the
connection it is for: a :class:`rater.store.postgres.PgConnection` says ``dialect =
"postgresql"``; a plain :class:`sqlite3.Connection` has no such attribute and is SQLite.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DATABASE_URL_SCHEMES",
    "char",
    "is_database_url",
    "is_postgres",
    "json_values",
    "like",
    "now_epoch",
    "ordered_join",
    "string_agg",
]

#: A ``--db`` / ``RATER_DB`` / ``Client(...)`` value starting with one of these is a server URL.
DATABASE_URL_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(location: object) -> bool:
    """Whether ``location`` names a PostgreSQL server database rather than an SQLite file."""
    return isinstance(location, str) and location.lower().startswith(DATABASE_URL_SCHEMES)


def is_postgres(conn: Any) -> bool:
    """Whether ``conn`` is a PostgreSQL connection (otherwise it is SQLite)."""
    return getattr(conn, "dialect", "sqlite") == "postgresql"


def json_values(conn: Any, expr: str) -> str:
    """A table expression with one row per element (column ``value``) of the JSON array ``expr``
    (a column or ``?``), for ``... IN (SELECT value FROM {json_values(...)})``."""
    if is_postgres(conn):
        return f"jsonb_array_elements_text(CAST({expr} AS jsonb)) AS t(value)"
    return f"json_each({expr})"


def char(conn: Any, code: int) -> str:
    """The one-character text with this code point."""
    return f"chr({code})" if is_postgres(conn) else f"char({code})"


def string_agg(conn: Any, expr: str, separator_code: int) -> str:
    """The values of ``expr`` joined by the character ``chr(separator_code)``."""
    function = "string_agg" if is_postgres(conn) else "group_concat"
    return f"{function}({expr}, {char(conn, separator_code)})"


def now_epoch(conn: Any) -> str:
    """The database's clock, as seconds since 1970 (what every ``*_at`` column holds)."""
    if is_postgres(conn):
        return "extract(epoch FROM clock_timestamp())"
    return "((julianday('now') - 2440587.5) * 86400.0)"


def like(conn: Any) -> str:
    """The ``LIKE`` that ignores ASCII case, as SQLite's does (PostgreSQL's ``LIKE`` does not)."""
    return "ILIKE" if is_postgres(conn) else "LIKE"


def ordered_join(conn: Any) -> str:
    """An inner join that SQLite must run in the written order (``CROSS JOIN``: its planner
    would otherwise scan a whole board); PostgreSQL's planner needs no such hint (and takes no
    ``ON`` after ``CROSS JOIN``)."""
    return "JOIN" if is_postgres(conn) else "CROSS JOIN"
