"""The pages of the rating app (thin Streamlit views over :mod:`rater.app.session`)."""
