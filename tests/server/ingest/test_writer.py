"""The group-commit writer: batching, isolation of a bad request, and several writers (replicas) at once."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import pytest
from sqlalchemy import func, select

from interactiveai.server.ingest.conventions import map_span
from interactiveai.server.ingest.otlp import decode_protobuf
from interactiveai.server.ingest.pricing import Pricing
from interactiveai.server.ingest.records import MappedSpan
from interactiveai.server.ingest.writer import GroupCommitWriter, Overloaded, StorageUnavailable, WriteRejected
from interactiveai.server.storage.engines import create_db_engine
from interactiveai.server.storage.schema import observations, traces
from tests.server.ingest.otlp_builders import BASE_NS, ResourceSpec, SpanSpec, encode_protobuf, span_id, trace_id
from tests.support.postgres import free_port


def _mapped(specs: list[SpanSpec], project_id: str) -> list[MappedSpan]:
    pricing = Pricing(None)
    return [map_span(s, project_id, pricing) for s in decode_protobuf(encode_protobuf([ResourceSpec(specs)]))]


def _trace(engine: Any, project_id: str, tid: str) -> Any:
    with engine.connect() as conn:
        return (
            conn.execute(select(traces).where(traces.c.project_id == project_id, traces.c.id == tid)).mappings().first()
        )


def test_many_requests_share_transactions(engine: Any, project: Any) -> None:
    writer = GroupCommitWriter(engine, batch_spans=1000, queue_spans=100_000)
    futures: list[Future[int]] = []
    tids = [trace_id() for _ in range(50)]
    # queued before the thread starts, so they are written together in few transactions
    for tid in tids:
        futures.append(writer.submit(project.id, _mapped([SpanSpec(tid, span_id(), "x")], project.id)))
    writer.start()
    try:
        assert [f.result(timeout=30) for f in futures] == [1] * 50
    finally:
        writer.stop()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(traces)).scalar() == 50
    assert writer.pending_spans == 0


def test_a_poisonous_request_fails_alone(engine: Any, project: Any) -> None:
    writer = GroupCommitWriter(engine, batch_spans=1000, queue_spans=100_000)
    good = _mapped([SpanSpec(trace_id(), span_id(), "good")], project.id)
    bad = _mapped([SpanSpec(trace_id(), span_id(), "bad")], project.id)
    bad[0].row["type"] = "X" * 10_000 if engine.dialect.name == "postgresql" else None  # violates the column
    also_good = _mapped([SpanSpec(trace_id(), span_id(), "good2")], project.id)
    futures = [writer.submit(project.id, spans) for spans in (good, bad, also_good)]
    writer.start()
    try:
        assert futures[0].result(timeout=30) == 1
        with pytest.raises(WriteRejected):
            futures[1].result(timeout=30)
        assert futures[2].result(timeout=30) == 1
    finally:
        writer.stop()
    assert _trace(engine, project.id, good[0].row["trace_id"]) is not None
    assert _trace(engine, project.id, bad[0].row["trace_id"]) is None


def test_queue_bound(engine: Any, project: Any) -> None:
    writer = GroupCommitWriter(engine, batch_spans=10, queue_spans=5)
    spans = _mapped([SpanSpec(trace_id(), span_id(), str(i)) for i in range(4)], project.id)
    first = writer.submit(project.id, spans)  # not started: stays queued
    with pytest.raises(Overloaded):
        writer.submit(project.id, spans)
    writer.start()
    writer.stop()
    assert first.result(timeout=5) == 4


def test_replicas_writing_the_same_traces_lose_no_update(engine: Any, project: Any) -> None:
    """Four writers (as four server processes would) race on the same traces with overlapping spans."""
    tids = sorted(trace_id() for _ in range(4))
    writers = [GroupCommitWriter(engine, batch_spans=50, queue_spans=100_000) for _ in range(4)]
    for writer in writers:
        writer.start()
    all_span_ids = [f"{i:04x}" + "cd" * 6 for i in range(40)]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        writer = writers[index]
        # every writer sends every span (re-sends racing), in a different order per writer
        order = all_span_ids[index:] + all_span_ids[:index]
        futures = []
        for start in range(0, len(order), 10):
            chunk = order[start : start + 10]
            specs = [
                SpanSpec(
                    tid,
                    sid,
                    "s",
                    parent_id="ee" * 8,
                    start_ns=BASE_NS + int(sid[:4], 16) * 1000,
                    end_ns=BASE_NS + int(sid[:4], 16) * 1000 + 500,
                    attributes={"interactiveai.observation.usage_details": '{"input": 3, "output": 2}'},
                )
                for tid in (tids if index % 2 else list(reversed(tids)))
                for sid in chunk
            ]
            futures.append(writer.submit(project.id, _mapped(specs, project.id)))
        for future in futures:
            try:
                future.result(timeout=60)
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for writer in writers:
        writer.stop()
    assert errors == []
    with engine.connect() as conn:
        count = conn.execute(
            select(func.count()).select_from(observations).where(observations.c.project_id == project.id)
        ).scalar()
    assert count == 160
    for tid in tids:
        trace = _trace(engine, project.id, tid)
        assert trace["observation_count"] == 40
        assert (trace["input_tokens"], trace["output_tokens"], trace["total_tokens"]) == (120, 80, 200)


def test_unreachable_database_fails_with_storage_unavailable() -> None:
    """A database that stays down fails the waiting requests as unavailable (503), after retries."""
    down = create_db_engine(f"postgresql://nobody@127.0.0.1:{free_port()}/nothing", pool_size=1)
    writer = GroupCommitWriter(down, batch_spans=100, queue_spans=1000)
    future = writer.submit("p", _mapped([SpanSpec(trace_id(), span_id(), "x")], "p"))
    writer.start()
    try:
        with pytest.raises(StorageUnavailable):
            future.result(timeout=60)
        assert writer.pending_spans == 0  # the queue is not left holding the failed spans
    finally:
        writer.stop()
        down.dispose()
