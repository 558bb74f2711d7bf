"""The `interactiveai` group, with every command group attached."""

from __future__ import annotations

import click

from interactiveai.cli.db import db
from interactiveai.cli.demo import demo_command
from interactiveai.cli.keys import keys
from interactiveai.cli.models import models
from interactiveai.cli.projects import projects
from interactiveai.cli.server import server
from interactiveai.cli.users import users


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="interactiveai")
def cli() -> None:
    """InteractiveAI: LLM observability server and tools."""


cli.add_command(server)
cli.add_command(server, "serve")
for group in (db, demo_command, projects, keys, models, users):
    cli.add_command(group)
