"""Choosing the next matchup and recording votes.

``service`` is next_matchup/status, ``voting`` record_vote, ``pick`` picks pairs (the strategies, and on
big boards the stretch of the order to pick in), ``select`` is the stopping rule and the value
of a vote, ``state`` keeps each board's in-memory state, ``model`` the posterior the choice is
based on.
"""
