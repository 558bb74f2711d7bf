"""The ingestion service's fair admission to the writer, on a real database: who enters first,
what counts against the queue limit (429) and each project's share of it (shares.py), and what a
cancelled request leaves behind."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from interactiveai.server.ingest.service import IngestService
from interactiveai.server.ingest.writer import Overloaded
from interactiveai.server.settings import load_settings
from interactiveai.server.storage.schema import observations
from tests.server.ingest.otlp_builders import ResourceSpec, SpanSpec, encode_protobuf, span_id, trace_id


def _body(spans: int) -> bytes:
    tid = trace_id()
    return encode_protobuf([ResourceSpec([SpanSpec(tid, span_id(), f"s{i}") for i in range(spans)])])


def _service(engine: Any, tmp_path: Path, queue_spans: int, reserve: int = 0) -> tuple[IngestService, list[str]]:
    """A service whose writer is not started yet (what enters it waits there); records who enters."""
    settings = load_settings(
        data_dir=tmp_path, ingest_batch_spans=100, ingest_queue_spans=queue_spans, project_reserve_percent=reserve
    )
    service = IngestService(engine, settings)
    entered: list[str] = []
    submit = service.writer.submit

    def recording_submit(project_id: str, spans: list[Any]) -> Any:
        entered.append(project_id)
        return submit(project_id, spans)

    service.writer.submit = recording_submit  # type: ignore[method-assign]
    return service, entered


async def _send(service: IngestService, project_id: str, spans: int) -> asyncio.Task[int]:
    before = service.queue.held
    task = asyncio.create_task(service.ingest(project_id, _body(spans), "", True))
    async with asyncio.timeout(30):  # decoded and mapped: now in the writer or waiting to enter it
        while not task.done() and service.queue.held == before:
            await asyncio.sleep(0.001)  # (a fixed pause was too short for a loaded machine)
    await asyncio.sleep(0.01)
    return task


def _stored(engine: Any, project_id: str) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(observations).where(observations.c.project_id == project_id)
        return int(conn.execute(query).scalar_one())


async def test_a_light_project_enters_the_writer_before_a_busy_projects_backlog(
    engine: Any, project: Any, other_project: Any, tmp_path: Path
) -> None:
    service, entered = _service(engine, tmp_path, queue_spans=10_000)
    tasks = [await _send(service, project.id, 50) for _ in range(6)]
    assert entered == [project.id] * 2  # 100 spans (the bound here) are in; 200 wait to enter
    assert (service.commits.inside, service.commits.held) == (100, 200)
    tasks.append(await _send(service, other_project.id, 5))
    service.start()
    try:
        assert await asyncio.wait_for(asyncio.gather(*tasks), 30) == [50] * 6 + [5]
    finally:
        service.stop()
    # the other project's request went in as soon as there was room, ahead of the backlog
    assert entered[2] == other_project.id
    assert (_stored(engine, project.id), _stored(engine, other_project.id)) == (300, 5)
    assert (service.commits.inside, service.commits.held, service.writer.pending_spans) == (0, 0, 0)


async def test_requests_waiting_to_enter_the_writer_count_against_the_queue_limit(
    engine: Any, project: Any, tmp_path: Path
) -> None:
    service, _entered = _service(engine, tmp_path, queue_spans=150)
    tasks = [await _send(service, project.id, 50) for _ in range(3)]  # 100 in the writer, 50 waiting
    assert service.overloaded()  # the route answers 429 before reading another body
    with pytest.raises(Overloaded, match="150 spans waiting"):
        await service.ingest(project.id, _body(1), "", True)  # one that got past that check
    service.start()
    try:
        assert await asyncio.wait_for(asyncio.gather(*tasks), 30) == [50] * 3
    finally:
        service.stop()
    assert not service.overloaded() and _stored(engine, project.id) == 150


async def test_a_request_cancelled_while_waiting_to_enter_leaves_nothing_behind(
    engine: Any, project: Any, tmp_path: Path
) -> None:
    service, _entered = _service(engine, tmp_path, queue_spans=10_000)
    tasks = [await _send(service, project.id, 50) for _ in range(3)]
    assert service.commits.held == 50
    tasks[2].cancel()  # as when the server stops while it waits
    await asyncio.sleep(0)
    assert service.commits.held == 0 and service.commits.waiting == 0
    service.start()
    try:
        assert await asyncio.wait_for(asyncio.gather(*tasks[:2]), 30) == [50, 50]
    finally:
        service.stop()
    assert _stored(engine, project.id) == 100
    assert (service.commits.inside, service.commits.requests) == (0, 0)


async def test_a_project_past_its_share_of_the_queue_is_refused_while_others_are_admitted(
    engine: Any, project: Any, other_project: Any, tmp_path: Path
) -> None:
    # 400 spans, 100 of them kept for the projects holding little: a project may fill 300 alone
    service, _entered = _service(engine, tmp_path, queue_spans=400, reserve=25)
    a, b = project.id, other_project.id
    tasks = [await _send(service, a, 100) for _ in range(3)]  # a lone project fills the common part
    assert all(not task.done() for task in tasks) and service.queue.held_by(a) == 300
    share = "this project's share of the ingestion queue is used up: it holds 300 spans"
    assert share in (service.overloaded(a) or "")  # the route answers 429 before reading A's next body
    with pytest.raises(Overloaded, match=share):
        await service.ingest(a, _body(100), "", True)
    assert service.overloaded(b) is None
    # the other project takes the reserve: anything while it holds nothing, then up to its half of it
    tasks += [await _send(service, b, 30), await _send(service, b, 20)]
    assert service.queue.held_by(b) == 50 and not any(task.done() for task in tasks)
    with pytest.raises(Overloaded, match="it holds 50 spans.*at most 50"):
        await service.ingest(b, _body(1), "", True)
    # the limit stays the bound on memory: a third project's first request must fit in it
    with pytest.raises(Overloaded, match=r"ingestion queue is full \(350 spans waiting\)"):
        await service.ingest("proj-c", _body(60), "", True)
    service.start()
    try:
        assert await asyncio.wait_for(asyncio.gather(*tasks), 30) == [100, 100, 100, 30, 20]
    finally:
        service.stop()
    assert (_stored(engine, a), _stored(engine, b)) == (300, 50)
    assert service.queue.held == 0 and service.queue.held_by(a) == 0 and service.overloaded(a) is None


async def test_a_lone_project_may_hold_all_the_queue_but_the_reserve(engine: Any, project: Any, tmp_path: Path) -> None:
    service, _entered = _service(engine, tmp_path, queue_spans=1_000, reserve=25)
    tasks = [await _send(service, project.id, 250) for _ in range(3)]
    assert service.overloaded(project.id) is not None  # 750: the common part is full
    service.start()
    try:
        assert await asyncio.wait_for(asyncio.gather(*tasks), 30) == [250] * 3
        assert service.overloaded(project.id) is None and service.queue.held == 0
        # and, as before, one request larger than the whole queue still gets into an empty one
        assert await asyncio.wait_for(service.ingest(project.id, _body(1_500), "", True), 30) == 1_500
    finally:
        service.stop()
