"""PostgreSQL: trace payloads written through the writer's staging tables are compressed as their
columns say (lz4 since migration 0010), not as the staging table would have compressed them.

A compressed value keeps its method when it is copied into another table, so a staging table
that compressed trace rows itself (pglz, at the default ~2 KB toast target) decided how every
trace's input and output were stored, and cost a compression and a decompression per row.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from interactiveai.server.ingest.conventions import map_span
from interactiveai.server.ingest.otlp import decode_protobuf
from interactiveai.server.ingest.pricing import Pricing
from interactiveai.server.ingest.records import MappedSpan
from interactiveai.server.ingest.writes import write_batch
from tests.server.ingest.otlp_builders import BASE_NS, ResourceSpec, SpanSpec, encode_protobuf, span_id, trace_id


def _mapped(specs: list[SpanSpec], project_id: str) -> list[MappedSpan]:
    pricing = Pricing(None)
    return [map_span(s, project_id, pricing) for s in decode_protobuf(encode_protobuf([ResourceSpec(specs)]))]


def _write(engine: Any, project_id: str, specs: list[SpanSpec]) -> None:
    with engine.begin() as conn:
        assert write_batch(conn, [(project_id, _mapped(specs, project_id))]) == [len(specs)]


def _payload(word: str) -> str:
    return " ".join(f"{word}{i % 50}" for i in range(1_500))  # ~10 KB, compresses well


def test_trace_payloads_take_their_columns_compression(engine: Any, project: Any) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's TOAST compression")
    with engine.connect() as conn:
        expected = conn.execute(
            text(
                "SELECT coalesce(nullif(attcompression, ''), 'p') FROM pg_attribute"
                " WHERE attrelid = 'traces'::regclass AND attname = 'input'"
            )
        ).scalar_one()
    method = {"l": "lz4", "p": "pglz"}[expected]

    # a new trace: inserted from staging
    inserted, root = trace_id(), span_id()
    _write(
        engine,
        project.id,
        [
            SpanSpec(
                inserted,
                root,
                "agent",
                attributes={
                    "interactiveai.trace.input": _payload("question"),
                    "interactiveai.trace.output": _payload("answer"),
                },
            )
        ],
    )
    # a stored trace whose root arrives later: updated from staging
    updated, child, late_root = trace_id(), span_id(), span_id()
    _write(engine, project.id, [SpanSpec(updated, child, "tool", parent_id=late_root)])
    _write(
        engine,
        project.id,
        [
            SpanSpec(
                updated,
                late_root,
                "agent",
                start_ns=BASE_NS - 1_000,
                attributes={
                    "interactiveai.trace.input": _payload("late"),
                    "interactiveai.trace.output": _payload("reply"),
                },
            )
        ],
    )
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, pg_column_compression(input), pg_column_compression(output), length(input)"
                " FROM traces WHERE project_id = :p AND id IN (:a, :b) ORDER BY id"
            ),
            {"p": project.id, "a": inserted, "b": updated},
        ).all()
    assert len(rows) == 2
    for _, input_method, output_method, length in rows:
        assert length > 8_000  # the whole payload, not a cut
        assert (input_method, output_method) == (method, method)
