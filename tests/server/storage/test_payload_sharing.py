"""A trace's input/output stored once (storage/payload_sharing.py, migration 0010).

The root observation's payload that equals its trace's is stored only on the trace row; every
reader answers as if both held a copy, whatever order the spans and trace updates arrive in.
Each case checks the stored form (one copy where they are equal) and what the API, the dataset
source and full-text search read, on both engines.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import select

from interactiveai.server.query.datasets import source_io
from interactiveai.server.query.search import trace_fulltext_condition
from interactiveai.server.storage.schema import observations, traces
from tests.server.ingest.conftest import Ingest
from tests.server.ingest.otlp_builders import BASE_NS, SpanSpec, span_id, trace_id

API = "/api/public"
MS = 1_000_000


@pytest.fixture
def ingest(client: Any, engine: Any, project: Any) -> Ingest:
    return Ingest(client, engine, project)


def _span(tid: str, sid: str, n: int, parent: str | None = None, **attributes: Any) -> SpanSpec:
    start = BASE_NS + n * MS
    return SpanSpec(tid, sid, f"s{n}", parent_id=parent, start_ns=start, end_ns=start + MS, attributes=attributes)


def _io(value: str, side: str = "input") -> dict[str, str]:
    return {f"interactiveai.observation.{side}": value}


def _trace_io(value: str, side: str = "input") -> dict[str, str]:
    return {f"interactiveai.trace.{side}": value}


def _stored(ingest: Ingest, tid: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The raw rows: the trace's and its observations' by id."""
    with ingest.engine.connect() as conn:
        trace = conn.execute(select(traces).where(traces.c.id == tid)).mappings().one()
        rows = conn.execute(select(observations).where(observations.c.trace_id == tid)).mappings().all()
    return dict(trace), {row["id"]: dict(row) for row in rows}


def _read(ingest: Ingest, tid: str) -> dict[str, Any]:
    """Every reader's view of the trace's and its observations' payloads, checked to agree."""
    client, headers = ingest.client, ingest.project.headers
    detail = client.get(f"{API}/traces/{tid}", headers=headers).json()
    by_id = {o["id"]: (o["input"], o["output"]) for o in detail["observations"]}
    listed = client.get(f"{API}/observations", params={"traceId": tid}, headers=headers).json()["data"]
    assert {o["id"]: (o["input"], o["output"]) for o in listed} == by_id
    v2 = client.get(f"{API}/v2/observations", params={"traceId": tid, "fields": "core,io"}, headers=headers).json()
    assert {o["id"]: (o["input"], o["output"]) for o in v2["data"]} == by_id
    for oid, payloads in by_id.items():
        one = client.get(f"{API}/observations/{oid}", headers=headers).json()
        assert (one["input"], one["output"]) == payloads
        source = source_io(ingest.engine, ingest.project.id, tid, oid)
        assert source is not None
        assert tuple(None if v is None else orjson.loads(v) for v in (source.input, source.output)) == payloads
    trace_list = client.get(f"{API}/traces", headers=headers).json()["data"]
    assert [(t["input"], t["output"]) for t in trace_list if t["id"] == tid] == [(detail["input"], detail["output"])]
    return {"trace": (detail["input"], detail["output"]), **by_id}


def _found(ingest: Ingest, tid: str, words: str) -> bool:
    condition = trace_fulltext_condition(ingest.engine.dialect.name, words)
    with ingest.engine.connect() as conn:
        return conn.execute(select(traces.c.id).where(traces.c.id == tid, condition)).first() is not None


def test_a_root_payload_equal_to_the_trace_is_stored_once(ingest: Ingest) -> None:
    tid, root, child = trace_id(), span_id(), span_id()
    ingest.ok(
        [
            _span(tid, root, 0, **_io('"the question"'), **_io('"the answer"', "output")),
            _span(tid, child, 1, root, **_io('"a prompt"')),
        ]
    )
    trace, stored = _stored(ingest, tid)
    assert (trace["input"], trace["output"], trace["root_io_shared"]) == ('"the question"', '"the answer"', 3)
    assert (stored[root]["input"], stored[root]["output"], stored[root]["io_on_trace"]) == (None, None, 3)
    assert (stored[child]["input"], stored[child]["io_on_trace"]) == ('"a prompt"', 0)
    assert _read(ingest, tid) == {
        "trace": ("the question", "the answer"),
        root: ("the question", "the answer"),
        child: ("a prompt", None),
    }
    assert _found(ingest, tid, "question answ")


