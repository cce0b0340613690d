"""The rating app as one ASGI application: Streamlit's pages (``streamlit_app.py``) and the
rating routes (:mod:`rater.app.routes`) on one port. ``rater serve`` runs
``streamlit run rater/app/asgi.py``; Streamlit finds ``app`` and serves it with uvicorn.
"""

from pathlib import Path

import streamlit as st

from rater.app.routes import routes

app = st.App(Path(__file__).with_name("streamlit_app.py"), routes=routes())
