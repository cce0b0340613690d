"""The rating screen: the instruction, two media labelled A and B, and four answers.

The pair, its answers and the progress strip are one component (:mod:`rater.app.pair_component`),
drawn from :func:`rater.app.pair_api.pair_view`. An answer is posted to ``/_rater/answer``
(:mod:`rater.app.routes`), whose reply is the next pair, swapped in place: a vote runs no
Streamlit script. The page is drawn again only when the reply says so (nothing left to show,
a link that ended), and then says why.

Texts (an LLM's answers) are shown as plain text, never parsed as Markdown or HTML: what the
model wrote, character for character, so that ``**bold**`` or a heading cannot make one answer
look better than its content, and ``<script>`` is just text. Each sits in a box of the same fixed
height, scrolling inside when long, so the two columns line up and differ only in content.
"""

from __future__ import annotations

import streamlit as st

from rater.app import links, pair_api
from rater.app.pair_component import PAIR_COMPONENT
from rater.app.views import common
from rater.api.client import Client
from rater.errors import DatabaseError, LeaderboardError, ValidationError
from rater.api.leaderboard import Leaderboard
from rater.matchmaking.service import BoardStatus
from rater.app.session import (
    MISSING_MEDIA_MESSAGE,
    RatingSession,
    check_rater_name,
    escape_markdown,
    nothing_left_message,
    progress_lines,
)

RATER_KEY = "rater"
SESSIONS_KEY = "rating_sessions"
#: The pair component's key (its element id ends with it).
PAIR_KEY = "pair"

def _session(board_id: str) -> RatingSession | None:
    return st.session_state.get(SESSIONS_KEY, {}).get(board_id)


def _redrawn() -> None:
    """The component asked for the page to be drawn again (the fragment reruns)."""


def _start_form(db: Client, board: Leaderboard | None, problem: str | None) -> None:
    st.title("Rate generative models")
    st.write("You will see two results side by side. Pick the one that answers the question "
             "better; your name is stored with each vote.")
    if problem:
        st.warning(escape_markdown(problem))  # quotes the link's values
    boards, label = common.rating_scope(db, board)
    if not boards:
        st.info("There are no leaderboards in this database yet: create one with `rater create` "
                "(or load the demo with `rater demo`).")
        return
    with st.form("start"):
        name = st.text_input("Your name", value=st.session_state.get(RATER_KEY, ""), max_chars=60)
        chosen = common.scope_picker(boards, label)
        go = st.form_submit_button("Start rating", type="primary")
    if go:
        try:
            st.session_state[RATER_KEY] = check_rater_name(name)
        except ValidationError as exc:
            st.error(escape_markdown(str(exc)))
            return
        st.query_params["rater"] = st.session_state[RATER_KEY]  # a refresh resumes rating
        common.remember_board(chosen)
        st.rerun()


def _change() -> None:
    st.session_state.pop(RATER_KEY, None)
    st.session_state.pop(common.BOARD_KEY, None)
    st.query_params.pop("leaderboard", None)
    st.query_params.pop("rater", None)


def _rater_from_url() -> tuple[str | None, str | None]:
    """The rater's name from ``?rater=NAME`` (put there by the start form, so a refresh or a
    personal link resumes rating), with the problem when it is not a usable name."""
    given = st.query_params.get("rater")
    if not given:
        return None, None
    try:
        name = check_rater_name(given)
    except ValidationError as exc:
        return None, f"The name in the link cannot be used: {exc}"
    st.session_state[RATER_KEY] = name
    return name, None


def _sidebar(board: Leaderboard, rater: str) -> None:
    with st.sidebar:
        st.markdown(f"Rating as **{escape_markdown(rater)}**  \n"
                    f"on **{escape_markdown(board.name)}**")
        if links.admission() is None:  # a link's rater and board are the link's
            st.button("Change name or leaderboard", on_click=_change)
        st.caption("Keys: ← A, → B, ↓ can't decide, S skip.")


def _progress(status: BoardStatus, session: RatingSession) -> None:
    """The progress strip (it never names a model: see :func:`progress_lines`)."""
    st.caption(escape_markdown(" · ".join(progress_lines(status, session.session_votes))))


def _rate(board: Leaderboard, rater: str) -> None:
    sessions = st.session_state.setdefault(SESSIONS_KEY, {})
    session = sessions.get(board.id)
    if session is None or session.rater != rater:
        session = sessions[board.id] = RatingSession(board, rater)
    session.link_ended = links.ended_check(common.client())
    pair_api.register(session)
    _sidebar(board, rater)
    st.header(escape_markdown(board.instruction), anchor=False)
    _rating(board.id)


@st.fragment
def _rating(board_id: str) -> None:
    """The pair, its answers and the progress strip. A fragment: an answer reruns only this,
    not the page around it (gate, navigation, sidebar, heading), which makes a vote cheaper
    for the server. A fragment's rerun runs on its own thread, outside ``streamlit_app.py``'s
    ``try``: it hands its connection back and reports a database error itself."""
    session = _session(board_id)
    if session is None:  # the session's rating state was dropped: the page is drawn anew
        st.rerun()
    try:
        _pair_screen(session)
    except DatabaseError as exc:  # e.g. the file was deleted under the server: say so
        st.error(escape_markdown(str(exc)))
    finally:
        common.release_connection()


def _pair_screen(session: RatingSession) -> None:
    links.recheck(common.client())  # a link revoked, or its quota reached, since the page was drawn
    try:
        pair = session.pair()
    except LeaderboardError as exc:
        st.error(escape_markdown(f"Cannot serve a pair: {exc}"))
        return
    view = pair_api.pair_view(session) if pair is not None else None
    if view is None or view["pair"] is None:
        _nothing_left(session)
        return
    PAIR_COMPONENT(data=view, key=PAIR_KEY, on_rerun_change=_redrawn)


def _nothing_left(session: RatingSession) -> None:
    status = session.status()
    if session.missing_skipped:
        st.warning(escape_markdown(MISSING_MEDIA_MESSAGE[:1].upper() + MISSING_MEDIA_MESSAGE[1:] + "."))
    st.info(nothing_left_message(status, session.keep_going))
    linked = links.admission()
    if linked is not None:  # a linked rater is done when nothing is left: their code
        links.completion_screen(common.client(), linked)
    if status.settled and not session.keep_going:
        st.button("Keep rating anyway", on_click=session.keep_rating)
    _progress(status, session)


def main() -> None:
    db = common.client()
    linked = links.admission()
    if linked is not None:  # the link decides who rates, and where
        if not links.linked_done(db, linked):
            _rate(db.mri.get_leaderboard_by_id(linked.leaderboard_id), linked.rater)
        return
    board, problem = common.chosen_board(db)
    rater = st.session_state.get(RATER_KEY)
    if rater is None:
        rater, name_problem = _rater_from_url()
        problem = problem or name_problem
    if board is None or rater is None:
        _start_form(db, board, problem)
        return
    if links.refuse_unlinked(db, board):
        st.button("Choose another leaderboard", on_click=_change)
        return
    _rate(board, rater)


main()
