"""The exceptions this package raises.

Every error a caller can provoke is a :class:`LeaderboardError`, so ``except LeaderboardError``
catches all of ours and nothing else. Messages name the offending value and, where there is one,
suggest the fix.
"""

from __future__ import annotations

__all__ = [
    "LeaderboardError",
    "NotFoundError",
    "LeaderboardNotFound",
    "MatchupNotFound",
    "ValidationError",
    "UnregisteredPromptError",
    "MediaError",
    "VoteError",
    "DatabaseError",
    "DatabaseNotFound",
    "DatabaseGone",
    "SchemaTooNewError",
    "DuplicateMediaWarning",
    "AudienceNotFound",
    "LinkRefused",
]


class LeaderboardError(Exception):
    """Base class of every error raised by ``rater``."""


class NotFoundError(LeaderboardError, LookupError):
    """Something asked for by id does not exist."""


class LeaderboardNotFound(NotFoundError):
    """No leaderboard has the given id."""


class MatchupNotFound(NotFoundError):
    """No matchup has the given id."""


class ValidationError(LeaderboardError, ValueError):
    """An argument is malformed (empty name, length mismatch, bad flag value, ...)."""


class UnregisteredPromptError(ValidationError):
    """A prompt given to ``evaluate_model`` is not one of the leaderboard's registered prompts."""


class MediaError(ValidationError):
    """A media file is missing, unreadable, too large or not a supported image, video or audio."""


class AudienceNotFound(NotFoundError):
    """No audience has the given id or name."""


class LinkRefused(LeaderboardError):
    """An invite or study link does not admit anyone: unknown, expired or revoked."""


class VoteError(LeaderboardError):
    """A vote cannot be recorded (bad choice, matchup served to another rater, ...)."""


class DatabaseError(LeaderboardError):
    """The database file cannot be used (not SQLite, corrupt, read-only, ...)."""


class DatabaseNotFound(DatabaseError):
    """No database file at the given path (only creating calls make one)."""


class DatabaseGone(DatabaseError):
    """The database file was deleted or replaced while it was open: nothing is written."""


class SchemaTooNewError(DatabaseError):
    """The database was written by a newer version of this tool; it is never migrated down."""


class DuplicateMediaWarning(UserWarning):
    """A file added for one model is byte-identical to one already stored for another model on
    the board: almost always a copy mistake (``evaluate_model(..., strict=True)`` refuses it)."""
