"""The rating app as one ASGI application: Streamlit's pages (``streamlit_app.py``) and the
rating routes (:mod:`rater.app.routes`) on one port. ``rater serve`` runs
``streamlit run rater/app/asgi.py``; Streamlit finds ``app`` and serves it with uvicorn.
"""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from rater.app.routes import RatingRoutes

app = st.App(Path(__file__).with_name("streamlit_app.py"), middleware=[Middleware(RatingRoutes)])
