"""`python -m audit` runs the `audit` command (as tests and scripts start it in a fresh process)."""

from audit.cli import main

main()
