"""The pair component of the Rate page (``pair.js``, ``pair.css``), registered once per process.

Drawn with the view of :func:`rater.app.pair_api.pair_view`; see ``pair.js`` for what it does.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

__all__ = ["PAIR_COMPONENT"]

_HERE = Path(__file__).parent

#: ``PAIR_COMPONENT(data=view, key=..., on_rerun_change=callback)``.
PAIR_COMPONENT = st.components.v2.component(
    "rater.pair",
    html='<div class="rater-pair"></div>',
    css=(_HERE / "pair.css").read_text(encoding="utf-8"),
    js=(_HERE / "pair.js").read_text(encoding="utf-8"),
    isolate_styles=False,
)
