"""Personal and study links in the app: who a link admits, and the completion screen.

A link replaces the passcode for its rater: ``?invite=TOKEN`` (from ``rater audience invite``)
or ``?audience=ID&study=SECRET&leaderboard=BOARD&PROLIFIC_PID=...`` (from ``rater audience
study``). It is checked again on every run, so a link revoked or expired meanwhile stops at the
next click. A refused link shows why and nothing else: no passcode form, no rating screen. On a
board restricted to audiences the identity comes from the link only; a typed name is refused.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from rater.api.audience import Admission
from rater.api.client import Client
from rater.api.leaderboard import Leaderboard
from rater.errors import LinkRefused

from .markdown_text import escape_markdown

__all__ = ["admission", "completion_screen", "ended_check", "gate", "linked_done", "recheck", "refuse_unlinked"]

ADMISSION_KEY = "admission"
LINK_KEY = "link_params"
LINK_PARAMS = ("invite", "audience", "study")


def gate(db: Client) -> bool | None:
    """None when no link was opened in this session (the passcode gate decides); True when
    the link admits someone (for this run); False when it is refused (the reason shown).

    The link's parameters are kept in the session, so moving to another page (which drops the
    query string) keeps the rater admitted, and checked again, on every run.
    """
    query = st.query_params
    if any(p in query for p in LINK_PARAMS):
        st.session_state[LINK_KEY] = {k: query.get(k) for k in query.keys()}
    params = st.session_state.get(LINK_KEY)
    if not params:
        return None
    try:
        found = _admit(db, params)
    except LinkRefused as exc:
        st.session_state.pop(ADMISSION_KEY, None)
        st.title("Rater")
        st.error(escape_markdown(str(exc)))
        return False
    st.session_state[ADMISSION_KEY] = found
    return True


def _admit(db: Client, params: dict[str, str]) -> Admission:
    if params.get("invite") is not None:
        return db.audience.admit_invite(params.get("invite"))
    return db.audience.admit_worker(params.get("audience"), params.get("study"), params)


def _ended(db: Client, params: dict[str, str]) -> bool:
    """Whether the link no longer admits its rater (revoked, expired) or they reached the quota."""
    try:
        found = _admit(db, params)
    except LinkRefused:
        return True
    return found.quota is not None and db.audience.votes_cast(found) >= found.quota


def recheck(db: Client) -> None:
    """For the rating fragment, which reruns alone (without :func:`gate`): a full rerun as soon
    as the link stops admitting (revoked, expired) or its rater reaches the quota, so that the
    page shows the refusal or the completion screen instead of a pair."""
    if admission() is not None and _ended(db, st.session_state.get(LINK_KEY) or {}):
        st.rerun()


def ended_check(db: Client) -> Callable[[], bool] | None:
    """For answers given without a script run (:mod:`rater.app.pair_api`): a function telling
    whether this session's link has ended (as :func:`recheck` checks); None without a link."""
    if admission() is None:
        return None
    params = dict(st.session_state.get(LINK_KEY) or {})
    return lambda: _ended(db, params)


def admission() -> Admission | None:
    """Who this run's link admitted, or None (no link)."""
    found = st.session_state.get(ADMISSION_KEY)
    return found if isinstance(found, Admission) else None


def refuse_unlinked(db: Client, board: Leaderboard) -> bool:
    """On a board restricted to audiences, refuse a rater without a link (a typed name or
    ``?rater=``); True when refused (the message is shown)."""
    if not db.audience.board_audiences(board.id):
        return False
    st.error("This leaderboard is open only to invited raters: open the personal link you were "
             "sent. A typed name cannot rate here.")
    return True


def completion_screen(db: Client, found: Admission) -> None:
    """The rater is done: their completion code (made and stored now, the same on every visit)
    and, when the owner set one, the link back to the study's completion page."""
    code = db.audience.complete(found)
    st.title("Thank you!")
    st.success("You have finished rating on this leaderboard.")
    st.markdown("Your completion code:")
    st.code(code, language=None)
    if found.completion_url:
        st.link_button("Finish on the study's page", found.completion_url, type="primary")
        st.caption("The code is stored with your votes; keep it until your submission is approved.")


def linked_done(db: Client, found: Admission) -> bool:
    """Whether the linked rater has reached their quota (then the completion screen is drawn)."""
    if found.quota is None or db.audience.votes_cast(found) < found.quota:
        return False
    completion_screen(db, found)
    return True
