"""`interactiveai projects`: list and create projects, set their retention."""

from __future__ import annotations

from pathlib import Path

import click

from interactiveai.cli.common import engine_for, with_database_options


@click.group()
def projects() -> None:
    """List and create projects."""


@projects.command("list")
@with_database_options
def projects_list(data_dir: Path | None, database_url: str | None) -> None:
    from interactiveai.server.tenancy import list_projects

    for project in list_projects(engine_for(data_dir, database_url)):
        click.echo(f"{project['id']}\t{project['name']}")


@projects.command("create")
@click.argument("name")
@click.option("--id", "project_id", help="Project id (default: generated).")
@with_database_options
def projects_create(name: str, project_id: str | None, data_dir: Path | None, database_url: str | None) -> None:
    from interactiveai.server.tenancy import create_api_key, create_project

    engine = engine_for(data_dir, database_url)
    new_id = create_project(engine, name, project_id)
    key = create_api_key(engine, new_id)
    click.echo(f"project {new_id}\npublic key {key.public_key}\nsecret key {key.secret_key}")


@projects.command("set-retention")
@click.argument("project_id")
@click.argument("days", type=int, required=False)
@with_database_options
def projects_set_retention(project_id: str, days: int | None, data_dir: Path | None, database_url: str | None) -> None:
    """Keep PROJECT_ID's traces DAYS days (omit DAYS to keep them forever); older ones are deleted hourly."""
    from interactiveai.server.retention import set_retention

    try:
        found = set_retention(engine_for(data_dir, database_url), project_id, days)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if not found:
        raise click.ClickException(f"no project {project_id!r}")
    click.echo(f"project {project_id}: " + (f"traces kept {days} days" if days else "traces kept forever"))
