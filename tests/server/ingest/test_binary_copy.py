"""PostgreSQL: the writer COPYs rows in binary format; values arrive as they were sent, and a
value a column cannot hold is refused, never wrapped round."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import select

from interactiveai.server.ingest.bulk import copy_rows
from interactiveai.server.ingest.conventions import map_span
from interactiveai.server.ingest.otlp import decode_protobuf
from interactiveai.server.ingest.pricing import Pricing
from interactiveai.server.ingest.writes import write_batch
from interactiveai.server.storage.schema import observations, traces
from tests.server.ingest.otlp_builders import ResourceSpec, SpanSpec, encode_protobuf, span_id, trace_id

# what text COPY had to escape, and text beyond ASCII
AWKWARD = 'tab\there, new\nline, back\\slash, \\N, quote " and \u00e9\u2603\U0001f600 \r end'


@pytest.fixture
def postgres_only(engine: Any) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("binary COPY is PostgreSQL's")


def test_values_arrive_as_sent(engine: Any, project: Any, postgres_only: None) -> None:
    tid, sid = trace_id(), span_id()
    spec = SpanSpec(
        tid,
        sid,
        AWKWARD,
        attributes={
            "interactiveai.observation.type": "generation",
            "interactiveai.observation.input": AWKWARD + " (the call's)",
            "interactiveai.observation.output": orjson.dumps({"text": AWKWARD}).decode(),
            "interactiveai.observation.usage_details": orjson.dumps({"input": 2**40, "output": 3}).decode(),
            "interactiveai.observation.cost_details": orjson.dumps({"total": 0.125}).decode(),
            "interactiveai.trace.input": AWKWARD,
            "interactiveai.trace.tags": [AWKWARD],
        },
    )
    spans = [map_span(s, project.id, Pricing(None)) for s in decode_protobuf(encode_protobuf([ResourceSpec([spec])]))]
    with engine.begin() as conn:
        assert write_batch(conn, [(project.id, spans)]) == [1]
    with engine.connect() as conn:
        observation = conn.execute(select(observations).where(observations.c.id == sid)).mappings().one()
        trace = conn.execute(select(traces).where(traces.c.id == tid)).mappings().one()
    assert observation["name"] == AWKWARD
    assert orjson.loads(observation["input"]) == AWKWARD + " (the call's)"
    assert orjson.loads(trace["output"]) == {"text": AWKWARD}  # the root's, kept once on the trace
    assert (observation["input_tokens"], observation["output_tokens"]) == (2**40, 3)
    assert observation["total_cost"] == 0.125
    assert observation["parent_observation_id"] is None
    assert orjson.loads(trace["input"]) == AWKWARD
    assert trace["observation_count"] == 1
    assert trace["bookmarked"] is False


def test_a_value_out_of_a_narrow_columns_range_is_refused(engine: Any, project: Any, postgres_only: None) -> None:
    spec = SpanSpec(trace_id(), span_id(), "x")
    (span,) = [map_span(s, project.id, Pricing(None)) for s in decode_protobuf(encode_protobuf([ResourceSpec([spec])]))]
    row = {
        **span.row,
        "project_id": project.id,
        "created_at_us": 1,
        "trace_created_at_us": 1,
        "io_on_trace": 1 << 15,  # smallint: psycopg's binary dumper would store -32768
    }
    with pytest.raises(ValueError, match="observations.io_on_trace is out of range"), engine.begin() as conn:
        copy_rows(conn, observations, [row])
    with engine.connect() as conn:
        assert conn.execute(select(observations.c.id).where(observations.c.id == spec.span_id)).first() is None
