"""What the rating app does, as plain functions and one small class; the Streamlit files only
draw what these return and call them when a button is pressed.

A :class:`RatingSession` lives in the browser session (``st.session_state``) and holds the pair
on screen and the one prepared after it. Its rules keep every vote safe:

- a vote is written (:meth:`Leaderboard.record_vote`, idempotent per matchup) before the screen
  moves on, and the screen only moves on from the matchup the vote was for;
- a second click on a pair already answered (a double click, a stale button) changes nothing;
- "Skip" writes nothing: the matchup stays unvoted (the matchmaker may serve the pair to
  someone else later).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rater.errors import LeaderboardNotFound, MediaError, ValidationError
from .markdown_text import escape_markdown
from rater.store import catalog, votes
from rater.intake.media import local_file
from rater.intake.validation import check_name

if TYPE_CHECKING:
    import pandas as pd

    from rater.api.client import Client
    from rater.api.leaderboard import Leaderboard
    from rater.matchmaking.service import BoardStatus, Matchup, VoteReceipt
    from rater.results.quality import RaterStats

__all__ = [
    "CHOICES",
    "MISSING_MEDIA_MESSAGE",
    "ButtonLabels",
    "RatingSession",
    "board_from_query",
    "board_label",
    "button_labels",
    "check_rater_name",
    "escape_markdown",
    "missing_media",
    "nothing_left_message",
    "passcode_ok",
    "pick_board",
    "progress_lines",
    "rater_rows",
    "standings_key",
    "standings_rows",
]

CHOICES = ("left", "right", "tie")
MAX_RATER_NAME = 60
#: Answers a session remembers (:meth:`RatingSession.answered`), the newest.
ANSWERS_KEPT = 100
#: Pairs with a missing media file skipped in a row before the rater is told to come back later.
MISSING_MEDIA_TRIES = 20

MISSING_MEDIA_MESSAGE = ("media files of this leaderboard are missing on the server, so some "
                         "pairs cannot be shown (the owner can see which on the Raters page)")

log = logging.getLogger("rater.app")


def check_rater_name(value: object) -> str:
    """The rater name as it will be stored on each vote (surrounding spaces removed).

    :raises ValidationError: empty, too long or containing control characters.
    """
    if not isinstance(value, str):
        raise ValidationError(f"your name must be text, got {type(value).__name__}")
    return check_name(value.strip(), "your name", max_length=MAX_RATER_NAME)


def passcode_ok(given: object, expected: str | None) -> bool:
    """Whether ``given`` is the passcode (constant-time comparison); True when none is set."""
    if not expected:
        return True
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def board_label(board: Leaderboard) -> str:
    """How a board is named in pickers: its name and id."""
    return f"{board.name} ({board.id})"


def board_from_query(client: Client, value: object) -> tuple[Leaderboard | None, str | None]:
    """The board named by ``?leaderboard=ID``, or None and a message saying what is wrong."""
    if value is None or value == "":
        return None, None
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    try:
        return client.mri.get_leaderboard_by_id(str(value).strip()), None
    except LeaderboardNotFound:
        return None, f"No leaderboard has the id {str(value)!r}: pick one below."


@dataclass(frozen=True)
class ButtonLabels:
    """The four answers a rater can give, worded for the board."""

    left: str
    right: str
    tie: str = "Can't decide"
    skip: str = "Skip"


def button_labels(board: Leaderboard) -> ButtonLabels:
    """"A is better" / "B is better", or "A is worse" / "B is worse" on an inverse board.

    On an inverse board the choice is stored as given (``"left"`` means A was chosen, as the
    worse one); standings flip it.
    """
    word = "worse" if board.inverse_ranking else "better"
    return ButtonLabels(left=f"A is {word}", right=f"B is {word}")


def nothing_left_message(status: BoardStatus, keep_going: bool = False) -> str:
    """What to tell a rater when :meth:`Leaderboard.next_matchup` has no pair to show."""
    matchable = [m for m in status.models if getattr(m, "rank", 1) is not None]
    if len(matchable) < 2:
        return ("This leaderboard has nothing to compare yet: it needs at least two models with "
                "results for the same prompt. Please come back later.")
    if status.settled and not keep_going:
        return ("This leaderboard is settled: every model is placed. Thank you for rating! "
                "You can stop here, or keep rating to sharpen the standings further.")
    return ("Nothing left to show you on this leaderboard: you have seen every pair it has. "
            "Thank you!")


def progress_lines(status: BoardStatus, session_votes: int) -> list[str]:
    """Short lines for the progress strip: votes this session, on the board, and its state
    (e.g. "Placing a new model: fewer than 10 votes so far" or "Settled: thank you").

    The strip is shown beside a blind pair, so it never names a model: the matchmaker's
    "placing NAME" becomes "placing a new model", and that model's votes are given in steps of
    ten, so the count does not move with each vote and cannot tell whether the pair just judged
    had the new model in it.
    """
    lines = [
        f"Your votes this session: {session_votes}",
        f"Votes on this leaderboard: {int(status.votes):,}",
    ]
    message = str(getattr(status, "message", "") or "")
    if message.startswith("placing "):
        placing = [m for m in status.models if m.status == "placing" and m.rank is not None]
        count = int(placing[-1].votes) if placing else 0
        message = "placing a new model: " + (
            "fewer than 10" if count < 10 else f"{count // 10 * 10}+") + " votes so far"
    if message:
        lines.append(message[:1].upper() + message[1:])
    return lines


def standings_key(board: Leaderboard) -> tuple[Any, ...]:
    """Changes whenever the board's standings or rater figures may change (a vote or an
    exclusion anywhere in the database): a cheap cache key for them."""
    return (str(board._client.db_path), board.id, *votes.change_marker(board._client.store.conn))


def _percent(share: float | None) -> float | None:
    return None if share is None else round(100.0 * share, 1)


def rater_rows(stats: Sequence[RaterStats]) -> list[dict[str, Any]]:
    """The Raters table: one row per rater, shares as percentages."""
    return [
        {
            "Rater": s.name,
            "Votes": s.votes,
            "Repeats": s.repeats,
            "Agreement %": _percent(s.agreement),
            "Left rate %": _percent(s.left_rate),
            "Median seconds": None if s.median_seconds is None else round(s.median_seconds, 1),
            "Gold votes": s.gold_votes,
            "Gold accuracy %": _percent(s.gold_accuracy),
            "Excluded": s.excluded,
            "Reason": s.reason,
        }
        for s in stats
    ]


#: Columns of the Standings page, from :meth:`Leaderboard.get_standings`, in order.
STANDINGS_SHOWN = ("rank", "name", "score", "ci_low", "ci_high", "rank_low", "rank_high",
                   "wins", "ties", "total_matches", "win_rate", "preliminary")


def standings_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The Standings table: the columns raters and owners read, win rate as a percentage."""
    out = df.loc[:, [c for c in STANDINGS_SHOWN if c in df.columns]].copy()
    if "win_rate" in out:
        out["win_rate"] = (100.0 * out["win_rate"]).round(1)
    for column in ("score", "ci_low", "ci_high"):
        if column in out:
            out[column] = out[column].round(0)
    return out.reset_index(drop=True)


