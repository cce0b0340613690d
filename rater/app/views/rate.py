"""The rating screen: the instruction, two media labelled A and B, and four answers.

Texts (an LLM's answers) are shown as plain text, never parsed as Markdown or HTML: what the
model wrote, character for character, so that ``**bold**`` or a heading cannot make one answer
look better than its content, and ``<script>`` is just text. Each sits in a box of the same fixed
height, scrolling inside when long, so the two columns line up and differ only in content.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from rater.app import links
from rater.app.views import common
from rater.api.client import Client
from rater.errors import DatabaseError, LeaderboardError, ValidationError
from rater.api.leaderboard import Leaderboard
from rater.matchmaking.service import BoardStatus, Matchup
from rater.intake.media import local_file, read_text_blob
from rater.app.session import (
    MISSING_MEDIA_MESSAGE,
    RatingSession,
    button_labels,
    check_rater_name,
    escape_markdown,
    nothing_left_message,
    progress_lines,
)
from rater.app.media_files import image_output_format, media_format, media_kind, shown_file

RATER_KEY = "rater"
SESSIONS_KEY = "rating_sessions"
ERROR_KEY = "vote_error"
#: The answer buttons' keys are these plus the matchup id (see :func:`_rate`).
ANSWER_KEYS = ("left-", "right-", "tie-", "skip-")
#: Pixels: a text box's height (its text scrolls inside); about 20 lines, so a pair of answers
#: and the answer buttons fit on a laptop screen.
TEXT_BOX_HEIGHT = 480
UNREADABLE_TEXT = "(This text cannot be read on the server: skip this pair.)"


def _session(board_id: str) -> RatingSession | None:
    return st.session_state.get(SESSIONS_KEY, {}).get(board_id)


def _answer(board_id: str, matchup_id: str, choice: str) -> None:
    """Button callback: runs before the page is drawn again, so the next pair shows at once."""
    session = _session(board_id)
    if session is None:
        return
    try:
        if choice == "skip":
            session.skip(matchup_id)
        else:
            session.vote(matchup_id, choice)
    except LeaderboardError as exc:
        st.session_state[ERROR_KEY] = f"Your vote was not saved: {exc}"


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


def _text(path: Path) -> None:
    """A stored text as plain text (``st.text``: no Markdown, no HTML) in a scrolling box."""
    try:
        text = read_text_blob(path)  # cached by the blob's name, its hash
    except OSError:
        text = UNREADABLE_TEXT  # removed since the pair was checked: the rater can skip it
    with st.container(height=TEXT_BOX_HEIGHT, border=True):
        st.text(text, width="stretch")


def _media(path: Path, kind: str) -> None:
    path = local_file(common.client().store, path)  # fetched again if this host's cache lost it
    if kind == "text":
        _text(path)
    elif kind == "image":
        path = shown_file(path)  # a large image's downscaled preview
        st.image(str(path), width="stretch", output_format=image_output_format(path))
    elif kind == "video":
        st.video(str(path), format=media_format(path), loop=True)
    else:
        st.audio(str(path), format=media_format(path))


def _warm_browser_cache(hidden: DeltaGenerator, upcoming: Matchup | None) -> None:
    """Draw the prepared pair's images in the ``hidden`` container, so the browser has them
    before the vote (same bytes, same media URL): the next pair then appears without a
    download. Images of one format go in one element (each element is a message to the
    browser)."""
    if upcoming is None:
        return
    by_format: dict[str, list[str]] = {}
    store = common.client().store
    for side in (upcoming.left, upcoming.right):
        if side.kind == "image" and (path := local_file(store, side.path)).is_file():
            path = shown_file(path)  # the same file _media shows
            by_format.setdefault(image_output_format(path), []).append(str(path))
    with hidden:
        for output_format, paths in by_format.items():
            st.image(paths, output_format=output_format)


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
    board = session.board
    # Made on every run, even with nothing to prefetch: a fragment's rerun may only write to
    # a container outside it (the sidebar) when its last full run did.
    hidden = st.sidebar.container(key="prefetch")  # display: none (see streamlit_app.py)
    links.recheck(common.client())  # a link revoked, or its quota reached, since the page was drawn
    error = st.session_state.pop(ERROR_KEY, None)
    if error:
        st.error(escape_markdown(error))
    try:
        pair = session.pair()
    except LeaderboardError as exc:
        st.error(escape_markdown(f"Cannot serve a pair: {exc}"))
        return
    if pair is None:
        common.forget_widgets(ANSWER_KEYS, set())
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
        return
    if board.show_prompt:
        st.markdown(f"**Prompt:** {escape_markdown(pair.prompt, lines=True)}")
    if board.show_prompt_asset and pair.prompt_asset is not None:
        with st.columns([1, 2, 1])[1]:
            st.caption("Given")
            _media(pair.prompt_asset, media_kind(pair.prompt_asset))
    labels = button_labels(board)
    for column, letter, side in zip(st.columns(2, gap="medium"), "AB", (pair.left, pair.right)):
        with column:
            st.subheader(letter, anchor=False)
            _media(side.path, side.kind)
    # The two answers under their media; on a phone they still share one row. Keys carry the
    # matchup id: a late click on a replaced pair's button (a double click) reaches that pair's
    # callback, which ignores it, and never lands on the pair now on screen.
    choices = st.container(horizontal=True, gap="medium")
    for choice, label, key in (("left", labels.left, "Left"), ("right", labels.right, "Right")):
        choices.button(label, key=f"{choice}-{pair.id}", type="primary", width="stretch",
                       shortcut=key, on_click=_answer, args=(board.id, pair.id, choice))
    others = st.container(horizontal=True, horizontal_alignment="center", gap="small")
    for choice, label, key in (("tie", labels.tie, "Down"), ("skip", labels.skip, "S")):
        others.button(label, key=f"{choice}-{pair.id}", shortcut=key,
                      on_click=_answer, args=(board.id, pair.id, choice))
    common.forget_widgets(ANSWER_KEYS, {prefix + pair.id for prefix in ANSWER_KEYS})
    try:
        session.prepare_next()  # the next pair is served now, shown at once after the vote
    except LeaderboardError:
        pass  # served on demand after the vote instead
    _warm_browser_cache(hidden, session.upcoming)
    _progress(session.status(), session)


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
