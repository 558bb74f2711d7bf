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
