"""The Streamlit rating app: the script, its pages, the rating-session logic and the server.

``streamlit_app`` is the script ``rater serve`` runs, ``views`` its three pages (not ``pages/``: Streamlit would treat that folder as its own multipage app and run the pages without the gate), ``session``
their logic, ``markdown_text`` escaping, ``serve`` and ``workers`` start Streamlit.
"""
