"""Standings and rater quality, computed from the stored votes with :mod:`ranking`.

``standings`` turns stored votes into :class:`ranking.VoteArrays` and standings, ``quality``
gives per-rater figures, ``csv_cells`` neutralises spreadsheet formulas in exported names.

``reader`` is the documented read-only interface of ``site_builder``: with the public API in
:mod:`rater` (and ``csv_cells``) it is all the site uses to read boards. This ``__init__``
imports nothing, so that ``rater.results.csv_cells`` stays cheap for the command line.
"""