def test_an_explicit_trace_payload_that_differs_keeps_both(ingest: Ingest) -> None:
    tid, root = trace_id(), span_id()
    ingest.ok([_span(tid, root, 0, **_io('"alpha"'), **_io('"omega"', "output"), **_trace_io('"explicit"'))])
    trace, stored = _stored(ingest, tid)
    assert (trace["root_io_shared"], stored[root]["io_on_trace"], stored[root]["input"]) == (2, 2, '"alpha"')
    assert _read(ingest, tid) == {"trace": ("explicit", "omega"), root: ("alpha", "omega")}
    assert _found(ingest, tid, "explicit omega") and not _found(ingest, tid, "alpha")


def test_a_trace_update_after_the_root_gives_the_root_its_copy_back(ingest: Ingest) -> None:
    tid, root, late = trace_id(), span_id(), span_id()
    ingest.ok([_span(tid, root, 0, **_io('"first"'), **_io('"out"', "output"))])
    assert _stored(ingest, tid)[1][root]["io_on_trace"] == 3
    # update_trace from a child span, later: an explicit trace input that differs
    ingest.ok([_span(tid, late, 1, root, **_trace_io('"explicit"'))])
    trace, stored = _stored(ingest, tid)
    assert (trace["root_io_shared"], stored[root]["io_on_trace"], stored[root]["input"]) == (2, 2, '"first"')
    assert _read(ingest, tid) == {"trace": ("explicit", "out"), root: ("first", "out"), late: (None, None)}
    assert _found(ingest, tid, "explicit") and not _found(ingest, tid, "first")


def test_an_explicit_trace_payload_before_its_root_is_shared_when_equal(ingest: Ingest) -> None:
    tid, root, child, other = trace_id(), span_id(), span_id(), trace_id()
    ingest.ok([_span(tid, child, 1, root, **_trace_io('"same"'), **_trace_io('"other"', "output"))])
    ingest.ok([_span(tid, root, 0, **_io('"same"'), **_io('"own"', "output"))])
    trace, stored = _stored(ingest, tid)
    assert (trace["root_io_shared"], stored[root]["input"], stored[root]["output"]) == (1, None, '"own"')
    assert _read(ingest, tid) == {"trace": ("same", "other"), root: ("same", "own"), child: (None, None)}
    # the same order in one batch
    root, child = span_id(), span_id()
    ingest.ok([_span(other, child, 1, root, **_trace_io('"same"')), _span(other, root, 0, **_io('"same"'))])
    assert _stored(ingest, other)[0]["root_io_shared"] == 1
    assert _read(ingest, other)["trace"] == ("same", None)


def test_a_later_root_without_payload_returns_the_former_roots_copy(ingest: Ingest) -> None:
    tid, first, second = trace_id(), span_id(), span_id()
    ingest.ok([_span(tid, first, 0, **_io('"kept"'), **_io('"answer"', "output"))])
    ingest.ok([_span(tid, second, 1)])  # a second parentless span: the trace's root now
    trace, stored = _stored(ingest, tid)
    assert (trace["root_observation_id"], trace["root_io_shared"]) == (second, 0)
    assert (stored[first]["input"], stored[first]["output"], stored[first]["io_on_trace"]) == ('"kept"', '"answer"', 0)
    assert _read(ingest, tid) == {"trace": ("kept", "answer"), first: ("kept", "answer"), second: (None, None)}


