"""``python -m rater`` runs the command line."""

from rater.cli.main import cli

cli(prog_name="rater")
