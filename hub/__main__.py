"""`python -m hub` runs the govhub command line."""

from hub.cli import main

main()
