"""The public API: :class:`Client` and :class:`Leaderboard`, thin facades over the rooms below.

``client`` opens a database and manages boards, ``leaderboard`` is one board, ``demo`` loads the
bundled demo boards through the API.
"""
