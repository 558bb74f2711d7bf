"""The `interactiveai` command: run the server, migrate the database, manage projects, keys, models and users.

One module per command group; ``root.py`` assembles them. The SDK-only install has no click, so
the group is imported only when it is there (``main`` says what to install otherwise).
"""

from __future__ import annotations

import sys

try:
    import click
except ImportError:  # the SDK-only install has no CLI dependencies
    click = None  # type: ignore[assignment]

if click is not None:
    from interactiveai.cli.root import cli

__all__ = ["cli", "main"]


def main() -> None:
    if click is None:
        sys.stderr.write("The interactiveai command needs the server extra: pip install 'interactiveai[server]'\n")
        raise SystemExit(1)
    cli()
