"""Choosing the next matchup and recording votes.

``service`` is next_matchup/record_vote/status, ``select`` picks pairs, ``state`` keeps each
board's in-memory state, ``model`` the posterior the choice is based on.
"""
