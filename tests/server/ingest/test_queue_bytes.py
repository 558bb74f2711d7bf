"""The ingestion queue is bounded in payload bytes as well as in spans (``ingest_queue_bytes``,
ingest/service.py): a burst of few but large spans gets 429 once the bound is reached, whatever
their number, and nothing acknowledged is lost.

Before the byte bound, only the span count (200,000 by default) limited the queue, so the same
burst was all admitted and the server's memory grew with the payloads.
"""

from __future__ import annotations

import asyncio
import http.client
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Connection, func, select

from interactiveai.server.ingest.service import IngestService
from interactiveai.server.ingest.writer import Overloaded
from interactiveai.server.settings import load_settings
from interactiveai.server.storage.engines import create_db_engine
from interactiveai.server.storage.schema import observations
from tests.server.ingest.otlp_builders import ResourceSpec, SpanSpec, encode_protobuf, span_id, trace_id
from tests.support.live_server import live_server

KiB = 1024


def _large_body(spans: int, payload_bytes: int) -> bytes:
    """``spans`` spans of a new trace, each with an input of ``payload_bytes`` characters."""
    tid = trace_id()
    text = ("lorem ipsum dolor sit amet " * (payload_bytes // 27 + 1))[:payload_bytes]
    attributes = {"interactiveai.observation.input": text}
    return encode_protobuf(
        [ResourceSpec([SpanSpec(tid, span_id(), f"s{i}", attributes=attributes) for i in range(spans)])]
    )


def _count(conn: Connection, project_id: str) -> int:
    query = select(func.count()).select_from(observations).where(observations.c.project_id == project_id)
    return int(conn.execute(query).scalar_one())


async def _queued(service: IngestService, project_id: str, body: bytes) -> asyncio.Task[int]:
    """Send ``body`` to a service whose writer is not started: it waits in the queue."""
    before = service.queue.held
    task = asyncio.create_task(service.ingest(project_id, body, "", True))
    async with asyncio.timeout(30):
        while not task.done() and service.queue.held == before:
            await asyncio.sleep(0.005)  # decoded, mapped and counted in the queue
    return task


async def test_large_spans_are_refused_by_the_queues_bytes_before_its_span_count(
    engine: Any, project: Any, tmp_path: Path
) -> None:
    settings = load_settings(
        data_dir=tmp_path, ingest_queue_spans=10_000, ingest_queue_bytes=64 * KiB, project_reserve_percent=0
    )
    service = IngestService(engine, settings)
    first = _large_body(5, 10 * KiB)  # ~50 KiB: 5 spans of a 10,000-span queue
    tasks = [await _queued(service, project.id, first)]
    assert service.queue_bytes.held == len(first) and service.queue.held == 5
    # another 50 KiB would pass 64 KiB: refused before the body is read (by its declared length),
    # and after decoding
    assert service.overloaded(project.id) is None and service.overloaded(project.id, 10 * KiB) is None
    assert "bytes of payload waiting" in (service.overloaded(project.id, 50 * KiB) or "")
    assert "bytes of payload waiting" in (service.overloaded(None, 50 * KiB) or "")
    with pytest.raises(Overloaded, match="bytes of payload waiting for commit"):
        await service.ingest(project.id, _large_body(5, 10 * KiB), "", True)
    # the batch ingestion API's writes count their bodies alike
    with pytest.raises(Overloaded, match="bytes of payload waiting"):
        await service.write(project.id, 1, lambda conn: 1, payload_bytes=20 * KiB)
    tasks.append(await _queued(service, project.id, _large_body(1, KiB)))  # small ones still fit
    service.start()
    try:
        assert await asyncio.wait_for(asyncio.gather(*tasks), 30) == [5, 1]
        assert (service.queue_bytes.held, service.queue.held) == (0, 0) and service.overloaded() is None
        # and one request larger than the whole bound still gets into an empty queue
        assert await asyncio.wait_for(service.ingest(project.id, _large_body(10, 10 * KiB), "", True), 30) == 10
    finally:
        service.stop()
    with engine.connect() as conn:
        assert _count(conn, project.id) == 16


def test_a_burst_of_large_spans_gets_back_pressure_and_loses_nothing_acknowledged(tmp_path: Path) -> None:
    env = {"INTERACTIVEAI_INGEST_QUEUE_BYTES": str(256 * KiB), "INTERACTIVEAI_RETRY_AFTER_SECONDS": "1"}
    bodies = [[_large_body(10, 16 * KiB) for _ in range(6)] for _ in range(6)]  # 6 clients, ~160 KiB a body
    answers: list[tuple[int, str | None, str]] = []
    with live_server(tmp_path, extra_env=env) as server:
        port = int(server.url.rsplit(":", 1)[1])
        headers = {**server.auth_header, "Content-Type": "application/x-protobuf"}

        def client(mine: list[bytes]) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for body in mine:
                while True:  # as an exporter does: resend after a 429, until acknowledged
                    conn.request("POST", "/v1/traces", body=body, headers=headers)
                    response = conn.getresponse()
                    content = response.read()
                    message = orjson.loads(content).get("message", "") if response.status != 200 else ""
                    answers.append((response.status, response.getheader("Retry-After"), message))
                    if response.status != 429:
                        break
                    if response.getheader("Connection") == "close":
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    time.sleep(0.02)
            conn.close()

        threads = [threading.Thread(target=client, args=(mine,)) for mine in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        engine = create_db_engine(server.database_url, pool_size=1)
        try:
            with engine.connect() as conn:
                stored = _count(conn, server.project_id)
        finally:
            engine.dispose()
    refused = [(retry, message) for status, retry, message in answers if status == 429]
    assert {status for status, _, _ in answers} <= {200, 429}, answers
    assert refused, "a 256 KiB bound never refused a burst of 36 bodies of ~160 KiB"
    assert all(retry == "1" for retry, _ in refused)
    assert all("bytes of payload waiting" in message for _, message in refused), {m for _, m in refused}
    # every body was acknowledged once, after its retries, and each acknowledged span is stored
    assert sum(status == 200 for status, _, _ in answers) == 36 and stored == 36 * 10
