"""The OpenAPI document declares what the server really answers: statuses, error schema, auth scheme.

The walk checks the document's shape; the probes then send every operation the requests a client
(or a fuzzer) gets wrong first — no key, a wrong key, unknown ids, invalid parameters, broken
bodies — and require every status that comes back to be declared for that operation.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

ERROR_REF = {"$ref": "#/components/schemas/Error"}
PUBLIC = ("/api/public/", "/v1/")


@pytest.fixture
def document(client: Any) -> dict[str, Any]:
    response = client.get("/api/public/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in document["paths"].items() for method, op in item.items()]


def test_no_operation_declares_422_and_errors_share_one_schema(document: dict[str, Any]) -> None:
    assert '"422"' not in json.dumps(document)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["message", "error"]
    for method, path, op in operations(document):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")) and (method, path, status) != ("get", "/api/public/health", "503"):
                assert response["content"]["application/json"]["schema"] == ERROR_REF, (method, path, status)
                assert response["description"], (method, path, status)
            if status in ("429", "503") and path != "/api/public/health":
                assert "Retry-After" in response["headers"], (method, path, status)


def test_every_operation_but_health_requires_basic_auth(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["basicAuth"] == {
        "type": "http",
        "scheme": "basic",
        "description": document["components"]["securitySchemes"]["basicAuth"]["description"],
    }
    public = [(m, p, op) for m, p, op in operations(document) if p.startswith(PUBLIC)]
    assert len(public) >= 40
    for method, path, op in public:
        if path == "/api/public/health":
            assert "security" not in op and "401" not in op["responses"]
            continue
        assert op["security"] == [{"basicAuth": []}], (method, path)
        assert {"401", "503"} <= set(op["responses"]), (method, path)


def test_statuses_raised_in_code_are_declared(document: dict[str, Any]) -> None:
    def statuses(method: str, path: str) -> set[str]:
        return set(document["paths"][path][method]["responses"])

    for path in ("/api/public/otel/v1/traces", "/v1/traces"):
        assert {"200", "400", "401", "413", "415", "429", "503"} <= statuses("post", path)
    assert "409" in statuses("post", "/api/public/models")  # raised by the route
    assert "404" in statuses("get", "/api/public/projects")  # no path parameter, raised via not_found()
    assert "404" in statuses("post", "/api/public/dataset-items")  # raised in a helper context manager
    assert {"204", "404"} <= statuses("delete", "/api/public/models/{model_id}")
    assert "200" not in statuses("delete", "/api/public/models/{model_id}")
    assert not {"408", "409", "413", "415", "429"} & statuses("get", "/api/public/traces/{traceId}")
    for method, path in (("post", "/api/public/scores"), ("delete", "/api/public/traces"), ("post", "/v1/traces")):
        assert {"408", "429"} <= statuses(method, path)  # the request-body limits, before the route runs


def _probe_requests(path: str, op: dict[str, Any], auth: dict[str, str]) -> list[dict[str, Any]]:
    """The requests sent to one operation: each a dict of httpx request arguments."""
    url = re.sub(r"\{[^}]+\}", "no-such-id", path)
    probes: list[dict[str, Any]] = [
        {"url": url},
        {"url": url, "headers": {"Authorization": "Basic bm9ib2R5Om5vdGhpbmc="}},  # nobody:nothing
        {"url": url, "headers": auth},
    ]
    for parameter in op.get("parameters", []):
        if parameter["in"] == "query":
            for bad in ("-1", "x", "", "9" * 30):
                probes.append({"url": url, "headers": auth, "params": {parameter["name"]: bad}})
    if "requestBody" in op or path.endswith("/traces"):
        for content, content_type in (
            (b"{}", "application/json"),
            (b"[]", "application/json"),
            (b"{not json", "application/json"),
            (b"hello", "text/plain"),
            (b'{"resourceSpans": [{}]}', "application/json"),
            (b"\x00\x01", "application/x-protobuf"),
        ):
            probes.append({"url": url, "headers": {**auth, "Content-Type": content_type}, "content": content})
    return probes


def test_every_status_the_probes_get_is_declared(app: Any, project: Any, document: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient

    undeclared = []
    # A 500 is a bug, never a documented answer: the fuzz tests (tests/fuzz) hunt those.
    client = TestClient(app, raise_server_exceptions=False)
    for method, path, op in operations(document):
        for probe in _probe_requests(path, op, project.headers):
            response = client.request(method.upper(), **probe)
            if response.status_code != 500 and str(response.status_code) not in op["responses"]:
                undeclared.append((method, path, probe, response.status_code, response.text[:200]))
            if 400 <= response.status_code != 500 and path != "/api/public/health":
                assert set(response.json()) == {"message", "error"}, (method, path, response.text)
    assert not undeclared, "\n".join(map(str, undeclared))
