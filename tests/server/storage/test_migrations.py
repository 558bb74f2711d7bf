from __future__ import annotations

import subprocess
import sys
from pathlib import Path
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


def test_concurrent_upgrades_on_one_database_are_safe(database_url: str, tmp_path: Path) -> None:
    """Replicas starting together each run migrations; they must not trip over each other."""
    command = [sys.executable, "-m", "interactiveai", "db", "upgrade", "--database-url", database_url]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path) for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0].decode() for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], outputs
    assert all("database at revision" in out for out in outputs)


def test_migrations_build_exactly_the_declared_schema(engine: Any) -> None:
    """schema.py and the migrations never drift: autogenerate finds nothing to do.

    Full-text search objects live only in migration 0002 (engine-specific), so they are ignored.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from interactiveai.server.storage.schema import metadata

    def is_fulltext(entry: Any) -> bool:
        text = repr(entry)
        return "traces_fts" in text or "ix_traces_fulltext" in text

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [entry for entry in compare_metadata(context, metadata) if not is_fulltext(entry)]
    assert diff == []
