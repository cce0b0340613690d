"""The Standings page: the chosen leaderboard's live standings (for raters only on boards that
show them, see :meth:`rater.Leaderboard.update`; always for the owner)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from rater.app.views import common
from rater.errors import LeaderboardError
from rater.app.session import escape_markdown, standings_key, standings_rows

STANDINGS_COLUMNS = {
    "rank": st.column_config.NumberColumn("Rank", width="small"),
    "name": st.column_config.TextColumn("Model"),
    "score": st.column_config.NumberColumn("Score", format="%.0f"),
    "ci_low": st.column_config.NumberColumn("95% low", format="%.0f"),
    "ci_high": st.column_config.NumberColumn("95% high", format="%.0f"),
    "rank_low": st.column_config.NumberColumn("Best rank", width="small"),
    "rank_high": st.column_config.NumberColumn("Worst rank", width="small"),
    "wins": st.column_config.NumberColumn("Wins"),
    "ties": st.column_config.NumberColumn("Ties"),
    "total_matches": st.column_config.NumberColumn("Matches"),
    "win_rate": st.column_config.NumberColumn("Win rate", format="%.0f%%"),
    "preliminary": st.column_config.CheckboxColumn(
        "Preliminary", help="Too few votes to be ranked with the others: listed after them"),
}


@st.cache_data(show_spinner="Computing standings…", max_entries=32)
def _standings(key: tuple[Any, ...], _board: Any, audience: str | None = None) -> tuple[pd.DataFrame, int]:
    """Standings (of one audience's votes, or everyone's), recomputed only when a vote or an
    exclusion changed them (``key``)."""
    df = _board.get_standings(audience=audience)
    return df, int(df.attrs.get("excluded_votes", 0))


def main() -> None:
    db = common.client()
    st.header("Standings", anchor=False)
    board = common.board_picker(db)
    if board is None:
        return
    cfg = common.config()
    shown = db.mri.get_leaderboard_by_id(board.id).show_standings  # read now: it may change
    if not shown and not common.is_owner(cfg):
        st.info("The standings of this leaderboard are not shown to raters while it is being "
                "rated, so that every vote is about the pair on screen.")
        common.owner_gate(cfg)
        return
    audiences = {a: db.audience.get_audience_by_id(a).name for a in db.audience.board_audiences(board.id)}
    audience = None
    if len(audiences) > 1:  # a choice only when there is one to make
        audience = st.selectbox("Votes of", [None, *audiences], key="audience-picker",
                                format_func=lambda a: "every audience" if a is None else audiences[a])
    try:
        df, excluded = _standings(standings_key(board), board, audience)
    except LeaderboardError as exc:
        st.error(escape_markdown(f"Cannot compute standings: {exc}"))
        return
    if df.empty:
        st.info("This leaderboard has no models yet.")
        return
    counted = int(df["total_matches"].sum()) // 2
    st.caption(
        f"{counted:,} votes counted"
        + (f"; {excluded:,} excluded (from raters excluded on the Raters page)" if excluded
           else "; none excluded")
        + ". Quality-control repeats are not counted. Score: 1000 is an average model, +400 "
          "means 10:1 odds. Ranks show their 95% range."
    )
    st.dataframe(standings_rows(df), hide_index=True, placeholder="–", column_config=STANDINGS_COLUMNS)
    thin = int(df["preliminary"].sum())
    if thin:
        st.caption(f"{'All' if thin == len(df) else thin} model{'' if thin == 1 else 's'} "
                   f"{'is' if thin == 1 else 'are'} preliminary: fewer than {board.min_votes} votes, "
                   "or a rank range over half the board. Preliminary models are listed after the "
                   "established ones" + (", so no model leads yet." if thin == len(df) else "."))
    if board.inverse_ranking:
        st.caption("This board asks for the worse result; standings are flipped so the best "
                   "model is first.")


main()
