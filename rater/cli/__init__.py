"""The ``rater`` command line: the click group (``main``) and one module per command family."""

from rater.cli.main import cli

__all__ = ["cli"]
