"""cli stage: the `amanat` command (main.py registers every command)."""

from __future__ import annotations

import sys


def start() -> None:
    """The `amanat` entry point: Ctrl-C is one line and exit 130 anywhere, even while the command line loads."""
    try:
        from amanat.cli.main import app

        app(prog_name="amanat")
    except KeyboardInterrupt:
        print("interrupted: stopped; what was not yet committed was rolled back", file=sys.stderr)
        sys.exit(130)
