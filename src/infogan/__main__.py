"""`python -m infogan` runs the command line."""

from infogan.cli import main

main()
