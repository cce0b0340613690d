"""Schema steps 7 to 10 (see :mod:`rater.store.schema`, which lists every step in order):
benchmarks, audiences, gold pairs and weighted scoring. A released step is never edited."""

from __future__ import annotations

import sqlite3

from .schema_rules import CARD_COLUMNS as _CARD_COLUMNS, REPEAT_RULE as _REPEAT_RULE

__all__ = ["migrate_to_7", "migrate_to_8", "migrate_to_9", "migrate_to_10"]


# --- version 7: benchmarks (one prompt set, several criteria), participants, runs, text media ----
# A benchmark owns the prompts (each with an identifier: the same text may appear with another
# asset or seed), the models ("participants", with a status) and their media; a leaderboard is
# one criterion over it, with its own votes. Every existing board becomes a benchmark of the
# same id and name with that one leaderboard, so prompts, models and media keep their rows
# and ids and only change owner column. ``runs`` says which participant is rated on which
# leaderboard (one row per run: the jobs of a leaderboard); a board's models are the
# participants with status 'rating' and a run on it (view ``board_models``). Deleted
# participants stay as rows (their matchups and votes keep their references) and are hidden
# everywhere. Blobs may now be texts (an LLM's answer).
_SCHEMA_V7 = [
    "CREATE TABLE benchmarks ("
    " id         TEXT PRIMARY KEY CHECK (length(id) BETWEEN 4 AND 32),"
    " name       TEXT NOT NULL CHECK (length(trim(name)) > 0),"
    " created_at REAL NOT NULL)",
    "INSERT INTO benchmarks (id, name, created_at) SELECT id, name, created_at FROM leaderboards",
    """CREATE TABLE new_leaderboards (
    id                TEXT PRIMARY KEY CHECK (length(id) BETWEEN 4 AND 32),
    name              TEXT NOT NULL CHECK (length(trim(name)) > 0),
    instruction       TEXT NOT NULL CHECK (length(trim(instruction)) > 0),
    show_prompt       INTEGER NOT NULL CHECK (show_prompt IN (0, 1)),
    show_prompt_asset INTEGER NOT NULL DEFAULT 0 CHECK (show_prompt_asset IN (0, 1)),
    inverse_ranking   INTEGER NOT NULL DEFAULT 0 CHECK (inverse_ranking IN (0, 1)),
    strategy          TEXT NOT NULL DEFAULT 'information' CHECK (strategy IN ('information', 'uniform')),
    repeat_share      REAL NOT NULL DEFAULT 0.05 CHECK (repeat_share >= 0 AND repeat_share <= 0.5),
    max_pair_votes    INTEGER NOT NULL DEFAULT 60 CHECK (max_pair_votes >= 1),
    created_at        REAL NOT NULL,
    show_standings    INTEGER NOT NULL DEFAULT 0 CHECK (show_standings IN (0, 1)),
    publish_prompts   INTEGER NOT NULL DEFAULT 1 CHECK (publish_prompts IN (0, 1)),
    min_votes         INTEGER NOT NULL DEFAULT 20 CHECK (min_votes >= 0),
    benchmark_id      TEXT NOT NULL REFERENCES benchmarks(id) ON DELETE CASCADE,
    included_tags     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(included_tags)),
    excluded_tags     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(excluded_tags)),
    vote_aggregation  TEXT NOT NULL DEFAULT 'all' CHECK (vote_aggregation IN ('all', 'majority')),
    min_responses_per_matchup INTEGER NOT NULL DEFAULT 1 CHECK (min_responses_per_matchup >= 1),
    level_of_detail   TEXT CHECK (level_of_detail IS NULL OR length(level_of_detail) <= 20),
    response_budget   INTEGER CHECK (response_budget IS NULL OR response_budget >= 1),
    UNIQUE (id, benchmark_id)
)""",
    "INSERT INTO new_leaderboards (id, benchmark_id, name, instruction, show_prompt, show_prompt_asset,"
    " inverse_ranking, strategy, repeat_share, max_pair_votes, created_at, show_standings,"
    " publish_prompts, min_votes) SELECT id, id, name, instruction, show_prompt, show_prompt_asset,"
    " inverse_ranking, strategy, repeat_share, max_pair_votes, created_at, show_standings,"
    " publish_prompts, min_votes FROM leaderboards",
    "DROP TABLE leaderboards",
    "ALTER TABLE new_leaderboards RENAME TO leaderboards",
    """CREATE TABLE new_blobs (
    sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    kind   TEXT NOT NULL CHECK (kind IN ('image', 'video', 'audio', 'text')),
    mime   TEXT NOT NULL,
    ext    TEXT NOT NULL,
    size   INTEGER NOT NULL CHECK (size > 0)
)""",
    "INSERT INTO new_blobs SELECT sha256, kind, mime, ext, size FROM blobs",
    "DROP TABLE blobs",
    "ALTER TABLE new_blobs RENAME TO blobs",
    """CREATE TABLE new_prompts (
    id             INTEGER PRIMARY KEY,
    benchmark_id   TEXT NOT NULL REFERENCES benchmarks(id) ON DELETE CASCADE,
    position       INTEGER NOT NULL CHECK (position >= 0),
    text           TEXT NOT NULL,
    tags           TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    asset_sha256   TEXT REFERENCES blobs(sha256),
    identifier     TEXT NOT NULL CHECK (length(trim(identifier)) > 0 AND length(identifier) <= 2000),
    tag_categories TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(tag_categories)),
    CHECK (length(trim(text)) > 0 OR asset_sha256 IS NOT NULL),
    UNIQUE (benchmark_id, position),
    UNIQUE (benchmark_id, identifier),
    UNIQUE (id, benchmark_id)
)""",
    "INSERT INTO new_prompts (id, benchmark_id, position, identifier, text, tags, asset_sha256)"
    " SELECT id, leaderboard_id, position, text, text, tags, asset_sha256 FROM prompts",
    "DROP TABLE prompts",
    "ALTER TABLE new_prompts RENAME TO prompts",
    """CREATE TABLE new_models (
    id           INTEGER PRIMARY KEY,
    benchmark_id TEXT NOT NULL REFERENCES benchmarks(id) ON DELETE CASCADE,
    name         TEXT NOT NULL CHECK (length(trim(name)) > 0),
    created_at   REAL NOT NULL,
    """ + ",\n    ".join(f"{c} TEXT NOT NULL DEFAULT '' CHECK ({chk})" for c, chk in _CARD_COLUMNS) + """,
    status       TEXT NOT NULL DEFAULT 'rating' CHECK (status IN ('created', 'rating', 'disabled', 'deleted')),
    UNIQUE (id, benchmark_id)
)""",
    "INSERT INTO new_models (id, benchmark_id, name, created_at, status, "
    + ", ".join(c for c, _ in _CARD_COLUMNS) + ") SELECT id, leaderboard_id, name, created_at, 'rating', "
    + ", ".join(c for c, _ in _CARD_COLUMNS) + " FROM models",
    "DROP TABLE models",
    "ALTER TABLE new_models RENAME TO models",
    # a deleted participant's name may be used again
    "CREATE UNIQUE INDEX models_by_name ON models (benchmark_id, name) WHERE status <> 'deleted'",
    """CREATE TABLE new_media (
    id            INTEGER PRIMARY KEY,
    benchmark_id  TEXT NOT NULL,
    model_id      INTEGER NOT NULL,
    prompt_id     INTEGER NOT NULL,
    sha256        TEXT NOT NULL REFERENCES blobs(sha256),
    original_name TEXT NOT NULL DEFAULT '',
    created_at    REAL NOT NULL,
    FOREIGN KEY (model_id, benchmark_id) REFERENCES models(id, benchmark_id) ON DELETE CASCADE,
    FOREIGN KEY (prompt_id, benchmark_id) REFERENCES prompts(id, benchmark_id) ON DELETE CASCADE,
    UNIQUE (model_id, prompt_id, sha256),
    UNIQUE (id, prompt_id, model_id)
)""",
    "INSERT INTO new_media (id, benchmark_id, model_id, prompt_id, sha256, original_name, created_at)"
    " SELECT id, leaderboard_id, model_id, prompt_id, sha256, original_name, created_at FROM media",
    "DROP TABLE media",
    "ALTER TABLE new_media RENAME TO media",
    "CREATE INDEX media_by_prompt ON media (benchmark_id, prompt_id, model_id)",
    # A matchup's media are of its prompt and of two different models (composite keys), and of
    # its leaderboard's benchmark (trigger below).
    """CREATE TABLE new_matchups (
    id             TEXT PRIMARY KEY,
    leaderboard_id TEXT NOT NULL REFERENCES leaderboards(id),
    prompt_id      INTEGER NOT NULL,
    left_media     INTEGER NOT NULL,
    left_model     INTEGER NOT NULL,
    right_media    INTEGER NOT NULL,
    right_model    INTEGER NOT NULL,
    rater          TEXT NOT NULL CHECK (length(trim(rater)) > 0),
    served_at      REAL NOT NULL,
    repeat_of      TEXT REFERENCES matchups(id),
    batch          INTEGER REFERENCES import_batches(id),
    CHECK (left_model <> right_model),
    FOREIGN KEY (left_media, prompt_id, left_model) REFERENCES media(id, prompt_id, model_id),
    FOREIGN KEY (right_media, prompt_id, right_model) REFERENCES media(id, prompt_id, model_id),
    UNIQUE (id, rater)
)""",
    "INSERT INTO new_matchups SELECT id, leaderboard_id, prompt_id, left_media, left_model, right_media,"
    " right_model, rater, served_at, repeat_of, batch FROM matchups",
    "DROP TABLE matchups",
    "ALTER TABLE new_matchups RENAME TO matchups",
    "CREATE INDEX matchups_by_rater ON matchups (leaderboard_id, rater, served_at)",
    "CREATE INDEX matchups_by_media ON matchups (rater, left_media, right_media)",
    "CREATE INDEX matchups_by_batch ON matchups (batch) WHERE batch IS NOT NULL",
    "CREATE TRIGGER matchups_repeat_insert BEFORE INSERT ON matchups " + _REPEAT_RULE,
    "CREATE TRIGGER matchups_repeat_update BEFORE UPDATE OF repeat_of, leaderboard_id, rater, "
    "left_media, right_media, served_at ON matchups " + _REPEAT_RULE,
    "CREATE TRIGGER matchups_benchmark BEFORE INSERT ON matchups WHEN (SELECT benchmark_id FROM "
    "prompts WHERE id = NEW.prompt_id) IS NOT (SELECT benchmark_id FROM leaderboards WHERE id = "
    "NEW.leaderboard_id) BEGIN SELECT RAISE(ABORT, 'a matchup must pair media of its own "
    "leaderboard''s benchmark'); END",
    "CREATE TABLE runs ("
    " id             INTEGER PRIMARY KEY,"
    " leaderboard_id TEXT NOT NULL REFERENCES leaderboards(id) ON DELETE CASCADE,"
    " model_id       INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,"
    " started_at     REAL NOT NULL,"
    " budget         INTEGER CHECK (budget IS NULL OR budget >= 1))",
    "CREATE INDEX runs_by_board ON runs (leaderboard_id, model_id)",
    "INSERT INTO runs (leaderboard_id, model_id, started_at) SELECT benchmark_id, id, created_at "
    "FROM models ORDER BY id",
    # What one leaderboard sees of its benchmark: every prompt (``in_scope``: its tags pass the
    # board's included/excluded tags, so the matchmaker serves it), the participants rated on
    # it, and their media.
    "CREATE VIEW board_prompts AS SELECT l.id AS leaderboard_id, p.*, "
    "((l.included_tags = '[]' OR EXISTS (SELECT 1 FROM json_each(p.tags) t WHERE t.value IN "
    "(SELECT value FROM json_each(l.included_tags)))) AND NOT EXISTS (SELECT 1 FROM "
    "json_each(p.tags) t WHERE t.value IN (SELECT value FROM json_each(l.excluded_tags)))) AS in_scope "
    "FROM leaderboards l JOIN prompts p ON p.benchmark_id = l.benchmark_id",
    "CREATE VIEW board_models AS SELECT l.id AS leaderboard_id, o.* FROM leaderboards l "
    "JOIN models o ON o.benchmark_id = l.benchmark_id WHERE o.status = 'rating' AND EXISTS "
    "(SELECT 1 FROM runs r WHERE r.leaderboard_id = l.id AND r.model_id = o.id)",
    "CREATE VIEW board_media AS SELECT o.leaderboard_id, m.* FROM board_models o "
    "JOIN media m ON m.model_id = o.id",
    # Bumped by every change to who is rated where, or to which prompts a board serves, so that
    # a matchmaker can tell with one lookup that its view of the board is out of date.
    "CREATE TABLE catalog_version (singleton INTEGER PRIMARY KEY CHECK (singleton = 1),"
    " n INTEGER NOT NULL)",
    "INSERT INTO catalog_version (singleton, n) VALUES (1, 0)",
    "CREATE TRIGGER models_changed AFTER UPDATE OF status, name ON models "
    "BEGIN UPDATE catalog_version SET n = n + 1; END",
    "CREATE TRIGGER runs_added AFTER INSERT ON runs BEGIN UPDATE catalog_version SET n = n + 1; END",
    "CREATE TRIGGER prompts_retagged AFTER UPDATE OF tags ON prompts "
    "BEGIN UPDATE catalog_version SET n = n + 1; END",
]