def test_a_later_root_with_payload_is_shared_in_its_place(ingest: Ingest) -> None:
    tid, first, second = trace_id(), span_id(), span_id()
    ingest.ok([_span(tid, first, 0, **_io('"one"'))])
    ingest.ok([_span(tid, second, 1, **_io('"two"'))])
    trace, stored = _stored(ingest, tid)
    assert (trace["root_observation_id"], trace["root_io_shared"]) == (second, 1)
    assert (stored[first]["input"], stored[first]["io_on_trace"]) == ('"one"', 0)
    assert (stored[second]["input"], stored[second]["io_on_trace"]) == (None, 1)
    assert _read(ingest, tid) == {"trace": ("two", None), first: ("one", None), second: ("two", None)}
    assert _found(ingest, tid, "two") and not _found(ingest, tid, "one")


def test_a_resent_root_changes_nothing(ingest: Ingest) -> None:
    tid, root = trace_id(), span_id()
    spans = [_span(tid, root, 0, **_io('"once"'))]
    ingest.ok(spans)
    ingest.ok(spans)
    assert _stored(ingest, tid)[1][root]["io_on_trace"] == 1
    assert _read(ingest, tid) == {"trace": ("once", None), root: ("once", None)}


def test_deleting_a_shared_trace_removes_both(ingest: Ingest) -> None:
    tid, root = trace_id(), span_id()
    ingest.ok([_span(tid, root, 0, **_io('"gone soon"'))])
    response = ingest.client.delete(f"{API}/traces/{tid}", headers=ingest.project.headers)
    assert response.status_code == 200, response.text
    trace_gone = ingest.client.get(f"{API}/traces/{tid}", headers=ingest.project.headers)
    assert trace_gone.status_code == 404
    assert _stored_count(ingest, tid) == 0


def _stored_count(ingest: Ingest, tid: str) -> int:
    with ingest.engine.connect() as conn:
        return len(conn.execute(select(observations.c.id).where(observations.c.trace_id == tid)).all())


# --- the batch ingestion API (legacy events): observations updated after they were stored ------


def _batch(ingest: Ingest, *events: dict[str, Any]) -> None:
    batch = [
        {"id": f"ev-{n}-{span_id()}", "type": kind, "timestamp": "2026-01-31T12:00:00Z", "body": body}
        for n, (kind, body) in enumerate((e["type"], e["body"]) for e in events)
    ]
    response = ingest.client.post(f"{API}/ingestion", json={"batch": batch}, headers=ingest.project.headers)
    assert response.status_code == 207 and response.json()["errors"] == [], response.text


def test_batch_updates_of_a_shared_root_and_its_trace(ingest: Ingest) -> None:
    """An observation sent without a trace id is its own trace's root; later events update both."""
    oid = span_id()
    _batch(ingest, {"type": "span-create", "body": {"id": oid, "input": "asked", "output": "said"}})
    trace, stored = _stored(ingest, oid)
    assert (trace["root_io_shared"], stored[oid]["io_on_trace"], stored[oid]["input"]) == (3, 3, None)
    assert _read(ingest, oid) == {"trace": ("asked", "said"), oid: ("asked", "said")}
    # the root's output updated: the trace follows it (not explicit), the root keeps its input shared
    _batch(ingest, {"type": "span-update", "body": {"id": oid, "traceId": oid, "output": "said again"}})
    assert _read(ingest, oid) == {"trace": ("asked", "said again"), oid: ("asked", "said again")}
    # the trace's input set explicitly, with the root's output updated in the same batch
    _batch(
        ingest,
        {"type": "trace-create", "body": {"id": oid, "input": "explicit"}},
        {"type": "span-update", "body": {"id": oid, "traceId": oid, "output": "third"}},
    )
    assert _read(ingest, oid) == {"trace": ("explicit", "third"), oid: ("asked", "third")}
    trace, stored = _stored(ingest, oid)
    assert (trace["root_io_shared"] & 1, stored[oid]["io_on_trace"] & 1, stored[oid]["input"]) == (0, 0, '"asked"')


# --- migration 0010 -----------------------------------------------------------------------------------


