"""`interactiveai users`: UI users, their passwords, and how to get a lost login back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from interactiveai.cli.common import engine_for, with_database_options


@click.group()
def users() -> None:
    """Manage UI users."""


def _strong_password(_ctx: Any, _param: Any, value: str) -> str:
    from interactiveai.server.passwords import WeakSecretError, check_password

    try:
        check_password(value, "the password")
    except WeakSecretError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


password_option = click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    callback=_strong_password,
    help="At least 12 characters (prompted for when not given).",
)


@users.command("list")
@with_database_options
def users_list(data_dir: Path | None, database_url: str | None) -> None:
    """Print each user: email, name, admin or not, and their projects with roles."""
    from interactiveai.server.accounts import list_users

    for user in list_users(engine_for(data_dir, database_url)):
        roles = ", ".join(f"{project_id}:{role}" for project_id, role in user["projects"]) or "-"
        admin = "admin" if user["is_admin"] else "-"
        click.echo(f"{user['email']}\t{user['name'] or '-'}\t{admin}\t{roles}")


@users.command("create")
@click.argument("email")
@password_option
@click.option("--project", "project_id", help="Give the user access to this project.")
@click.option(
    "--role",
    type=click.Choice(["OWNER", "ADMIN", "MEMBER", "VIEWER"], case_sensitive=False),
    default="OWNER",
    show_default=True,
    help="Their role in --project.",
)
@click.option("--admin", is_flag=True, help="Administrator of every project.")
@with_database_options
def users_create(
    email: str,
    password: str,
    project_id: str | None,
    role: str,
    admin: bool,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    from interactiveai.server.tenancy import add_membership, create_user

    engine = engine_for(data_dir, database_url)
    user_id = create_user(engine, email, password, is_admin=admin)
    if project_id:
        add_membership(engine, user_id, project_id, role=role.upper())
    click.echo(f"user {user_id} ({email})")


@users.command("set-password")
@click.argument("email")
@password_option
@with_database_options
def users_set_password(email: str, password: str, data_dir: Path | None, database_url: str | None) -> None:
    """Give EMAIL a new password and log out all their sessions."""
    from interactiveai.server.tenancy import set_password

    if not set_password(engine_for(data_dir, database_url), email, password):
        raise click.ClickException(f"no user {email!r}")
    click.echo(f"new password set for {email}; their sessions are ended")


@users.command("reset-password")
@click.argument("email")
@with_database_options
def users_reset_password(email: str, data_dir: Path | None, database_url: str | None) -> None:
    """Give EMAIL a new generated password, print it, and log out all their sessions."""
    from interactiveai.server.accounts import reset_password

    password = reset_password(engine_for(data_dir, database_url), email)
    if password is None:
        raise click.ClickException(f"no user {email!r} (`interactiveai users list` shows them)")
    click.echo(f"new password for {email.strip().lower()}: {password}\ntheir sessions are ended")
