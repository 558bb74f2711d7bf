"""Helpers for ingestion tests: post OTLP exports through the app, read rows back from the database."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import select

from interactiveai.server.storage.payload_sharing import OBSERVATION_COLUMNS
from interactiveai.server.storage.schema import observations, trace_tags, traces
from tests.server.ingest.otlp_builders import ResourceSpec, SpanSpec, encode_json, encode_protobuf

PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}


class Ingest:
    """Posts exports as a project and reads back what was stored."""

    def __init__(self, client: Any, engine: Any, project: Any) -> None:
        self.client = client
        self.engine = engine
        self.project = project

    def post(
        self,
        spans: list[SpanSpec] | list[ResourceSpec],
        *,
        fmt: str = "protobuf",
        resource: dict[str, Any] | None = None,
        scope: str = "interactiveai",
        path: str = "/api/public/otel/v1/traces",
    ) -> Any:
        resources = self.resources(spans, resource=resource, scope=scope)
        if fmt == "protobuf":
            body, headers = encode_protobuf(resources), PROTOBUF
        else:
            body, headers = encode_json(resources), JSON
        return self.client.post(path, content=body, headers={**self.project.headers, **headers})

    def ok(self, spans: Any, **kwargs: Any) -> Any:
        response = self.post(spans, **kwargs)
        assert response.status_code == 200, response.text
        return response

    @staticmethod
    def resources(
        spans: list[SpanSpec] | list[ResourceSpec],
        *,
        resource: dict[str, Any] | None = None,
        scope: str = "interactiveai",
    ) -> list[ResourceSpec]:
        if spans and isinstance(spans[0], ResourceSpec):
            return list(spans)  # type: ignore[arg-type]
        attributes = resource if resource is not None else {"service.name": "test-service"}
        return [ResourceSpec(list(spans), attributes, scope)]  # type: ignore[arg-type]

    def trace(self, trace_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(traces).where(traces.c.project_id == self.project.id, traces.c.id == trace_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        result = dict(row)
        result["tags"] = orjson.loads(result["tags"])
        result["metadata"] = orjson.loads(result["metadata"])
        return result

    def observations(self, trace_id: str) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(  # payloads as readers see them (storage/payload_sharing.py)
                select(*OBSERVATION_COLUMNS).where(
                    observations.c.project_id == self.project.id, observations.c.trace_id == trace_id
                )
            ).mappings()
            result = {}
            for row in rows:
                item = dict(row)
                for column in ("metadata", "usage_details", "cost_details"):
                    item[column] = orjson.loads(item[column])
                result[item["id"]] = item
        return result

    def observation(self, trace_id: str, span_id: str) -> dict[str, Any]:
        return self.observations(trace_id)[span_id]

    def tags(self, trace_id: str) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(trace_tags.c.tag)
                .where(trace_tags.c.project_id == self.project.id, trace_tags.c.trace_id == trace_id)
                .order_by(trace_tags.c.tag)
            )
            return [r[0] for r in rows]


@pytest.fixture
def ingest(client: Any, engine: Any, project: Any) -> Ingest:
    return Ingest(client, engine, project)
