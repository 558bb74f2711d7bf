from __future__ import annotations

from typing import Any

EXPECTED = {
    ("get", "/api/public/health"),
    ("get", "/api/public/projects"),
    ("get", "/api/public/traces"),
    ("get", "/api/public/traces/{traceId}"),
    ("get", "/api/public/observations"),
    ("get", "/api/public/observations/{observationId}"),
    ("get", "/api/public/sessions"),
    ("get", "/api/public/sessions/{sessionId}"),
    ("post", "/api/public/scores"),
    ("get", "/api/public/scores"),
    ("get", "/api/public/scores/{scoreId}"),
    ("delete", "/api/public/scores/{scoreId}"),
    ("get", "/api/public/v2/scores"),
    ("get", "/api/public/v2/scores/{scoreId}"),
    ("post", "/api/public/score-configs"),
    ("get", "/api/public/score-configs"),
    ("get", "/api/public/score-configs/{configId}"),
    ("patch", "/api/public/score-configs/{configId}"),
    ("delete", "/api/public/traces/{traceId}"),
    ("delete", "/api/public/traces"),
    ("get", "/api/public/models"),
    ("post", "/api/public/models"),
    ("get", "/api/public/datasets"),
    ("post", "/api/public/datasets"),
    ("post", "/api/public/dataset-items"),
    ("get", "/api/public/dataset-items"),
    ("post", "/api/public/dataset-run-items"),
    ("get", "/api/public/dataset-run-items"),
}


def test_every_route_is_documented_with_a_summary_tag_and_schema(client: Any) -> None:
    response = client.get("/api/public/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    operations = {(method, path): op for path, item in spec["paths"].items() for method, op in item.items()}
    assert EXPECTED <= set(operations)
    for key in EXPECTED:
        op = operations[key]
        assert op.get("summary") and op.get("tags"), key
        if key[0] in ("get", "post", "patch", "delete"):
            assert op["responses"]["200"]["content"]["application/json"]["schema"], key
        if key[0] in ("post", "patch"):
            assert op["requestBody"]["content"]["application/json"]["schema"], key
    trace = spec["components"]["schemas"]["Trace"]["properties"]
    assert {"latency", "totalCost", "levelCounts", "observationCount", "htmlPath"} <= set(trace)


def test_docs_page(client: Any) -> None:
    response = client.get("/api/public/docs")
    assert response.status_code == 200 and "openapi.json" in response.text
