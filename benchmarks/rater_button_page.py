"""The Rate page drawn with Streamlit's buttons, as before the pair component: the baseline of
``benchmarks/rater_load.py --baseline K``.

Each answer is a Streamlit button, so each vote is a script rerun (of the rating fragment), as
on the Rate page before commit 80fdafe: two lettered images in columns, four answer buttons
keyed by the matchup id (Streamlit keeps each replaced button's record, so RSS grows a little
with each vote), the prepared pair's images in a sidebar container, the progress caption. The
rating work is the one the component's route does, through the same
:class:`~rater.app.session.RatingSession` (pair, prepare_next, vote, status): what differs is
only how a vote reaches the server and how the next pair is drawn. Opened as
``/?leaderboard=ID&rater=NAME`` on ``$RATER_DB``.
"""

from __future__ import annotations

import streamlit as st

from rater.app.media_files import shown_file
from rater.app.session import RatingSession, button_labels, progress_lines
from rater.app.views import common

st.set_page_config(page_title="Rate (buttons)", layout="wide")


def _session() -> RatingSession:
    session = st.session_state.get("rating")
    if session is None:
        board = common.client().mri.get_leaderboard_by_id(st.query_params["leaderboard"])
        session = st.session_state["rating"] = RatingSession(board, st.query_params["rater"])
    return session


def _answer(session: RatingSession, matchup_id: str, choice: str) -> None:
    """Button callback: runs before the fragment is drawn again, so the next pair shows at once."""
    if choice == "skip":
        session.skip(matchup_id)
    else:
        session.vote(matchup_id, choice)


@st.fragment
def _rating() -> None:
    session = _session()
    hidden = st.sidebar.container(key="prefetch")
    try:
        pair = session.pair()
        if pair is None:
            st.info("Nothing left to rate.")
            return
        labels = button_labels(session.board)
        for column, letter, side in zip(st.columns(2, gap="medium"), "AB", (pair.left, pair.right)):
            with column:
                st.subheader(letter, anchor=False)
                st.image(str(shown_file(side.path)), width="stretch")
        rows = (st.container(horizontal=True, gap="medium"),
                st.container(horizontal=True, horizontal_alignment="center", gap="small"))
        for row, choice, label in ((0, "left", labels.left), (0, "right", labels.right),
                                   (1, "tie", labels.tie), (1, "skip", labels.skip)):
            rows[row].button(label, key=f"{choice}-{pair.id}", type="primary" if row == 0 else "secondary",
                             on_click=_answer, args=(session, pair.id, choice))
        session.prepare_next()
        if session.upcoming is not None:
            with hidden:
                st.image([str(shown_file(s.path)) for s in (session.upcoming.left, session.upcoming.right)])
        st.caption(" · ".join(progress_lines(session.status(), session.session_votes)))
    finally:
        common.release_connection()


with st.sidebar:
    st.markdown("Rating (Streamlit buttons)")
st.header("Which image is better?", anchor=False)
_rating()
