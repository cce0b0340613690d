"""The rating app as one ASGI application: Streamlit's pages (``streamlit_app.py``) and the
rating routes (:mod:`rater.app.routes`) on one port. ``rater serve`` runs
``streamlit run rater/app/asgi.py``; Streamlit finds ``app`` and serves it with uvicorn.
"""

import sys
from pathlib import Path

# Uvicorn (under Streamlit) parses HTTP with httptools and runs its loop on uvloop when they can be
# imported: about a third less CPU per vote, and no reply held back by a delayed ACK. Imported
# here so that a broken install fails at start instead of quietly serving slower.
import httptools  # noqa: F401
import streamlit as st
from starlette.middleware import Middleware

from rater.app.routes import RatingRoutes

if sys.platform != "win32":
    import uvloop  # noqa: F401

app = st.App(Path(__file__).with_name("streamlit_app.py"), middleware=[Middleware(RatingRoutes)])
