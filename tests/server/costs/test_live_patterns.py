"""Issue 10.1 on a real server: a catastrophic price pattern is refused when saved, and one already in
the database (as an older version could have stored it) hangs neither ingestion nor health, in any
project, and the server still stops on SIGTERM."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from interactiveai.server.storage.engines import create_db_engine
from interactiveai.server.storage.schema import models, observations
from interactiveai.server.tenancy import create_api_key, create_project
from tests.conftest import live_database_url
from tests.server.ingest.otlp_builders import ResourceSpec, SpanSpec, encode_protobuf, span_id, trace_id
from tests.support.live_server import LiveServer, live_server

FREEZING_NAME = "a" * 34 + "!"  # with the patterns, Python's re needs about 20 minutes on it
# Patterns the old guard let through (the first two are the issue's) or that backtrack exponentially.
STORED_PATTERNS = {
    "m-issue": "^(a|a){1,60000}$",  # RE2 refuses it: skipped with a warning
    "m-nested": "^(a{1,100}){1,100}$",  # RE2 refuses it: skipped with a warning
    "m-backtracking": "^(a|a)+!$",  # RE2 accepts it and matches in linear time: it prices the span
}
PRICE = 1e-3


def _call(url: str, headers: dict[str, str], method: str = "GET", body: bytes | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), int(exc.code)
    return status, json.loads(raw) if raw.startswith((b"{", b"[")) else raw


def _generation(model: str) -> bytes:
    span = SpanSpec(
        trace_id(),
        span_id(),
        "llm-call",
        start_ns=time.time_ns(),
        end_ns=time.time_ns() + 1_000_000,
        attributes={
            "interactiveai.observation.type": "generation",
            "interactiveai.observation.model.name": model,
            "interactiveai.observation.usage_details": '{"input": 10}',
        },
    )
    return encode_protobuf([ResourceSpec([span])])


@pytest.mark.slow
def test_catastrophic_patterns_never_freeze_the_server(
    dialect: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with live_server(tmp_path, live_database_url(dialect, request)) as server:
        _refused_at_save(server)
        engine = create_db_engine(server.database_url, pool_size=1)
        try:
            other_id = create_project(engine, "Other project", "proj-other")
            other_key = create_api_key(engine, other_id)
            other_auth = base64.b64encode(f"{other_key.public_key}:{other_key.secret_key}".encode()).decode()
            projects = {server.project_id: server.auth_header, other_id: {"Authorization": f"Basic {other_auth}"}}
            with engine.begin() as conn:  # straight into the database, around the API
                for project_id in projects:
                    for model_id, pattern in STORED_PATTERNS.items():
                        conn.execute(
                            insert(models).values(
                                project_id=project_id,
                                id=f"{model_id}-{project_id}",
                                model_name=model_id,
                                match_pattern=pattern,
                                start_date_us=None,
                                unit="TOKENS",
                                prices=json.dumps({"input": PRICE}),
                                tokenizer_id=None,
                                created_at_us=1,
                                updated_at_us=1,
                            )  # fmt: skip
                        )
            _ingestion_and_health_stay_responsive(server, projects)
            with engine.connect() as conn:
                rows = conn.execute(
                    select(observations.c.project_id, observations.c.matched_model_id, observations.c.total_cost)
                ).all()
        finally:
            engine.dispose()
        # Each project's span was priced by the one usable definition; the refused ones were skipped.
        assert sorted((r[0], r[1]) for r in rows) == sorted((p, f"m-backtracking-{p}") for p in projects)
        assert all(r[2] == pytest.approx(10 * PRICE) for r in rows)
        log = (tmp_path / "server.log").read_text()
        for project_id in projects:
            for model_id in ("m-issue", "m-nested"):
                assert f"model definition {model_id}-{project_id} of project {project_id} is ignored" in log

        started = time.monotonic()
        server.process.terminate()
        server.process.wait(timeout=15)  # the server ignored SIGTERM
        assert time.monotonic() - started < 15


def _refused_at_save(server: LiveServer) -> None:
    headers = {**server.auth_header, "Content-Type": "application/json"}
    for pattern in STORED_PATTERNS["m-issue"], STORED_PATTERNS["m-nested"]:
        body = json.dumps({"modelName": "freeze", "matchPattern": pattern, "inputPrice": PRICE}).encode()
        status, answer = _call(server.url + "/api/public/models", headers, "POST", body)
        assert status == 400 and "at most 1000 times" in answer["message"], answer
    status, listed = _call(server.url + "/api/public/models", server.auth_header)
    assert status == 200 and listed["meta"]["totalItems"] == 0


def _ingestion_and_health_stay_responsive(server: LiveServer, projects: dict[str, dict[str, str]]) -> None:
    health: list[tuple[int | str, float]] = []  # (status or error, seconds), checked by the test's thread
    stop = threading.Event()

    def probe_health() -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                outcome: int | str = _call(server.url + "/api/public/health", {})[0]
            except OSError as exc:  # a frozen server: the probe times out
                outcome = repr(exc)
            health.append((outcome, time.monotonic() - started))
            time.sleep(0.05)

    prober = threading.Thread(target=probe_health)
    prober.start()
    try:
        for headers in projects.values():
            started = time.monotonic()
            status, _ = _call(
                server.url + "/v1/traces",
                {**headers, "Content-Type": "application/x-protobuf"},
                "POST",
                _generation(FREEZING_NAME),
            )
            assert status == 200  # a 200 means committed: the span went through pricing
            assert time.monotonic() - started < 5
    finally:
        stop.set()
        prober.join()
    assert health and all(status == 200 and seconds < 2 for status, seconds in health), health
