from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from interactiveai.server.query.search import search_terms, trace_fulltext_condition
from interactiveai.server.storage.schema import traces
from tests.conftest import Project


def _trace(conn: Any, project_id: str, trace_id: str, input_text: str | None, output_text: str | None) -> None:
    conn.execute(
        insert(traces).values(
            project_id=project_id,
            id=trace_id,
            timestamp_us=1,
            created_at_us=1,
            updated_at_us=1,
            input=input_text,
            output=output_text,
            tags="[]",
            metadata="{}",
            environment="default",
            level="DEFAULT",
        )
    )


def _search(engine: Any, project_id: str, query: str) -> list[str]:
    condition = trace_fulltext_condition(engine.dialect.name, query)
    assert condition is not None
    with engine.connect() as conn:
        rows = conn.execute(
            select(traces.c.id).where((traces.c.project_id == project_id) & condition).order_by(traces.c.id)
        )
        return [row[0] for row in rows]


def test_search_finds_words_in_input_or_output(engine: Any, project: Project, other_project: Project) -> None:
    with engine.begin() as conn:
        _trace(conn, project.id, "t1", '{"question": "How do I reset my password?"}', '"Use Settings"')
        _trace(conn, project.id, "t2", '"refund for invoice in_1002"', '{"answer": "Refund issued"}')
        _trace(conn, project.id, "t3", None, None)
        _trace(conn, other_project.id, "t1", '"reset password"', None)

    assert _search(engine, project.id, "password") == ["t1"]
    assert _search(engine, project.id, "REFUND invoice") == ["t2"]
    assert _search(engine, project.id, "settings") == ["t1"]
    assert _search(engine, project.id, "passw") == ["t1"]  # the last word is a prefix
    assert _search(engine, project.id, "password refund") == []  # all words must match


def test_search_follows_updates_and_deletes(engine: Any, project: Project) -> None:
    with engine.begin() as conn:
        _trace(conn, project.id, "t1", '"first draft"', None)
    with engine.begin() as conn:
        conn.execute(update(traces).where(traces.c.id == "t1").values(output='"final answer"'))
    assert _search(engine, project.id, "final") == ["t1"]
    assert _search(engine, project.id, "draft") == ["t1"]
    with engine.begin() as conn:
        conn.execute(update(traces).where(traces.c.id == "t1").values(input='"second"'))
    assert _search(engine, project.id, "draft") == []


def test_hostile_queries_are_plain_words(engine: Any, project: Project) -> None:
    with engine.begin() as conn:
        _trace(conn, project.id, "t1", '"a OR b NEAR c"', None)
    for query in ['" OR 1=1 --', "NEAR(", "*", "a:*", "'; DROP TABLE traces; --"]:
        condition = trace_fulltext_condition(engine.dialect.name, query)
        if condition is not None:
            with engine.connect() as conn:
                conn.execute(select(traces.c.id).where(condition)).all()
    assert search_terms("  ") == []
    assert trace_fulltext_condition(engine.dialect.name, "!!!") is None
