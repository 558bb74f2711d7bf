"""On a real server: the overload limits are shared fairly (shares.py, DESIGN §8). A project that
keeps the ingestion queue full gets 429 on its own requests, naming its share, while another
project's requests are accepted in the same moment; a project posting alone is not refused below
the queue limit less its reserve; and a project whose slow uploads fill its share of the body
budget gets 429 while another project's body is read.

The queue is made small (2,000 spans, so 1,500 for one project and a 500-span reserve) so that
eight clients of 1,000-span requests keep it full. Served by the global limit alone (before), the
other project's 10-span requests got 429 whenever the flood held the whole queue.
"""

from __future__ import annotations

import base64
import http.client
import itertools
import threading
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from interactiveai.server.storage.engines import create_db_engine
from interactiveai.server.storage.schema import observations
from interactiveai.server.tenancy import create_api_key, create_project
from tests.conftest import live_database_url
from tests.server.ingest.otlp_builders import (
    ResourceSpec,
    SpanSpec,
    encode_protobuf,
    realistic_trace,
    span_id,
    trace_id,
)
from tests.server.test_bodies_live import MiB, connect, request_head
from tests.support.live_server import LiveServer, live_server

QUEUE = {"INTERACTIVEAI_INGEST_QUEUE_SPANS": "2000", "INTERACTIVEAI_BODY_BUDGET_BYTES": str(8 * MiB)}
SHARE = "this project's share of the ingestion queue is used up"
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def _bodies(count: int, traces: int) -> list[bytes]:  # realistic traces: 5 spans each
    return [
        encode_protobuf([ResourceSpec([s for _ in range(traces) for s in realistic_trace()])]) for _ in range(count)
    ]


def _flood_bodies(count: int, spans: int) -> list[bytes]:
    """Bare spans, a trace each: quick to decode and map, slower to commit, so they queue up."""
    return [
        encode_protobuf([ResourceSpec([SpanSpec(trace_id(), span_id(), f"s{i}") for i in range(spans)])])
        for _ in range(count)
    ]


def _post(conn: http.client.HTTPConnection, auth: str, body: bytes) -> tuple[int, str]:
    conn.request("POST", "/v1/traces", body=body, headers={"Authorization": auth, **PROTOBUF})
    response = conn.getresponse()
    content = response.read()
    return response.status, orjson.loads(content).get("message", "") if response.status != 200 else ""


class _Clients:
    """``threads`` clients of one project, each posting the next body as soon as it is answered."""

    def __init__(self, port: int, auth: str, bodies: list[bytes], threads: int) -> None:
        self.port, self.auth, self.bodies = port, auth, bodies
        self.answers: list[tuple[int, str]] = []
        self._next = itertools.count()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def __enter__(self) -> _Clients:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while not self._stop.is_set():
            self.answers.append(_post(conn, self.auth, self.bodies[next(self._next) % len(self.bodies)]))
        conn.close()

    @property
    def statuses(self) -> Counter[int]:
        return Counter(status for status, _ in self.answers)


def _second_project(server: LiveServer) -> str:
    engine = create_db_engine(server.database_url, pool_size=1)
    try:
        project_id = create_project(engine, "Flooding project", "proj-flood")
        key = create_api_key(engine, project_id)
    finally:
        engine.dispose()
    return "Basic " + base64.b64encode(f"{key.public_key}:{key.secret_key}".encode()).decode()


def _stored(server: LiveServer, project_id: str) -> int:
    engine = create_db_engine(server.database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            query = select(func.count()).select_from(observations).where(observations.c.project_id == project_id)
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


def test_a_project_filling_the_queue_gets_429_while_another_is_accepted(
    dialect: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with live_server(tmp_path, live_database_url(dialect, request), extra_env=QUEUE) as server:
        port = int(server.url.rsplit(":", 1)[1])
        flood_auth, light_auth = _second_project(server), server.auth_header["Authorization"]
        flood_bodies, light_bodies = _flood_bodies(16, 1_000), _bodies(400, 2)  # 1,000 and 10 spans a request

        # alone, a project keeping 1,500 spans in flight (its part of the queue) is never refused
        with _Clients(port, flood_auth, _bodies(6, 50), threads=6) as alone:
            time.sleep(1.5)
        assert alone.statuses.keys() == {200} and len(alone.answers) >= 6, alone.statuses

        with _Clients(port, flood_auth, flood_bodies, threads=8) as flood:
            time.sleep(0.5)  # the flood fills its share of the queue
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            light = []
            deadline = time.monotonic() + 2.0
            for body in light_bodies:
                light.append(_post(conn, light_auth, body))
                if time.monotonic() > deadline:
                    break
            conn.close()
        stored = _stored(server, server.project_id)

    summary = f"alone: {alone.statuses}; flood: {flood.statuses}; light: {Counter(status for status, _ in light)}"
    print(summary)  # the figures, for the log of a run that passes too
    assert {status for status, _ in light} == {200}, summary  # every light request accepted
    assert stored == 10 * len(light)
    refusals = [message for status, message in flood.answers if status == 429]
    assert refusals and flood.statuses[200] >= 4, flood.statuses  # the flood is refused, and served
    assert all(message.startswith(SHARE) for message in refusals), set(refusals)


def test_slow_uploads_filling_a_projects_share_of_the_body_budget_are_its_own_429(tmp_path: Path) -> None:
    with live_server(tmp_path, extra_env=QUEUE) as server:  # a body budget of 8 MiB: 6 MiB for one project
        flood_auth = _second_project(server)
        holders = []
        for _ in range(2):  # two 3 MiB uploads that never complete: the flood holds 6 MiB
            holder = connect(server)
            holder.sendall(request_head("/v1/traces", {"Authorization": flood_auth, **PROTOBUF}, 3 * MiB) + b"\n")
            holders.append(holder)
        time.sleep(0.5)  # their keys checked, their bodies admitted
        conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=30)
        status, message = _post(conn, flood_auth, b"\n" * MiB)  # 7 MiB would still fit in the budget
        conn.close()
        assert status == 429 and message.startswith("this project's share of the request body budget"), message
        conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=30)
        assert [_post(conn, server.auth_header["Authorization"], body)[0] for body in _bodies(3, 2)] == [200] * 3
        # the budget still bounds everyone: a body of the other project that would pass it
        assert _post(conn, server.auth_header["Authorization"], b"\n" * (2 * MiB + 1))[0] == 429
        conn.close()
        for holder in holders:
            holder.close()
