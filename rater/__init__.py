"""rater: local, self-hosted human-preference leaderboards for generative models.

    from rater import Client
    client = Client()                       # data/leaderboards.db, or $RATER_DB
    lb = client.mri.create_new_leaderboard(name, instruction, prompts, show_prompt)
    lb.evaluate_model(name, media, prompts)

This module is the public API and nothing else. The package has one room per job, and
imports go one way (``tests/test_layout.py`` checks it, type-only imports included)::

    cli -> app.serve, app.workers            (only the cli starts the app)
    cli -> simulate -> api -> intake, matchmaking, results, exchange -> store
    app -------------> api    (matchmaking, results and exchange may use intake)
    everything may use errors, formats and the ``ranking`` package

* ``api``: :class:`Client` and :class:`Leaderboard`, thin facades; ``demo`` loads the demo.
* ``intake``: media recognition and storage, ``evaluate_model``, manifests, name checks, gc.
* ``matchmaking``: next_matchup / record_vote / status, pair selection, board state.
* ``results``: standings and rater quality; the read-only interface of ``site_builder``.
* ``exchange``: export/import of votes, their file format, merging, online backups.
* ``store``: all SQL; imports nothing of ours but ``errors``.
* ``simulate``: simulated rating campaigns, run through the API, and their report.
* ``app``: the Streamlit rating app (script, views, session logic) and the server.
* ``cli``: the ``rater`` command line. ``errors``: the exceptions. ``formats``: JSON Lines.

Below the API, functions take what they need (a Store, ids, plain values or a small
``Protocol`` of board settings), never the facade objects, so no room imports a room above it.
"""

from rater.api.client import DEFAULT_DB_PATH, Client, LeaderboardManager, is_database_url
from .errors import (
    AudienceNotFound,
    LinkRefused,
    DatabaseError,
    DatabaseGone,
    DatabaseNotFound,
    DuplicateMediaWarning,
    LeaderboardError,
    LeaderboardNotFound,
    MatchupNotFound,
    MediaError,
    NotFoundError,
    SchemaTooNewError,
    UnregisteredPromptError,
    ValidationError,
    VoteError,
)
from rater.api.leaderboard import CARD_FIELDS, Leaderboard, ModelCard, ModelInfo
from rater.api.audience import Admission, Audience, Invite
from rater.api.audience_manager import AudienceManager
from rater.api.benchmark import Benchmark
from rater.api.settings import BenchmarkNotFound, Tag, VoteAggregation
from rater.api.participant import Job, Participant

__version__ = "0.1.0"

__all__ = [
    "Admission",
    "Audience",
    "AudienceManager",
    "AudienceNotFound",
    "Benchmark",
    "BenchmarkNotFound",
    "CARD_FIELDS",
    "DEFAULT_DB_PATH",
    "Client",
    "DatabaseError",
    "DatabaseGone",
    "DatabaseNotFound",
    "DuplicateMediaWarning",
    "Invite",
    "Job",
    "Leaderboard",
    "LeaderboardError",
    "LeaderboardManager",
    "LeaderboardNotFound",
    "LinkRefused",
    "MatchupNotFound",
    "MediaError",
    "ModelCard",
    "ModelInfo",
    "NotFoundError",
    "Participant",
    "SchemaTooNewError",
    "Tag",
    "UnregisteredPromptError",
    "ValidationError",
    "VoteAggregation",
    "VoteError",
    "__version__",
    "is_database_url",
]
