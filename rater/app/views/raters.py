"""The Raters page (the owner's): quality figures per rater, exclude / include controls, and the
board's media files missing on disk."""

from __future__ import annotations

from typing import Any

import streamlit as st

from rater.app.views import common
from rater.errors import LeaderboardError
from rater.results.quality import RaterStats
from rater.app.session import escape_markdown, missing_media, rater_rows, standings_key

RATER_COLUMNS = {
    "Agreement %": st.column_config.NumberColumn(format="%.0f%%", help="Same judgement on repeats"),
    "Left rate %": st.column_config.NumberColumn(format="%.0f%%", help="Decided votes for A"),
    "Median seconds": st.column_config.NumberColumn(format="%.1f s"),
    "Gold accuracy %": st.column_config.NumberColumn(format="%.0f%%", help="Known-answer pairs judged right"),
    "Reason": st.column_config.TextColumn(help="Why the rater is excluded"),
}


@st.cache_data(show_spinner="Computing rater figures…", max_entries=32)
def _stats(key: tuple[Any, ...], _board: Any) -> list[RaterStats]:
    """Rater figures, recomputed only when a vote or an exclusion changed them (``key``)."""
    return _board.raters()


@st.cache_data(show_spinner=False, ttl=30, max_entries=32)
def _missing(key: tuple[Any, ...], _board: Any) -> list[str]:
    """The board's missing media files, looked up again at most every 30 seconds."""
    return missing_media(_board)


def _show_missing(board: Any) -> None:
    missing = _missing(standings_key(board), board)
    if missing:
        st.error(escape_markdown(
            f"{len(missing)} media file(s) of this leaderboard are missing on disk (restore them "
            "from a backup with media, or add the model again); pairs using them are skipped:"))
        st.code("\n".join(missing), language=None)


def _set_excluded(board_id: str, name: str, excluded: bool) -> None:
    if not common.is_owner(common.config()):  # the button is only drawn for the owner
        return
    try:
        board = common.client().mri.get_leaderboard_by_id(board_id)
        (board.exclude_rater if excluded else board.include_rater)(name)
    except LeaderboardError as exc:
        st.session_state["raters_error"] = str(exc)
        return
    st.toast(escape_markdown(
        f"{name} is {'excluded from' if excluded else 'counted again in'} the standings."))


def main() -> None:
    db = common.client()
    st.header("Raters", anchor=False)
    if not common.owner_gate(common.config()):
        return
    board = common.board_picker(db)
    if board is None:
        return
    _show_missing(board)
    stats = _stats(standings_key(board), board)
    if not stats:
        st.info("Nobody has rated this leaderboard yet.")
        return
    st.dataframe(rater_rows(stats), hide_index=True, placeholder="–", column_config=RATER_COLUMNS)
    st.caption(
        "Agreement: share of repeated pairs (shown again with the sides swapped) judged the same "
        "way as the first time. Left rate: share of decided votes for the left side (A); far "
        "from 50% suggests position bias. Seconds: median time a pair was on screen before the "
        "vote. Gold accuracy: share of gold (known-answer) pairs judged right. Excluded raters' "
        "votes stay stored but are left out of the standings; the reason says who or which rule "
        "excluded them (including a rater again overrides the rules for that rater)."
    )
    error = st.session_state.pop("raters_error", None)
    if error:
        st.error(escape_markdown(error))
    st.subheader("Exclude or include a rater", anchor=False)
    by_name = {s.name: s for s in stats}
    name = st.selectbox(
        "Rater", list(by_name),
        format_func=lambda n: f"{n} (excluded)" if by_name[n].excluded else n,
    )
    if name is None:
        return
    excluded = by_name[name].excluded
    st.button(
        "Include again" if excluded else "Exclude from standings",
        type="secondary" if excluded else "primary",
        on_click=_set_excluded, args=(board.id, name, not excluded),
    )


main()
