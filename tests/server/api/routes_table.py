"""The REST API's operations and their parameters, read from the app's own OpenAPI document.

Table-driven tests walk this rather than a hand-written list, so a route or a query parameter
added later is covered by them without anyone remembering to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__test__ = False

API = "/api/public"


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "integer" | "number" | "string" | "array" (of strings) | "boolean"
    required: bool
    description: str

    @property
    def is_time(self) -> bool:
        return "ISO 8601" in self.description


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the template, e.g. /api/public/traces/{traceId}
    query: list[Param] = field(default_factory=list)
    path_params: list[str] = field(default_factory=list)

    def url(self, values: dict[str, str]) -> str:
        """The path with each ``{param}`` replaced by ``values[param]`` (already URL-encoded)."""
        url = self.path
        for name in self.path_params:
            url = url.replace("{" + name + "}", values[name])
        return url

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _kind(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        kinds = [_kind(s) for s in schema["anyOf"] if s.get("type") != "null"]
        return kinds[0] if kinds else "string"
    kind = schema.get("type", "string")
    return str(kind)


def operations(client: Any) -> list[Operation]:
    """Every operation of the public API under ``/api/public`` (ingestion excluded)."""
    document = client.get(f"{API}/openapi.json").json()
    found = []
    for path, methods in document["paths"].items():
        if not path.startswith(API) or "/otel/" in path:
            continue
        for method, op in methods.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            params = op.get("parameters", [])
            query = [
                Param(p["name"], _kind(p.get("schema", {})), bool(p.get("required")), p.get("description", ""))
                for p in params
                if p["in"] == "query"
            ]
            found.append(Operation(method, path, query, [p["name"] for p in params if p["in"] == "path"]))
    return found
