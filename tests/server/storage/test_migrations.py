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


def test_observations_are_keyed_by_their_traces_creation_time(engine: Any) -> None:
    """Migration 0005: new spans append to the primary key instead of landing on random pages."""
    key = inspect(engine).get_pk_constraint("observations")
    assert key["constrained_columns"] == ["project_id", "trace_created_at_us", "trace_id", "id"]
    indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes("observations")}
    assert "ix_observations_project_id" in indexes and "ix_observations_metrics" in indexes
    tag_key = inspect(engine).get_pk_constraint("trace_tags")
    assert tag_key["constrained_columns"] == ["project_id", "tag", "trace_created_at_us", "trace_id"]


def test_migration_0005_backfills_existing_rows_and_downgrades(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from interactiveai.server.query.traces import get_trace_detail
    from interactiveai.server.storage.engines import create_db_engine

    engine = create_db_engine(database_url, pool_size=2)
    migrate.upgrade(engine, "0004")
    observation = (
        "INSERT INTO observations (project_id, trace_id, id, type, start_time_us, level, environment, metadata,"
        " usage_details, cost_details, input_tokens, output_tokens, total_tokens, created_at_us)"
        " VALUES ('p', :trace, :id, 'SPAN', 10, 'DEFAULT', 'default', '{}', '{}', '{}', 0, 0, 0, 99)"
    )
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO projects (id, name, created_at_us) VALUES ('p', 'p', 1)"))
        conn.execute(
            text(
                "INSERT INTO traces (project_id, id, timestamp_us, name_explicit, environment, tags, metadata,"
                " input_explicit, output_explicit, public, bookmarked, observation_count, level, debug_count,"
                " default_count, warning_count, error_count, input_tokens, output_tokens, total_tokens,"
                " created_at_us, updated_at_us) VALUES ('p', 't1', 10, false, 'default', '[]', '{}', false, false,"
                " false, false, 2, 'DEFAULT', 0, 2, 0, 0, 0, 0, 0, 777, 777)"
            )
        )
        conn.execute(text(observation), [{"trace": "t1", "id": "o1"}, {"trace": "t1", "id": "o2"}])
        conn.execute(text(observation), {"trace": "gone", "id": "o3"})  # its trace row is missing
        tag = "INSERT INTO trace_tags (project_id, tag, trace_id) VALUES ('p', :tag, :trace)"
        conn.execute(
            text(tag), [{"tag": "a", "trace": "t1"}, {"tag": "b", "trace": "t1"}, {"tag": "a", "trace": "gone"}]
        )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, trace_created_at_us FROM observations ORDER BY id")).all()
        tags = conn.execute(text("SELECT tag, trace_id, trace_created_at_us FROM trace_tags ORDER BY tag")).all()
    assert [tuple(r) for r in rows] == [("o1", 777), ("o2", 777), ("o3", 0)]
    assert [tuple(r) for r in tags] == [("a", "t1", 777), ("b", "t1", 777)]  # the orphan tag row is dropped
    detail = get_trace_detail(engine, "p", "t1")
    assert detail is not None and [o.id for o in detail.observations] == ["o1", "o2"]

    command.downgrade(migrate.alembic_config(engine), "0004")
    columns = [c["name"] for c in inspect(engine).get_columns("observations")]
    assert "trace_created_at_us" not in columns
    assert inspect(engine).get_pk_constraint("observations")["constrained_columns"] == ["project_id", "trace_id", "id"]
    assert inspect(engine).get_pk_constraint("trace_tags")["constrained_columns"] == ["project_id", "tag", "trace_id"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM observations")).scalar_one() == 3
        assert conn.execute(text("SELECT count(*) FROM trace_tags")).scalar_one() == 2
    migrate.upgrade(engine)
    engine.dispose()
