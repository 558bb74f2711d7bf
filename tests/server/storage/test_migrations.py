from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

from interactiveai.server.storage import migrate


def test_migrations_create_every_table(engine: Any) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {"projects", "api_keys", "users", "traces", "observations", "scores", "trace_tags", "models"} <= tables
    assert migrate.current_revision(engine) is not None


def test_upgrade_is_idempotent(engine: Any) -> None:
    before = migrate.current_revision(engine)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == before
