"""Every route with a path parameter takes any character a stored id or name may hold.

Names and ids come from clients (ingestion, REST writes) and may hold a newline, a tab, other
control characters or "/" (all but NUL, which neither engine stores): whatever was accepted must
open by its detail route and its UI page. The routes are enumerated from the app itself, so a
route added later is checked too; then each kind of value is written and opened for real.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from starlette.routing import Match

from interactiveai.server.api import openapi
from tests.server.ingest.conftest import Ingest
from tests.server.ingest.otlp_builders import SpanSpec, span_id, trace_id
from tests.server.ui.conftest import member, ui  # noqa: F401  (fixtures)

API = "/api/public"
CONTROL = ["a\nb", "trailing\n", "\nleading", "\n", "a\rb", "a\tb", "\x01\x1f\x7f", "line\u2028sep", " spaced ", "éü"]
SLASHES = ["a/b", "a//b", "/lead", "trail/", "é/\n/ü"]  # "/runs/" inside a name: the raw path decides (datasets.py)


def _routes(app: Any) -> list[Any]:
    """Routes with path parameters (not mounts: /static serves files by their own names)."""
    return [r for r in openapi.all_routes(app) if getattr(r, "methods", None) and r.param_convertors]


def test_every_path_parameter_matches_every_character(app: Any) -> None:
    problems = []
    routes = _routes(app)
    assert len(routes) > 30  # API and UI
    for route in routes:
        method = sorted(route.methods or {"GET"})[0]
        for param, convertor in route.param_convertors.items():
            values = CONTROL + (SLASHES if type(convertor).__name__ != "StringConvertor" else [])
            for value in values:
                path = route.path_format
                for name in route.param_convertors:
                    path = path.replace("{" + name + "}", value if name == param else "x")
                scope = {"type": "http", "path": path, "method": method, "root_path": ""}
                match, child = route.matches(scope)
                got = child.get("path_params", {}).get(param)
                if match is not Match.FULL or got != value:
                    problems.append(f"{method} {route.path} {param}={value!r}: {match.name}, read {got!r}")
    assert not problems, "\n".join(problems)


@pytest.fixture
def written(client: Any, project: Any, ingest: Ingest) -> dict[str, str]:
    """One of each: a session, a user (ingested), a dataset, run, item and score (REST), named ``name``."""
    name = "line one\nline two\t\x01/x %00 %41"  # "%.." as text: decoded once, as a server does
    tid = trace_id()
    ingest.ok([SpanSpec(tid, span_id(), "root", attributes={"session.id": name, "user.id": name})])
    h = project.headers
    for path, body in [
        ("/datasets", {"name": name}),
        ("/dataset-items", {"datasetName": name, "id": name, "input": 1}),
        ("/dataset-run-items", {"runName": name, "datasetItemId": name, "traceId": tid}),
        ("/scores", {"id": name, "traceId": tid, "sessionId": None, "name": "n", "value": 1}),
    ]:
        response = client.post(API + path, json=body, headers=h)
        assert response.status_code == 200, f"{path}: {response.text}"
    return {"name": name, "trace": tid}


@pytest.fixture
def ingest(client: Any, engine: Any, project: Any) -> Ingest:
    return Ingest(client, engine, project)


def test_what_was_written_opens_by_its_api_route(client: Any, project: Any, written: dict[str, str]) -> None:
    enc = quote(written["name"], safe="")
    urls = [
        f"/sessions/{enc}",
        f"/datasets/{enc}",
        f"/v2/datasets/{enc}",
        f"/datasets/{enc}/runs",
        f"/datasets/{enc}/runs/{enc}",
        f"/dataset-items/{enc}",
        f"/scores/{enc}",
        f"/v2/scores/{enc}",
    ]
    problems = []
    for url in urls:
        response = client.get(API + url, headers=project.headers)
        if response.status_code != 200:
            problems.append(f"GET {url}: {response.status_code} {response.text[:200]}")
    assert not problems, "\n".join(problems)
    h = project.headers
    assert client.delete(f"{API}/datasets/{enc}/runs/{enc}", headers=h).status_code == 200
    assert client.delete(f"{API}/dataset-items/{enc}", headers=h).status_code == 200
    assert client.delete(f"{API}/scores/{enc}", headers=h).status_code == 200


def test_what_was_written_opens_by_its_ui_page(ui: Any, project: Any, written: dict[str, str]) -> None:  # noqa: F811
    base = f"/project/{project.id}"
    problems = []
    for kind in ("sessions", "users"):
        for suffix in ("", ".json"):
            for enc in (quote(written["name"], safe=""), quote(written["name"])):  # as linked: "/" left as is
                url = f"{base}/{kind}/{enc}{suffix}"
                response = ui.get(url)
                if response.status_code != 200:
                    problems.append(f"GET {url}: {response.status_code}")
                elif suffix and response.json().get("id") != written["name"]:
                    problems.append(f"GET {url}: another one, {response.json().get('id')!r}")
    assert not problems, "\n".join(problems)


def test_an_id_ending_in_dot_json_opens_its_page(ui: Any, project: Any, ingest: Ingest) -> None:  # noqa: F811
    """``/sessions/{id}.json`` is the JSON twin; a session or user whose id itself ends in ".json"
    still opens by its page, linked as is or with the dot encoded when both ids exist."""
    base = f"/project/{project.id}"
    ingest.ok([SpanSpec(trace_id(), span_id(), "r", attributes={"session.id": "report.json", "user.id": "u.json"})])
    for kind, name in (("sessions", "report.json"), ("users", "u.json")):
        page = ui.get(f"{base}/{kind}/{name}")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), kind
        assert ui.get(f"{base}/{kind}/{name}.json").json()["id"] == name
        assert ui.get(f"{base}/{kind}/{name[:-5]}%2Ejson").headers["content-type"].startswith("text/html")
        assert ui.get(f"{base}/{kind}/nothing.json").status_code == 404
    ingest.ok([SpanSpec(trace_id(), span_id(), "r", attributes={"session.id": "report", "user.id": "u"})])
    for kind, name in (("sessions", "report"), ("users", "u")):
        assert ui.get(f"{base}/{kind}/{name}.json").json()["id"] == name  # the twin, when both exist
        assert "text/html" in ui.get(f"{base}/{kind}/{name}%2Ejson").headers["content-type"]
