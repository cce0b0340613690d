"""The rating app's pages, started by ``rater serve`` (through :mod:`rater.app.asgi`, which adds
the rating routes).

A thin view: the passcode gate, then three pages (Rate, Raters, Standings) under
``rater/app/views/``; what they do is in :mod:`rater.app.session` and the Leaderboard API.
Nothing else is drawn, and no media is loaded, until the gate is passed.
"""

from __future__ import annotations

import streamlit as st

from rater.app.views import common
from rater.errors import DatabaseError
from rater.app.session import escape_markdown

# An emoji icon becomes an inline SVG in the browser; a ":material/...:" page icon would be
# fetched from a web-font host (nothing may be loaded from another host).
st.set_page_config(page_title="Rater", page_icon="\u2696\ufe0f", layout="wide")

# The pair's own layout is in rater/app/pair.css; this is the page around it.
_CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 3rem; }
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
  h2 { font-size: 1.35rem !important; }
  h3 { padding: 0 !important; }
}
</style>"""

st.html(_CSS)
try:
    if common.gate(common.config()):
        st.navigation(
            [
                st.Page("views/rate.py", title="Rate", icon=":material/how_to_vote:", default=True),
                st.Page("views/raters.py", title="Raters", icon=":material/group:",
                        url_path="raters"),
                st.Page("views/standings.py", title="Standings", icon=":material/leaderboard:",
                        url_path="standings"),
            ],
            position="top",
        ).run()
except DatabaseError as exc:  # e.g. the file was deleted under the server: say so, save nothing
    st.error(escape_markdown(str(exc)))
finally:
    common.release_connection()
