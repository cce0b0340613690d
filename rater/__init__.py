"""rater: local, self-hosted human-preference leaderboards for generative models.

    from rater import Client
    client = Client()                       # data/leaderboards.db, or $RATER_DB
    lb = client.mri.create_new_leaderboard(name, instruction, prompts, show_prompt)
    lb.evaluate_model(name, media, prompts)
"""

from rater.api.client import DEFAULT_DB_PATH, Client, LeaderboardManager
from .errors import (
    DatabaseError,
    DatabaseGone,
    DatabaseNotFound,
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
from rater.api.leaderboard import Leaderboard, ModelInfo

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_DB_PATH",
    "Client",
    "DatabaseError",
    "DatabaseGone",
    "DatabaseNotFound",
    "Leaderboard",
    "LeaderboardError",
    "LeaderboardManager",
    "LeaderboardNotFound",
    "MatchupNotFound",
    "MediaError",
    "ModelInfo",
    "NotFoundError",
    "SchemaTooNewError",
    "UnregisteredPromptError",
    "ValidationError",
    "VoteError",
    "__version__",
]
