"""All SQL in the project lives in this package.

``db`` opens connections and migrates the schema; ``catalog`` reads and writes leaderboards,
prompts, models and media; ``votes`` reads and writes matchups, votes and raters; ``blobs``
says which stored media files rows still use (for ``rater gc``).
"""

from . import blobs, catalog, votes
from .db import SCHEMA_VERSION, Store, connect, migrate, transaction

__all__ = ["SCHEMA_VERSION", "Store", "blobs", "catalog", "connect", "migrate", "transaction", "votes"]
