"""The dashboard's answers from roll-ups equal the exact scans, whatever the writes did.

Data goes through the real write paths (OTLP, batch ingestion, the scores API, deletion,
retention); after each change the answers are compared twice: with the changed hours still
dirty (scanned exactly beside the roll-ups) and after the refresher recomputed them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from interactiveai.server.retention import apply_retention, set_retention
from interactiveai.server.storage.rollup_schema import (
    rollup_model_days,
    rollup_model_hours,
    rollup_score_hours,
    rollup_trace_hours,
    rollup_user_days,
)
from tests.server.ingest.otlp_builders import ResourceSpec, SpanSpec, encode_protobuf
from tests.server.rollups.conftest import BASE_NS, BASE_US, HOUR_NS, assert_rollups_equal_exact, refresh

MINUTE_NS = 60_000_000_000
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet")


def tid(n: int) -> str:
    return f"{n:032x}"


def sid(n: int, k: int) -> str:
    return f"{n:08x}{k:08x}"


def trace_spans(n: int, start_ns: int, *, first_span: int = 0, spans: int = 3) -> list[SpanSpec]:
    """A root agent with user, environment, name, tags, and model calls with usage and cost."""
    env = ("production", "staging", "default")[n % 3]
    root = SpanSpec(
        tid(n),
        sid(n, 0),
        "root",
        start_ns=start_ns,
        end_ns=start_ns + (n % 7 + 1) * 700_000_000,
        attributes={
            "interactiveai.observation.type": "agent",
            "interactiveai.trace.name": ("chat", "search", "agent")[n % 3] if n % 5 else "chat",
            "interactiveai.environment": env,
            **({"user.id": f"user-{n % 4}"} if n % 6 else {}),
            **({"interactiveai.trace.tags": ["vip"]} if n % 4 == 0 else {}),
        },
        status_code=2 if n % 9 == 0 else 0,
    )
    out = [root] if first_span == 0 else []
    for k in range(max(1, first_span), first_span + spans):
        begin = start_ns + k * 37_000_000 * (n % 5 + 1)
        usage = f'{{"input": {100 + n * k}, "output": {10 + k}, "total": {110 + n * k + k}}}'
        attributes = {
            "interactiveai.observation.type": "generation" if k % 3 else "embedding",
            "interactiveai.observation.model.name": MODELS[(n + k) % 3],
            "interactiveai.observation.usage_details": usage,
            "interactiveai.environment": env,
        }
        if (n + k) % 4:
            attributes["interactiveai.observation.cost_details"] = f'{{"input": {0.001 * k}, "output": {0.0005 * n}}}'
        if (n * k) % 11 == 3:
            attributes["interactiveai.observation.level"] = "WARNING"
        out.append(
            SpanSpec(
                tid(n),
                sid(n, k),
                f"llm-{k}",
                parent_id=sid(n, 0),
                start_ns=begin,
                end_ns=begin + k * 90_000_000,
                attributes=attributes,
            )
        )
    return out


def post(client: Any, project: Any, spans: list[SpanSpec]) -> None:
    body = encode_protobuf([ResourceSpec(spans)])
    headers = {**project.headers, "Content-Type": "application/x-protobuf"}
    response = client.post("/api/public/otel/v1/traces", content=body, headers=headers)
    assert response.status_code == 200, response.text


def check(engine: Any, project: Any) -> None:
    """Equal with the changes dirty (scanned), then equal once refreshed (read from roll-ups)."""
    assert_rollups_equal_exact(engine, project.id)
    refresh(engine)
    with engine.connect() as conn:
        for table in (rollup_trace_hours, rollup_model_hours, rollup_model_days, rollup_score_hours, rollup_user_days):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() > 0, table.name
    assert_rollups_equal_exact(engine, project.id)


def seed(client: Any, project: Any, other_project: Any) -> None:
    spans: list[SpanSpec] = []
    for n in range(1, 40):
        spans += trace_spans(n, BASE_NS + (n * 53 % 48) * HOUR_NS + n * 7 * MINUTE_NS % HOUR_NS)
    post(client, project, spans)
    post(client, other_project, trace_spans(1, BASE_NS + HOUR_NS))  # never counted for project
    for n, value in ((1, 0.9), (2, 0.1), (3, 0.5)):
        score = {"name": "quality", "value": value, "traceId": tid(n), "timestamp": f"2026-01-04T0{n}:10:00Z"}
        assert client.post("/api/public/scores", json=score, headers=project.headers).status_code == 200
    labels = {"name": "tone", "value": "polite", "dataType": "CATEGORICAL", "traceId": tid(4)}
    assert client.post("/api/public/scores", json=labels, headers=project.headers).status_code == 200
    flag = {"name": "ok", "value": 1, "dataType": "BOOLEAN", "traceId": tid(5), "timestamp": "2026-01-04T05:00:00Z"}
    assert client.post("/api/public/scores", json=flag, headers=project.headers).status_code == 200


def test_ingested_data_then_late_and_resent_spans(
    quiet_client: Any, engine: Any, project: Any, other_project: Any
) -> None:
    seed(quiet_client, project, other_project)
    check(engine, project)
    # late spans: trace 7 gains a span three hours before its start (its timestamp moves to an
    # earlier hour), with more tokens, cost and an error; trace 8 gains model calls in a later hour
    late = trace_spans(7, BASE_NS + (7 * 53 % 48) * HOUR_NS - 3 * HOUR_NS, first_span=5, spans=1)
    late[0].status_code = 2
    post(quiet_client, project, late + trace_spans(8, BASE_NS + 30 * HOUR_NS, first_span=10, spans=2))
    check(engine, project)
    # a re-sent batch changes nothing
    post(quiet_client, project, trace_spans(3, BASE_NS + (3 * 53 % 48) * HOUR_NS + 3 * 7 * MINUTE_NS % HOUR_NS))
    check(engine, project)


def test_batch_ingestion_updates_and_scores(quiet_client: Any, engine: Any, project: Any, other_project: Any) -> None:
    seed(quiet_client, project, other_project)
    refresh(engine)

    def event(kind: str, n: int, body: dict[str, Any]) -> dict[str, Any]:
        return {"id": f"ev-{kind}-{n}", "type": kind, "timestamp": "2026-01-04T10:00:00Z", "body": body}

    batch = [
        event(
            "trace-create",
            1,
            {
                "id": "legacy-1",
                "name": "chat",
                "userId": "user-9",
                "environment": "production",
                "timestamp": "2026-01-04T10:15:00Z",
            },
        ),
        event(
            "generation-create",
            2,
            {
                "id": "lg-1",
                "traceId": "legacy-1",
                "model": "gpt-4o",
                "startTime": "2026-01-04T10:15:00Z",
                "endTime": "2026-01-04T10:15:02Z",
                "usageDetails": {"input": 10, "output": 5},
                "costDetails": {"total": 0.25},
                "environment": "production",
            },
        ),
        # an update of an observation sent over OTLP: new usage, cost and level move the trace
        event(
            "generation-update",
            3,
            {
                "id": sid(2, 1),
                "traceId": tid(2),
                "level": "ERROR",
                "usageDetails": {"input": 999, "output": 1},
                "costDetails": {"total": 3.0},
            },
        ),
        # a trace update renaming a trace (its roll-up key) and moving it to another environment
        event("trace-create", 4, {"id": tid(4), "name": "renamed", "environment": "staging"}),
    ]
    response = quiet_client.post("/api/public/ingestion", json={"batch": batch}, headers=project.headers)
    assert response.status_code == 207 and not response.json()["errors"], response.text
    check(engine, project)
    # scores: an update moving a score to another hour, a value change, and a deletion
    moved = {"id": "moved", "name": "quality", "value": 0.2, "traceId": tid(6), "timestamp": "2026-01-04T01:05:00Z"}
    assert quiet_client.post("/api/public/scores", json=moved, headers=project.headers).status_code == 200
    refresh(engine)
    moved |= {"value": 0.7, "timestamp": "2026-01-05T07:30:00Z"}
    assert quiet_client.post("/api/public/scores", json=moved, headers=project.headers).status_code == 200
    found = quiet_client.get("/api/public/scores?name=quality", headers=project.headers).json()["data"]
    victim = next(s["id"] for s in found if s["id"] != "moved")
    assert quiet_client.delete(f"/api/public/scores/{victim}", headers=project.headers).status_code in (200, 204)
    check(engine, project)


def test_deletion_and_retention(quiet_client: Any, engine: Any, project: Any, other_project: Any) -> None:
    seed(quiet_client, project, other_project)
    refresh(engine)
    for n in (2, 11):
        assert quiet_client.delete(f"/api/public/traces/{tid(n)}", headers=project.headers).status_code == 200
    check(engine, project)
    set_retention(engine, project.id, 1)
    deleted = apply_retention(engine, now=BASE_US + 25 * 3_600_000_000 + 86_400_000_000)
    assert deleted.get(project.id)
    check(engine, project)