def _same_pair(a: Matchup, b: Matchup) -> bool:
    return {a.left.media_id, a.right.media_id} == {b.left.media_id, b.right.media_id}


class RatingSession:
    """One rater rating one board in one browser session.

    :param board: the leaderboard.
    :param rater: the rater id stored on each vote (see :func:`check_rater_name`).
    """

    def __init__(self, board: Leaderboard, rater: str) -> None:
        self.board = board
        self.rater = rater
        self.current: Matchup | None = None
        self.upcoming: Matchup | None = None
        self.session_votes = 0
        self.keep_going = False
        self.missing_skipped = 0  # pairs not shown because a media file was missing
        self.catalog = -1  # the catalog version (participants' status, names, runs) last seen
        self._answered: dict[str, str] = {}
        #: Reaches this session from the pair component's requests (:mod:`rater.app.pair_api`).
        self.token = secrets.token_urlsafe(32)
        self.serial = 0  # answers handled: the component keeps the newest view it was given
        self.files: dict[str, Path] = {}  # media this session may fetch, by their URL's name
        #: True once the link that admitted the rater stops admitting them (None: no link).
        self.link_ended: Callable[[], bool] | None = None
        # The page's script run and the component's requests reach a session on different
        # threads: one change at a time.
        self.lock = threading.RLock()

    def _missing(self, matchup: Matchup) -> list[Path]:
        """The files of ``matchup`` that are not on disk (a backup restored without its media),
        fetched again first if this host's media cache lost them (PostgreSQL)."""
        paths = [matchup.left.path, matchup.right.path]
        if self.board.show_prompt_asset and matchup.prompt_asset is not None:
            paths.append(matchup.prompt_asset)
        gone = [Path(p) for p in paths if not Path(p).is_file()]
        if not gone:
            return []
        store = self.board._client.store  # a PostgreSQL host's cache refills from the database
        return [p for p in gone if not local_file(store, p).is_file()]

    def _usable(self, matchup: Matchup | None) -> Matchup | None:
        missing = self._missing(matchup) if matchup is not None else []
        if missing:  # the matchup stays unvoted, and is never served to this rater again
            log.warning("leaderboard %s: pair skipped, media file(s) missing: %s",
                        self.board.id, ", ".join(str(p) for p in missing))
            self.missing_skipped += 1
            return None
        return matchup

    def _fetch(self) -> Matchup | None:
        """The next servable pair; pairs whose media files are missing are skipped (logged).

        :raises MediaError: :data:`MISSING_MEDIA_TRIES` pairs in a row had a file missing.
        """
        for _ in range(MISSING_MEDIA_TRIES):
            matchup = self.board.next_matchup(self.rater, continue_when_settled=self.keep_going)
            if matchup is None or self._usable(matchup) is not None:
                return matchup
        raise MediaError(MISSING_MEDIA_MESSAGE)

    def pair(self) -> Matchup | None:
        """The pair to show now (the prepared one if there is one); None when nothing is left."""
        with self.lock:
            catalog = self.board.catalog_version()
            if catalog != self.catalog:  # e.g. a participant was disabled: its pairs are not shown
                self.catalog, self.current, self.upcoming = catalog, None, None
            self.current = self._usable(self.current)
            if self.current is None:
                upcoming, self.upcoming = self._usable(self.upcoming), None
                self.current = upcoming or self._fetch()
            return self.current

    def prepare_next(self) -> None:
        """Serve the pair after the current one now, so it can be shown at once after a vote.

        A prepared pair equal to the one on screen is dropped (the rater would see it twice in a
        row); it may still come back later.
        """
        with self.lock:
            if self.current is None or self.upcoming is not None:
                return
            upcoming = self._fetch()
            if upcoming is not None and _same_pair(upcoming, self.current):
                upcoming = None
            self.upcoming = upcoming

    def answered(self, matchup_id: str) -> str | None:
        """``"left"``, ``"right"``, ``"tie"`` or ``"skip"`` if this session answered the matchup
        (among its last :data:`ANSWERS_KEPT` answers)."""
        return self._answered.get(matchup_id)

    def vote(self, matchup_id: str, choice: str) -> VoteReceipt | None:
        """Record the vote, then move on from that matchup.

        Returns the receipt, or None when this session had already answered the matchup (the
        second click of a double click): nothing is written then.
        :raises VoteError: the store refused the vote; the screen does not move on.
        """
        if choice not in CHOICES:
            raise ValidationError(f"choice must be one of {', '.join(CHOICES)}, got {choice!r}")
        with self.lock:
            if matchup_id in self._answered:
                return None
            receipt = self.board.record_vote(matchup_id, choice, self.rater)
            self._remember(matchup_id, choice)
            if receipt.counted:
                self.session_votes += 1
            self._move_on(matchup_id)
            return receipt

    def skip(self, matchup_id: str) -> None:
        """Move on without a vote (the pair may be served again later)."""
        with self.lock:
            if matchup_id in self._answered:
                return
            self._remember(matchup_id, "skip")
            self._move_on(matchup_id)

    def keep_rating(self) -> None:
        """Go on serving pairs after the board is settled."""
        with self.lock:
            self.keep_going = True
            self.upcoming = None

    def status(self) -> BoardStatus:
        """The board's state (settled or not, models being placed)."""
        return self.board.status()

    def _remember(self, matchup_id: str, answer: str) -> None:
        """Note the answer; only the last :data:`ANSWERS_KEPT` are kept (a double click or a
        replayed request comes within a few answers), so a long session does not grow."""
        self._answered[matchup_id] = answer
        while len(self._answered) > ANSWERS_KEPT:
            self._answered.pop(next(iter(self._answered)))

    def _move_on(self, matchup_id: str) -> None:
        if self.current is not None and self.current.id == matchup_id:
            self.current = None


def missing_media(board: Leaderboard) -> list[str]:
    """The board's media whose files are missing, one line each: the model and prompt (or
    "prompt asset") and the path; for the owner (the Raters page). Nothing is copied: on
    PostgreSQL it asks the database, not this host's cache (:meth:`Store.missing_media`)."""
    store = board._client.store
    assets = [(p["text"], p["asset_sha256"], p["asset_ext"])
              for p in catalog.list_prompts(store.conn, board.id) if p["asset_sha256"]]
    media = catalog.list_media(store.conn, board.id)
    gone = store.missing_media([(sha, ext) for _, sha, ext in assets] + [(m["sha256"], m["ext"]) for m in media])
    out = [f"prompt asset of {text!r}: {store.media_file(sha, ext)}" for text, sha, ext in assets if sha in gone]
    out += [f"{m['model']}, {m['prompt']!r}: {store.media_file(m['sha256'], m['ext'])}"
            for m in media if m["sha256"] in gone]
    return out


def pick_board(boards: Sequence[Leaderboard], board_id: str | None) -> int | None:
    """The index of ``board_id`` in ``boards`` (for a picker's default), or None."""
    for i, board in enumerate(boards):
        if board.id == board_id:
            return i
    return None
