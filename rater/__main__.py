"""``python -m rater`` runs the command line."""

from .cli import cli

cli(prog_name="rater")