def test_migration_0010_keeps_older_rows_and_downgrades_with_copies_back(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect, text

    from interactiveai.server.query.traces import get_trace_detail
    from interactiveai.server.storage import migrate
    from interactiveai.server.storage.engines import create_db_engine

    engine = create_db_engine(database_url, pool_size=2)
    migrate.upgrade(engine, "0009")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO projects (id, name, created_at_us) VALUES ('p', 'p', 1)"))
        conn.execute(
            text(
                "INSERT INTO traces (project_id, id, timestamp_us, name_explicit, environment, tags, metadata,"
                " input, output, input_explicit, output_explicit, root_observation_id, public, bookmarked,"
                " observation_count, level, debug_count, default_count, warning_count, error_count, input_tokens,"
                " output_tokens, total_tokens, created_at_us, updated_at_us) VALUES ('p', 't1', 10, false,"
                " 'default', '[]', '{}', '\"in\"', '\"out\"', false, false, 'o1', false, false, 1, 'DEFAULT', 0, 1,"
                " 0, 0, 0, 0, 0, 777, 777)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO observations (project_id, trace_id, id, type, start_time_us, level, environment,"
                " input, output, metadata, usage_details, cost_details, input_tokens, output_tokens, total_tokens,"
                " created_at_us, trace_created_at_us) VALUES ('p', 't1', 'o1', 'SPAN', 10, 'DEFAULT', 'default',"
                " '\"in\"', '\"out\"', '{}', '{}', '{}', 0, 0, 0, 99, 777)"
            )
        )

    def payloads() -> list[Any]:
        detail = get_trace_detail(engine, "p", "t1")
        assert detail is not None
        return [(detail.trace.input, detail.trace.output), *((o.input, o.output) for o in detail.observations)]

    migrate.upgrade(engine)
    assert payloads() == [("in", "out"), ("in", "out")]  # an older row keeps its own copy
    if engine.dialect.name == "postgresql":  # new payload values are compressed with lz4
        with engine.connect() as conn:
            methods = conn.execute(
                text(
                    "SELECT attrelid::regclass::text, attname, attcompression FROM pg_attribute"
                    " WHERE attrelid IN ('traces'::regclass, 'observations'::regclass)"
                    " AND attname IN ('input', 'output') ORDER BY 1, 2"
                )
            ).all()
        assert [tuple(m) for m in methods] == [
            ("observations", "input", "l"),
            ("observations", "output", "l"),
            ("traces", "input", "l"),
            ("traces", "output", "l"),
        ]
    with engine.begin() as conn:  # the form a writer now stores
        conn.execute(text("UPDATE observations SET input = NULL, output = NULL, io_on_trace = 3"))
        conn.execute(text("UPDATE traces SET root_io_shared = 3"))
    assert payloads() == [("in", "out"), ("in", "out")]

    command.downgrade(migrate.alembic_config(engine), "0009")
    assert "io_on_trace" not in [c["name"] for c in inspect(engine).get_columns("observations")]
    with engine.connect() as conn:  # the copies are back (this version's code needs the columns)
        assert tuple(conn.execute(text("SELECT input, output FROM observations")).one()) == ('"in"', '"out"')
    migrate.upgrade(engine)
    engine.dispose()


def test_writing_never_changes_the_spans_a_retry_merges_again() -> None:
    """The writer retries a transaction with the same span rows: sharing must leave them whole."""
    from interactiveai.server.storage.payload_sharing import observation_row, share_root_payloads

    root = {"id": "r", "input": '"q"', "output": '"a"'}
    child = {"id": "c", "input": '"p"', "output": None}
    trace = {"id": "t", "root_observation_id": "r", "input": '"q"', "output": '"a"', "root_io_shared": 0}
    assert share_root_payloads(None, trace, [root, child]) is None
    stored = [observation_row(row, trace) for row in (root, child)]
    assert trace["root_io_shared"] == 3
    assert (stored[0]["input"], stored[0]["output"], stored[0]["io_on_trace"]) == (None, None, 3)
    assert stored[1] is child and child["io_on_trace"] == 0
    assert (root["input"], root["output"]) == ('"q"', '"a"')  # the span's own row is untouched
