"""Migration 0007 over a database that holds rows: upgrade, downgrade and upgrade again, both engines.

PostgreSQL: the full-text index is rebuilt on the bounded expression (and back), the safe JSON
cast is created (and dropped). SQLite: nothing changes. Rows, search and the metadata filter
work at every step.
"""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import select, text

from interactiveai.server.query.search import trace_fulltext_condition
from interactiveai.server.query.ui_traces import TraceListFilter, list_trace_page
from interactiveai.server.storage import migrate
from interactiveai.server.storage.engines import create_db_engine
from interactiveai.server.storage.schema import traces

INSERT_TRACE = (
    "INSERT INTO traces (project_id, id, timestamp_us, name_explicit, environment, tags, metadata, input,"
    " output, input_explicit, output_explicit, public, bookmarked, observation_count, level, debug_count,"
    " default_count, warning_count, error_count, input_tokens, output_tokens, total_tokens, created_at_us,"
    " updated_at_us) VALUES ('p', :id, 10, false, 'default', '[]', :metadata, :input, '\"done\"', false, false,"
    " false, false, 0, 'DEFAULT', 0, 0, 0, 0, 0, 0, 0, 10, 10)"
)


def _index_definition(engine: Any) -> str | None:
    with engine.connect() as conn:
        return conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_traces_fulltext'")).scalar()


def _has_try_jsonb(engine: Any) -> bool:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT count(*) FROM pg_proc WHERE proname = 'interactiveai_try_jsonb'"))
        return bool(found.scalar_one())


def _found(engine: Any, query: str) -> list[str]:
    condition = trace_fulltext_condition(engine.dialect.name, query)
    assert condition is not None
    with engine.connect() as conn:
        return list(conn.execute(select(traces.c.id).where(condition).order_by(traces.c.id)).scalars())


def test_migration_0007_upgrades_and_downgrades_with_rows(database_url: str) -> None:
    engine = create_db_engine(database_url, pool_size=2)
    postgres = engine.dialect.name == "postgresql"
    migrate.upgrade(engine, "0006")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO projects (id, name, created_at_us) VALUES ('p', 'p', 1)"))
        conn.execute(
            text(INSERT_TRACE),
            [
                {"id": "t1", "metadata": '{"customer": "acme"}', "input": '"the first question"'},
                {"id": "t2", "metadata": "{not json", "input": '"another question"'},
                {"id": "t3", "metadata": "{}", "input": '"' + "lorem ipsum " * 20_000 + 'tailword"'},
            ],
        )
    if postgres:
        assert "substr" not in (_index_definition(engine) or "") and not _has_try_jsonb(engine)

    migrate.upgrade(engine, "0007")
    assert migrate.current_revision(engine) == "0007"
    if postgres:
        definition = _index_definition(engine)
        assert definition is not None and "USING gin" in definition and "substr(COALESCE(input" in definition
        assert _has_try_jsonb(engine)
    assert _found(engine, "question") == ["t1", "t2"]
    assert _found(engine, "done") == ["t1", "t2", "t3"]
    assert _found(engine, "tailword") == ([] if postgres else ["t3"])  # 240,000 characters in
    page = list_trace_page(engine, "p", TraceListFilter(from_us=0, metadata=[("customer", "acme")]))
    assert [row["id"] for row in page.rows] == ["t1"]  # t2's metadata is not JSON: skipped, not raised on

    command.downgrade(migrate.alembic_config(engine), "0006")
    assert migrate.current_revision(engine) == "0006"
    if postgres:
        definition = _index_definition(engine)
        assert definition is not None and "USING gin" in definition and "substr" not in definition
        assert not _has_try_jsonb(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM traces")).scalar_one() == 3
    assert _found(engine, "question") == ["t1", "t2"]

    migrate.upgrade(engine, "0007")
    assert migrate.current_revision(engine) == "0007"
    assert _found(engine, "first question") == ["t1"]
    engine.dispose()
