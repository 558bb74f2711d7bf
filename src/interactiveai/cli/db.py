"""`interactiveai db`: schema commands."""

from __future__ import annotations

from pathlib import Path

import click

from interactiveai.cli.common import engine_for, with_database_options


@click.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@with_database_options
def db_upgrade(data_dir: Path | None, database_url: str | None) -> None:
    """Apply every pending migration."""
    from interactiveai.server.storage import migrate

    click.echo(f"database at revision {migrate.current_revision(engine_for(data_dir, database_url))}")
