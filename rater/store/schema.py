"""The database schema: the ordered list of migration steps that builds and upgrades it.

``PRAGMA user_version`` records how many steps a database has had; :func:`rater.store.db.migrate`
runs the missing ones in order, each in its own transaction. A released step is never edited:
every schema change is a new step appended to :data:`MIGRATIONS`, with a test that a database
made by the previous version keeps every row (``tests/test_migrations.py``, whose fixture
``tests/fixtures/schema_v1.db`` was made by version 1).
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

# --- schema, version 1 ---------------------------------------------------------------------------
# Constraints make invalid states unstorable: a matchup's two media share its prompt and belong to
# two different models of the matchup's leaderboard (composite foreign keys), and a vote refers to
# a served matchup, from the rater it was served to, once (unique matchup_id).
_SCHEMA_V1 = """
CREATE TABLE leaderboards (
    id                TEXT PRIMARY KEY CHECK (length(id) BETWEEN 4 AND 32),
    name              TEXT NOT NULL CHECK (length(trim(name)) > 0),
    instruction       TEXT NOT NULL CHECK (length(trim(instruction)) > 0),
    show_prompt       INTEGER NOT NULL CHECK (show_prompt IN (0, 1)),
    show_prompt_asset INTEGER NOT NULL DEFAULT 0 CHECK (show_prompt_asset IN (0, 1)),
    inverse_ranking   INTEGER NOT NULL DEFAULT 0 CHECK (inverse_ranking IN (0, 1)),
    strategy          TEXT NOT NULL DEFAULT 'information'
                      CHECK (strategy IN ('information', 'uniform')),
    repeat_share      REAL NOT NULL DEFAULT 0.05 CHECK (repeat_share >= 0 AND repeat_share <= 0.5),
    max_pair_votes    INTEGER NOT NULL DEFAULT 60 CHECK (max_pair_votes >= 1),
    created_at        REAL NOT NULL
);
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    kind   TEXT NOT NULL CHECK (kind IN ('image', 'video', 'audio')),
    mime   TEXT NOT NULL,
    ext    TEXT NOT NULL,
    size   INTEGER NOT NULL CHECK (size > 0)
);
CREATE TABLE prompts (
    id             INTEGER PRIMARY KEY,
    leaderboard_id TEXT NOT NULL REFERENCES leaderboards(id) ON DELETE CASCADE,
    position       INTEGER NOT NULL CHECK (position >= 0),
    text           TEXT NOT NULL CHECK (length(trim(text)) > 0),
    tags           TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    asset_sha256   TEXT REFERENCES blobs(sha256),
    UNIQUE (leaderboard_id, position),
    UNIQUE (leaderboard_id, text),
    UNIQUE (id, leaderboard_id)
);
CREATE TABLE models (
    id             INTEGER PRIMARY KEY,
    leaderboard_id TEXT NOT NULL REFERENCES leaderboards(id) ON DELETE CASCADE,
    name           TEXT NOT NULL CHECK (length(trim(name)) > 0),
    created_at     REAL NOT NULL,
    UNIQUE (leaderboard_id, name),
    UNIQUE (id, leaderboard_id)
);
CREATE TABLE media (
    id             INTEGER PRIMARY KEY,
    leaderboard_id TEXT NOT NULL,
    model_id       INTEGER NOT NULL,
    prompt_id      INTEGER NOT NULL,
    sha256         TEXT NOT NULL REFERENCES blobs(sha256),
    original_name  TEXT NOT NULL DEFAULT '',
    created_at     REAL NOT NULL,
    FOREIGN KEY (model_id, leaderboard_id) REFERENCES models(id, leaderboard_id) ON DELETE CASCADE,
    FOREIGN KEY (prompt_id, leaderboard_id) REFERENCES prompts(id, leaderboard_id) ON DELETE CASCADE,
    UNIQUE (model_id, prompt_id, sha256),
    UNIQUE (id, prompt_id, model_id, leaderboard_id)
);
CREATE INDEX media_by_prompt ON media (leaderboard_id, prompt_id, model_id);
CREATE TABLE matchups (
    id             TEXT PRIMARY KEY,
    leaderboard_id TEXT NOT NULL,
    prompt_id      INTEGER NOT NULL,
    left_media     INTEGER NOT NULL,
    left_model     INTEGER NOT NULL,
    right_media    INTEGER NOT NULL,
    right_model    INTEGER NOT NULL,
    rater          TEXT NOT NULL CHECK (length(trim(rater)) > 0),
    served_at      REAL NOT NULL,
    repeat_of      TEXT REFERENCES matchups(id),
    CHECK (left_model <> right_model),
    FOREIGN KEY (left_media, prompt_id, left_model, leaderboard_id)
        REFERENCES media(id, prompt_id, model_id, leaderboard_id),
    FOREIGN KEY (right_media, prompt_id, right_model, leaderboard_id)
        REFERENCES media(id, prompt_id, model_id, leaderboard_id),
    UNIQUE (id, rater)
);
CREATE INDEX matchups_by_rater ON matchups (leaderboard_id, rater, served_at);
CREATE INDEX matchups_by_media ON matchups (rater, left_media, right_media);
CREATE TABLE votes (
    id         INTEGER PRIMARY KEY,
    matchup_id TEXT NOT NULL UNIQUE,
    rater      TEXT NOT NULL,
    choice     TEXT NOT NULL CHECK (choice IN ('left', 'right', 'tie')),
    voted_at   REAL NOT NULL,
    FOREIGN KEY (matchup_id, rater) REFERENCES matchups(id, rater)
);
CREATE TABLE raters (
    leaderboard_id TEXT NOT NULL REFERENCES leaderboards(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    excluded       INTEGER NOT NULL DEFAULT 0 CHECK (excluded IN (0, 1)),
    PRIMARY KEY (leaderboard_id, name)
);
"""


def _execute_script(conn: sqlite3.Connection, script: str) -> None:
    """Run statements one by one (``executescript`` would commit the open transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _migrate_to_1(conn: sqlite3.Connection) -> None:
    _execute_script(conn, _SCHEMA_V1)




# --- version 2: which host recorded each vote ---------------------------------------------------
# Several hosts may run copies of one leaderboard and merge their votes (``rater.exchange``). Each
# database gets a random host id (one row in ``host``); a vote imported from another host keeps
# that host's id in ``votes.origin`` (NULL: recorded here), so a merged board can tell where each
# vote came from, and a re-export passes the origin on instead of claiming the vote as its own.
def _migrate_to_2(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE host ("
        " singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),"
        " id         TEXT NOT NULL CHECK (length(id) = 32),"
        " created_at REAL NOT NULL)"
    )
    conn.execute(
        "INSERT INTO host (singleton, id, created_at) VALUES (1, ?, ?)",
        (uuid.uuid4().hex, time.time()),
    )
    conn.execute(
        "ALTER TABLE votes ADD COLUMN origin TEXT CHECK (origin IS NULL OR length(origin) = 32)"
    )


# --- version 3: whether raters see the standings ------------------------------------------------
# Live standings tell a rater which model is which (and sway their votes), so raters see them in
# the app only on boards whose owner chose so; owners always do.
def _migrate_to_3(conn: sqlite3.Connection) -> None:
    conn.execute(
        "ALTER TABLE leaderboards ADD COLUMN show_standings INTEGER NOT NULL DEFAULT 0 "
        "CHECK (show_standings IN (0, 1))"
    )


#: Ordered migration steps: ``MIGRATIONS[k]`` takes a database from version ``k`` to ``k + 1``.
#: Append new steps; never edit a released one.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_to_1, _migrate_to_2, _migrate_to_3]
SCHEMA_VERSION = len(MIGRATIONS)