def migrate_to_7(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V7:
        conn.execute(statement)


# --- version 8: audiences ---------------------------------------------------------------------
# An audience is a pool of raters; a board attached to audiences is rated only by their members
# (a board attached to none stays open to everyone with the passcode). A member comes in by a
# personal invite link (its token stored as a SHA-256 hash, never in clear) or by a crowd
# platform's study link (the audience's study secret, hashed too, plus the worker id in the URL).
# The triggers are the store's last line of defence: a pair is never served, nor a vote stored,
# for a rater who is not a current member of one of the board's audiences (imports aside: their
# votes were admitted on the host that recorded them).
_ADMITTED = (
    "EXISTS (SELECT 1 FROM audience_raters r JOIN board_audiences b ON b.audience_id = r.audience_id "
    "WHERE b.leaderboard_id = {board} AND r.rater = NEW.rater AND r.revoked_at IS NULL "
    "AND (r.expires_at IS NULL OR r.expires_at > {now}))"
)
_RESTRICTED = "EXISTS (SELECT 1 FROM board_audiences WHERE leaderboard_id = {board})"
_SCHEMA_V8 = [
    "CREATE TABLE audiences ("
    " id           TEXT PRIMARY KEY CHECK (length(id) BETWEEN 4 AND 32),"
    " name         TEXT NOT NULL CHECK (length(trim(name)) > 0),"
    " created_at   REAL NOT NULL,"
    " platform     TEXT NOT NULL DEFAULT 'prolific',"
    " worker_param TEXT NOT NULL DEFAULT 'PROLIFIC_PID' CHECK (length(worker_param) BETWEEN 1 AND 40),"
    " extra_params TEXT NOT NULL DEFAULT '[\"STUDY_ID\", \"SESSION_ID\"]' CHECK (json_valid(extra_params)),"
    " study_hash   TEXT CHECK (study_hash IS NULL OR length(study_hash) = 64),"
    " study_board  TEXT REFERENCES leaderboards(id) ON DELETE SET NULL,"
    " study_quota  INTEGER CHECK (study_quota IS NULL OR study_quota >= 1),"
    " study_completion_url TEXT NOT NULL DEFAULT '')",
    "CREATE TABLE board_audiences ("
    " leaderboard_id TEXT NOT NULL REFERENCES leaderboards(id) ON DELETE CASCADE,"
    " audience_id    TEXT NOT NULL REFERENCES audiences(id) ON DELETE CASCADE,"
    " PRIMARY KEY (leaderboard_id, audience_id))",
    "CREATE TABLE audience_raters ("
    " id              INTEGER PRIMARY KEY,"
    " audience_id     TEXT NOT NULL REFERENCES audiences(id) ON DELETE CASCADE,"
    " rater           TEXT NOT NULL CHECK (length(trim(rater)) > 0),"
    " source          TEXT NOT NULL CHECK (source IN ('invite', 'study')),"
    " token_hash      TEXT UNIQUE CHECK (token_hash IS NULL OR length(token_hash) = 64),"
    " leaderboard_id  TEXT REFERENCES leaderboards(id) ON DELETE CASCADE,"
    " quota           INTEGER CHECK (quota IS NULL OR quota >= 1),"
    " expires_at      REAL,"
    " completion_url  TEXT NOT NULL DEFAULT '',"
    " params          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params)),"
    " created_at      REAL NOT NULL,"
    " revoked_at      REAL,"
    " completion_code TEXT UNIQUE,"
    " completed_at    REAL,"
    " UNIQUE (audience_id, rater))",
    "CREATE INDEX audience_raters_by_rater ON audience_raters (rater)",
    "CREATE TRIGGER matchups_audience BEFORE INSERT ON matchups WHEN NEW.batch IS NULL AND "
    + _RESTRICTED.format(board="NEW.leaderboard_id") + " AND NOT "
    + _ADMITTED.format(board="NEW.leaderboard_id", now="NEW.served_at")
    + " BEGIN SELECT RAISE(ABORT, 'rater not admitted: this leaderboard is open only to the "
    "members of its audiences'); END",
    "CREATE TRIGGER votes_audience BEFORE INSERT ON votes WHEN NEW.batch IS NULL AND "
    + _RESTRICTED.format(board="(SELECT leaderboard_id FROM matchups WHERE id = NEW.matchup_id)")
    + " AND NOT " + _ADMITTED.format(board="(SELECT leaderboard_id FROM matchups WHERE id = NEW.matchup_id)",
                                     now="NEW.voted_at")
    + " BEGIN SELECT RAISE(ABORT, 'rater not admitted: this leaderboard is open only to the "
    "members of its audiences'); END",
]


def migrate_to_8(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V8:
        conn.execute(statement)


# --- version 9: gold pairs, qualification, automatic exclusion of raters ------------------------
# A gold pair is a known-answer pair on one leaderboard: two media of one prompt of its
# benchmark, ``better_media`` the right answer. Its media always belong to the benchmark's two
# hidden participants (``models.gold = 1``: one holds the better sides, one the worse, so the
# two sides of a matchup are of two models as the schema demands); they are never rated
# anywhere (no run, status 'created') and listed nowhere, so a vote on a gold matchup is left
# out of standings, matchmaking counts and matrices by the rule that already leaves out votes
# involving participants not rated on the board. A matchup served from a gold pair names it
# (``matchups.gold_pair``); a removed pair (``removed_at``) is served no more, its votes stay.
# Per board: raters new to it first answer ``qualification_pairs`` gold pairs and must get
# ``qualification_required`` right (0: no qualification); afterwards a ``gold_share`` of the
# pairs served are gold pairs; a rater whose gold accuracy or repeat agreement falls below
# ``min_gold_accuracy`` / ``min_repeat_agreement`` (0: not checked) after at least
# ``min_quality_votes`` such votes is excluded, ``raters.reason`` saying why. ``raters.qualified``
# is NULL until the qualification is decided (1 passed, 0 failed); ``raters.by_owner`` is set
# once the owner excluded or included the rater by hand: no automatic rule overrides that.
_SCHEMA_V9 = [
    "ALTER TABLE models ADD COLUMN gold INTEGER NOT NULL DEFAULT 0 CHECK (gold IN (0, 1))",
    "CREATE TABLE gold_pairs ("
    " id             INTEGER PRIMARY KEY,"
    " leaderboard_id TEXT NOT NULL REFERENCES leaderboards(id) ON DELETE CASCADE,"
    " prompt_id      INTEGER NOT NULL REFERENCES prompts(id),"
    " better_media   INTEGER NOT NULL REFERENCES media(id),"
    " worse_media    INTEGER NOT NULL REFERENCES media(id),"
    " created_at     REAL NOT NULL,"
    " removed_at     REAL,"
    " CHECK (better_media <> worse_media))",
    "CREATE UNIQUE INDEX gold_pairs_once ON gold_pairs (leaderboard_id, better_media, worse_media)"
    " WHERE removed_at IS NULL",
    "ALTER TABLE matchups ADD COLUMN gold_pair INTEGER REFERENCES gold_pairs(id)",
    "CREATE INDEX matchups_by_gold ON matchups (leaderboard_id, rater, gold_pair) WHERE gold_pair IS NOT NULL",
    "ALTER TABLE leaderboards ADD COLUMN qualification_pairs INTEGER NOT NULL DEFAULT 0 "
    "CHECK (qualification_pairs >= 0)",
    "ALTER TABLE leaderboards ADD COLUMN qualification_required INTEGER NOT NULL DEFAULT 0 "
    "CHECK (qualification_required >= 0 AND qualification_required <= qualification_pairs)",
    "ALTER TABLE leaderboards ADD COLUMN gold_share REAL NOT NULL DEFAULT 0.05 "
    "CHECK (gold_share >= 0 AND gold_share <= 0.5)",
    "ALTER TABLE leaderboards ADD COLUMN min_gold_accuracy REAL NOT NULL DEFAULT 0.7 "
    "CHECK (min_gold_accuracy >= 0 AND min_gold_accuracy <= 1)",
    "ALTER TABLE leaderboards ADD COLUMN min_repeat_agreement REAL NOT NULL DEFAULT 0 "
    "CHECK (min_repeat_agreement >= 0 AND min_repeat_agreement <= 1)",
    "ALTER TABLE leaderboards ADD COLUMN min_quality_votes INTEGER NOT NULL DEFAULT 5 "
    "CHECK (min_quality_votes >= 1)",
    "ALTER TABLE raters ADD COLUMN reason TEXT",
    "ALTER TABLE raters ADD COLUMN qualified INTEGER CHECK (qualified IS NULL OR qualified IN (0, 1))",
    "ALTER TABLE raters ADD COLUMN by_owner INTEGER NOT NULL DEFAULT 0 CHECK (by_owner IN (0, 1))",
]


def migrate_to_9(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V9:
        conn.execute(statement)


# --- version 10: a board's standings may weigh raters by reliability ---------------------------
# With ``weighted_scoring`` on, a board's standings count each rater's votes by a reliability
# estimated jointly with the strengths (``ranking.compute_weighted_standings``); the site and
# the app report the unweighted standings beside them. Off for every existing board.
def migrate_to_10(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE leaderboards ADD COLUMN weighted_scoring INTEGER NOT NULL DEFAULT 0 "
                 "CHECK (weighted_scoring IN (0, 1))")
