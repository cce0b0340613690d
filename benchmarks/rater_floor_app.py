"""The Rate page's Streamlit work without ours: the floor for ``benchmarks/rater_load.py --floor``.

The same elements as a rating fragment's rerun (two lettered images in columns, four answer
buttons keyed by a new id each time, the hidden prefetch images in the sidebar, the progress
caption) with no database, matchmaking or media checks: what one vote costs Streamlit alone.
Its PNGs are the ones in ``$RATER_FLOOR_MEDIA`` (made by the benchmark).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import streamlit as st

st.set_page_config(page_title="Floor", layout="wide")
IMAGES = sorted(str(p) for p in Path(os.environ["RATER_FLOOR_MEDIA"]).glob("*.png"))
_served = itertools.count()


def _answer() -> None:
    st.session_state["votes"] = st.session_state.get("votes", 0) + 1


@st.fragment
def _rating() -> None:
    hidden = st.sidebar.container(key="prefetch")
    n = next(_served)
    pick = [IMAGES[(2 * n + k) % len(IMAGES)] for k in range(4)]
    for column, letter, path in zip(st.columns(2, gap="medium"), "AB", pick[:2]):
        with column:
            st.subheader(letter, anchor=False)
            st.image(path, width="stretch", output_format="PNG")
    choices = st.container(horizontal=True, gap="medium")
    for choice, label in (("left", "A is better"), ("right", "B is better")):
        choices.button(label, key=f"{choice}-{n:08x}", type="primary", width="stretch", on_click=_answer)
    others = st.container(horizontal=True, horizontal_alignment="center", gap="small")
    for choice, label in (("tie", "Can't decide"), ("skip", "Skip")):
        others.button(label, key=f"{choice}-{n:08x}", on_click=_answer)
    with hidden:
        st.image(pick[2:], output_format="PNG")
    st.caption(f"Your votes this session: {st.session_state.get('votes', 0)} · served: {n}")


with st.sidebar:
    st.markdown("Rating as **floor**")
st.header("Which image is better?", anchor=False)
_rating()
