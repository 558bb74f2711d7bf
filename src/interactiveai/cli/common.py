"""What every command that touches the database shares: settings, a migrated engine, the options."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def load(**overrides: Any) -> Any:
    from interactiveai.server.settings import load_settings

    return load_settings(**overrides)


def migrated_engine(settings: Any) -> Any:
    from interactiveai.server.storage import migrate
    from interactiveai.server.storage.engines import create_db_engine

    engine = create_db_engine(settings.resolved_database_url)
    migrate.upgrade(engine)
    return engine


def engine_for(data_dir: Path | None, database_url: str | None) -> Any:
    """The engine of the database the options (or INTERACTIVEAI_* variables, or the default) name."""
    return migrated_engine(load(data_dir=data_dir, database_url=database_url))


def safe_url(settings: Any) -> str:
    """The database URL with its password masked, fit for a log."""
    from sqlalchemy.engine import make_url

    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


_DATABASE_OPTIONS = [
    click.option("--data-dir", type=click.Path(path_type=Path), help="Data directory (INTERACTIVEAI_DATA_DIR)."),
    click.option("--database-url", help="Database URL (INTERACTIVEAI_DATABASE_URL); default: SQLite in the data dir."),
]


def with_database_options(func: F) -> F:
    for option in reversed(_DATABASE_OPTIONS):
        func = option(func)
    return func
