"""`python -m streamc` runs the command line."""

from .cli import run

run()
