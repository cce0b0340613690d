"""The rating screen's answers without a script run: what the pair component shows, and what
``POST /_rater/answer`` does (:mod:`rater.app.routes`).

The Rate page draws the pair once, in one component (``views/pair.js``), with the
:func:`pair_view` of the rater's :class:`~rater.app.session.RatingSession`. Each answer is then
one small HTTP request: :func:`answer` records the vote, serves the next pair and returns its
view, and the component swaps the pair in place. No Streamlit script runs for a vote, which is
most of what a vote cost the server before.

A session is reached by its ``token``: 32 random bytes made when the Rate page first drew the
session (after the passcode or the link admitted the rater), known only to that browser
session, and forgotten with it. A request with any other token changes nothing. Media are
served only to the session they were shown to (:func:`media_path`), under opaque names (a hash
of the stored file's name: nothing about the model), so a URL never tells which model made a side.

Plain functions, no Streamlit: the route and the tests call the same code.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rater.errors import LeaderboardError
from rater.intake.media import local_file, read_text_blob

from .media_files import media_kind, shown_file
from .session import CHOICES, button_labels, progress_lines

if TYPE_CHECKING:
    from rater.matchmaking.service import Matchup

    from .session import RatingSession

__all__ = ["ANSWERS", "MEDIA_ROUTE", "NOT_ON_SCREEN", "UNREADABLE_TEXT", "answer", "media_path", "pair_view",
           "register", "registered"]

#: The answers a request may give: the three votes and "skip".
ANSWERS = (*CHOICES, "skip")
#: Where the component fetches media: ``MEDIA_ROUTE/<token>/<name>``.
MEDIA_ROUTE = "/_rater/media"
NOT_ON_SCREEN = ("Your vote was not saved: that pair is not the one on screen. "
                 "Please answer this one.")
UNREADABLE_TEXT = "(This text cannot be read on the server: skip this pair.)"
#: Media a session may fetch: the pairs on screen and prepared, and a few before them (an image
#: still loading when the rater answered).
FILES_KEPT = 24

_sessions: weakref.WeakValueDictionary[str, RatingSession] = weakref.WeakValueDictionary()
_lock = threading.Lock()


def register(session: RatingSession) -> str:
    """Make ``session`` reachable by its token (for as long as its browser session keeps it)."""
    with _lock:
        _sessions[session.token] = session
    return session.token


def registered(token: object) -> RatingSession | None:
    """The live session with this token, or None."""
    if not isinstance(token, str) or not token:
        return None
    with _lock:
        return _sessions.get(token)


def _file_name(path: Path) -> str:
    """An opaque, stable name for a shown file: the same file keeps its URL (the browser's cache
    serves a prepared image again), and the name says nothing but the file type."""
    digest = hashlib.sha256(str(path).encode("utf-8")).hexdigest()[:32]
    return digest + path.suffix.lower()


def _side(session: RatingSession, path: Path) -> dict[str, str]:
    """One medium as the component draws it: kind and URL (a text's words instead of a URL)."""
    store = session.board._client.store
    path = local_file(store, Path(path))  # fetched again if this host's cache lost it
    kind = media_kind(path)
    if kind == "text":
        try:
            return {"kind": kind, "text": read_text_blob(path)}
        except OSError:  # removed since the pair was checked: the rater can skip it
            return {"kind": kind, "text": UNREADABLE_TEXT}
    if kind == "image":
        path = shown_file(path)  # a large image's downscaled preview
    name = _file_name(path)
    files = session.files
    files.pop(name, None)
    files[name] = path
    while len(files) > FILES_KEPT:
        files.pop(next(iter(files)))
    return {"kind": kind, "url": f"{MEDIA_ROUTE}/{session.token}/{name}"}


def _pair(session: RatingSession, pair: Matchup) -> dict[str, Any]:
    board = session.board
    given = None
    if board.show_prompt_asset and pair.prompt_asset is not None:
        given = _side(session, pair.prompt_asset)
    return {
        "id": pair.id,
        "prompt": pair.prompt if board.show_prompt else None,
        "given": given,
        "left": _side(session, pair.left.path),
        "right": _side(session, pair.right.path),
    }


def pair_view(session: RatingSession, error: str | None = None) -> dict[str, Any]:
    """What the component shows: the pair (None when the page must be drawn anew: nothing left,
    or a pair cannot be served), the prepared pair's image URLs to load ahead, the answers'
    labels and the progress strip. Serves the pair after this one now, as the page did.

    Never names a model: sides are a kind and an opaque URL (or a text), the progress strip is
    :func:`progress_lines`'s.
    """
    with session.lock:
        try:
            pair = session.pair()
        except LeaderboardError:  # the page says why (the fragment draws it)
            pair = None
        view: dict[str, Any] = {"session": session.token, "serial": session.serial,
                                "error": error, "pair": None, "next": [], "rerun": pair is None}
        if pair is None:
            return view
        view["pair"] = _pair(session, pair)
        try:
            session.prepare_next()
        except LeaderboardError:
            pass  # served on demand after the vote instead
        upcoming = session.upcoming
        if upcoming is not None:  # only images are loaded ahead (a text is in the next view)
            ahead = (upcoming.left.path, upcoming.right.path)
            view["next"] = [_side(session, p)["url"] for p in ahead if media_kind(p) == "image"]
        view["labels"] = dataclasses.asdict(button_labels(session.board))
        view["progress"] = " · ".join(progress_lines(session.status(), session.session_votes))
        return view


def answer(token: object, matchup_id: object, choice: object) -> tuple[int, dict[str, Any]]:
    """Record one answer of the session with ``token`` and return (HTTP status, the view).

    - 404 with ``rerun``: no live session has this token (the server restarted, or the session
      expired): nothing is written; the page is drawn anew.
    - 400: a malformed request (unknown choice, no matchup id): nothing is written.
    - 200 with ``rerun``: the link that admitted the rater no longer does (revoked, expired,
      quota reached): the page is drawn anew and shows why, or the completion code.
    - 200 with ``error``: the store refused the vote, or the matchup is not the one on screen
      (nothing is written); the pair stays on screen.
    - 200: the vote is on disk (or the skip noted); the view shows the next pair. An answer to
      a matchup this session already answered (a double click) writes nothing.
    """
    session = registered(token)
    if session is None:
        return 404, {"rerun": True, "error": "This rating page has expired: it is drawn again."}
    if choice not in ANSWERS or not isinstance(matchup_id, str) or not matchup_id:
        return 400, {"error": f"choice must be one of {', '.join(ANSWERS)} with a matchup id"}
    try:
        with session.lock:
            return _answer(session, matchup_id, choice)
    finally:  # the request's worker thread hands its connection back to the store's pool
        session.board._client.store.release_thread()


def _answer(session: RatingSession, matchup_id: str, choice: str) -> tuple[int, dict[str, Any]]:
    if session.link_ended is not None and session.link_ended():
        return 200, {"rerun": True, "error": None, "serial": session.serial}
    shown = session.current
    if session.answered(matchup_id) is None and (shown is None or shown.id != matchup_id):
        # not the pair on screen (e.g. the prepared one's id): the rater never judged it
        return 200, pair_view(session, error=NOT_ON_SCREEN)
    try:
        if choice == "skip":
            session.skip(matchup_id)
        else:
            session.vote(matchup_id, choice)
    except LeaderboardError as exc:
        return 200, pair_view(session, error=f"Your vote was not saved: {exc}")
    session.serial += 1
    if session.link_ended is not None and session.link_ended():
        return 200, {"rerun": True, "error": None, "serial": session.serial}
    return 200, pair_view(session)


def media_path(token: object, name: object) -> Path | None:
    """The file behind ``MEDIA_ROUTE/<token>/<name>``, or None: only a medium the session was
    shown (or is about to be) is served."""
    session = registered(token)
    if session is None or not isinstance(name, str):
        return None
    # Without the session's lock: the route asks on the event loop, and an answer holds the lock
    # through its commit. One dictionary lookup is atomic; the file is checked after it.
    path = session.files.get(name)
    return path if path is not None and path.is_file() else None


