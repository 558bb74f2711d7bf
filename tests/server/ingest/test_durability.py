"""A 200 means committed: kill -9 the real server mid-load, restart it, and every acknowledged span is there."""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import text

from interactiveai.server.storage.engines import create_db_engine
from tests.conftest import live_database_url
from tests.server.ingest.otlp_builders import ResourceSpec, encode_protobuf, realistic_trace
from tests.support.live_server import LiveServer, live_server


def _post(server: LiveServer, body: bytes) -> int:
    request = urllib.request.Request(
        server.url + "/v1/traces",
        data=body,
        method="POST",
        headers={**server.auth_header, "Content-Type": "application/x-protobuf"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return -1  # the server died under us: not acknowledged


def _stored_ids(database_url: str) -> set[tuple[str, str]]:
    engine = create_db_engine(database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT trace_id, id FROM observations WHERE project_id = 'proj-live'"))
            return {(row[0], row[1]) for row in rows}
    finally:
        engine.dispose()


def _trace_counts(database_url: str) -> dict[str, int]:
    engine = create_db_engine(database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, observation_count FROM traces WHERE project_id = 'proj-live'"))
            return {row[0]: row[1] for row in rows}
    finally:
        engine.dispose()


def test_acknowledged_spans_survive_kill_9(dialect: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    acknowledged: list[list[tuple[str, str]]] = []
    lock = threading.Lock()
    stop = threading.Event()

    database_url = live_database_url(dialect, request)
    with live_server(tmp_path, database_url) as server:
        stored_at = server.database_url

        def load() -> None:
            while not stop.is_set():
                spans = [s for _ in range(20) for s in realistic_trace()]
                status = _post(server, encode_protobuf([ResourceSpec(spans)]))
                if status == 200:
                    with lock:
                        acknowledged.append([(s.trace_id, s.span_id) for s in spans])

        threads = [threading.Thread(target=load) for _ in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with lock:
                if len(acknowledged) >= 30:
                    break
            time.sleep(0.05)
        os.kill(server.process.pid, signal.SIGKILL)  # mid-load, no shutdown of any kind
        server.process.wait()
        stop.set()
        for thread in threads:
            thread.join()

    assert len(acknowledged) >= 30
    expected = {key for batch in acknowledged for key in batch}
    # restart on the same data directory: recovery must show every acknowledged span
    with live_server(tmp_path, database_url) as restarted:
        assert _post(restarted, encode_protobuf([ResourceSpec(realistic_trace())])) == 200
    stored = _stored_ids(stored_at)
    assert expected <= stored, f"{len(expected - stored)} acknowledged spans lost"
    counts = _trace_counts(stored_at)
    for trace_id in {t for t, _ in expected}:
        assert counts[trace_id] == 5  # roll-ups committed together with the spans
