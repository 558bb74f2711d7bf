"""`interactiveai keys`: create, list and revoke API keys."""

from __future__ import annotations

from pathlib import Path

import click

from interactiveai.cli.common import engine_for, with_database_options


@click.group()
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command("list")
@click.option("--project", "project_id", help="Only this project's keys.")
@with_database_options
def keys_list(project_id: str | None, data_dir: Path | None, database_url: str | None) -> None:
    from interactiveai.server.tenancy import list_api_keys

    for key in list_api_keys(engine_for(data_dir, database_url), project_id):
        click.echo(
            f"{key['id']}\t{key['project_id']}\t{key['public_key']}\t{key['display_secret']}\t{key['note'] or ''}"
        )


@keys.command("create")
@click.option("--project", "project_id", required=True)
@click.option("--note")
@with_database_options
def keys_create(project_id: str, note: str | None, data_dir: Path | None, database_url: str | None) -> None:
    from interactiveai.server.tenancy import create_api_key

    key = create_api_key(engine_for(data_dir, database_url), project_id, note=note)
    click.echo(f"public key {key.public_key}\nsecret key {key.secret_key}")


@keys.command("revoke")
@click.argument("key")
@with_database_options
def keys_revoke(key: str, data_dir: Path | None, database_url: str | None) -> None:
    """Revoke KEY (its id or public key)."""
    from interactiveai.server.tenancy import revoke_api_key

    if not revoke_api_key(engine_for(data_dir, database_url), key):
        raise click.ClickException(f"no API key {key!r}")
    click.echo(f"revoked {key}")
