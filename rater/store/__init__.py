"""All SQL in the project lives in this package.

``db`` opens connections and migrates the schema; ``store`` hands them to threads (the
:class:`Store`); ``catalog`` reads and writes leaderboards, prompts, models and media; ``votes``
reads and writes matchups, votes and raters; ``blobs`` says which stored media files rows still
use (for ``rater gc``).
"""

from . import blobs, catalog, votes
from .db import SCHEMA_VERSION, connect, migrate, transaction
from .store import Store

__all__ = ["SCHEMA_VERSION", "Store", "blobs", "catalog", "connect", "migrate", "transaction", "votes"]
