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

# the repeat rule (step 4) and the card checks (step 5) are shared with step 7
from .schema_rules import CARD_COLUMNS as _CARD_COLUMNS, REPEAT_RULE as _REPEAT_RULE
from .schema_v7_to_v10 import migrate_to_7, migrate_to_8, migrate_to_9, migrate_to_10

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
# Several hosts may run copies of one leaderboard and merge their votes (``rater.exchange.votes``). Each
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


# --- version 4: imports staged out of sight, quality-control repeats checked by the store --------
# An import writes its rows in many short transactions (so raters' votes never wait long) into a
# pending batch: rows with ``batch`` set to an ``import_batches`` row that is not yet committed are
# invisible to every reader (``rater.store.votes.visible``). One small final commit flips the batch;
# an import that dies leaves a pending batch, deleted by the next import. The triggers make a
# crafted repeat unstorable: a repeat is a later matchup of the same rater, on the same board,
# with the two media of its original swapped.
_SCHEMA_V4 = [
    "CREATE TABLE import_batches ("
    " id         INTEGER PRIMARY KEY,"
    " started_at REAL NOT NULL,"
    " committed  INTEGER NOT NULL DEFAULT 0 CHECK (committed IN (0, 1)))",
    "ALTER TABLE matchups ADD COLUMN batch INTEGER REFERENCES import_batches(id)",
    "ALTER TABLE votes ADD COLUMN batch INTEGER REFERENCES import_batches(id)",
    "CREATE INDEX matchups_by_batch ON matchups (batch) WHERE batch IS NOT NULL",
    "CREATE INDEX votes_by_batch ON votes (batch) WHERE batch IS NOT NULL",
    "CREATE TRIGGER matchups_repeat_insert BEFORE INSERT ON matchups " + _REPEAT_RULE,
    "CREATE TRIGGER matchups_repeat_update BEFORE UPDATE OF repeat_of, leaderboard_id, rater, "
    "left_media, right_media, served_at ON matchups " + _REPEAT_RULE,
]


def _migrate_to_4(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V4:
        conn.execute(statement)


# --- version 5: model cards, and whether the site publishes the prompt texts ---------------------
# A model card (organisation, link, licence, release date, description) lives on its model's
# row; "" is "not set". The checks repeat the API's rules so that no writer can store a link
# that is not http(s) or an unbounded text. ``publish_prompts`` is what the static site shows,
# apart from ``show_prompt`` (what raters see): existing boards keep what their site showed
# (the site published the prompts exactly when raters saw them), new boards publish them.
# (SQLite's date() takes Feb 31; the '+0 days' modifier normalises it, so only real days pass.)


def _migrate_to_5(conn: sqlite3.Connection) -> None:
    for column, check in _CARD_COLUMNS:
        conn.execute(f"ALTER TABLE models ADD COLUMN {column} TEXT NOT NULL DEFAULT '' "
                     f"CHECK ({check})")
    conn.execute(
        "ALTER TABLE leaderboards ADD COLUMN publish_prompts INTEGER NOT NULL DEFAULT 1 "
        "CHECK (publish_prompts IN (0, 1))"
    )
    conn.execute("UPDATE leaderboards SET publish_prompts = show_prompt")


#: Votes a model needs before it is ranked with the established ones (the board setting
#: ``min_votes``; fewer make it *preliminary*, see ``rater.results.standings``). Simulated
#: (ranking.simulate_votes, 8 models with ~200 votes each, 20 prompts, 10% ties,
#: 100 trials): a newcomer's rank is within one place of its true rank in 56% of trials after
#: 5 votes, 59% after 10, 75% after 20 and 80% after 40, so below 20 its place is mostly noise.
DEFAULT_MIN_VOTES = 20


def _migrate_to_6(conn: sqlite3.Connection) -> None:
    # 20 = DEFAULT_MIN_VOTES when this step was released (a step never changes).
    conn.execute("ALTER TABLE leaderboards ADD COLUMN min_votes INTEGER NOT NULL DEFAULT 20 "
                 "CHECK (min_votes >= 0)")


#: Ordered migration steps: ``MIGRATIONS[k]`` takes a database from version ``k`` to ``k + 1``.
#: Append new steps; never edit a released one.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _migrate_to_1, _migrate_to_2, _migrate_to_3, _migrate_to_4, _migrate_to_5, _migrate_to_6,
    migrate_to_7, migrate_to_8, migrate_to_9, migrate_to_10,
]
SCHEMA_VERSION = len(MIGRATIONS)
