"""Standings and rater quality, computed from the stored votes with :mod:`ranking`."""
