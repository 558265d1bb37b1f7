"""``python -m whimbrel``."""

from whimbrel.cli.app import main

main()
