"""Pydantic models shared by the API's JSON shapes: the OpenAPI document and the tests use them.

Field names are the wire names (camelCase), compatible with the reference platform's public
API so existing clients work. Output models forbid extra fields, so a test that validates a
response against its model catches any drift between the serialisers and the documentation.
Each resource has its own module (``traces_models``, ``scores_models``, ``datasets_models``,
``metrics_models``); this one holds the shapes they share and the base of every request body.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from interactiveai.server.writes.errors import MAX_NUMBER


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Meta(_Out):
    """Paging of a list. ``totalItems`` is exact when at most max(1000, page × limit) rows match;
    otherwise it is that bound plus one, a lower bound, and ``totalPages`` is beyond ``page``."""

    page: int
    limit: int
    totalItems: int
    totalPages: int


class Health(_Out):
    status: str
    version: str
    message: str | None = None


class Organization(_Out):
    id: str
    name: str


class Project(_Out):
    id: str
    name: str
    organization: Organization  # a server is one organization: the same for every project
    metadata: dict[str, Any]
    retentionDays: int | None


class Projects(_Out):
    data: list[Project]


class CreatedId(_Out):
    id: str


class CreatedIds(_Out):
    data: list[CreatedId]


class Message(_Out):
    message: str


# --- request bodies ----------------------------------------------------------------------------
#
# They only document the bodies: the write layer validates them and answers each broken rule with
# one sentence (a 400), so their fields keep loose types and state their rules as JSON Schema
# (api/schemas.py). Rules that depend on stored rows are said in the descriptions, and answered 400
# or 404 by the server.

FINITE: dict[str, Any] = {"type": "number", "minimum": -MAX_NUMBER, "maximum": MAX_NUMBER}
"""A number the write layer stores (``writes/errors.finite_number``)."""
_NON_EMPTY = {"type": "string", "minLength": 1}


def given(*names: str) -> dict[str, Any]:
    """A JSON Schema condition: each of ``names`` is present as a non-empty string."""
    return {"required": list(names), "properties": {name: _NON_EMPTY for name in names}}


def one_of_given(*names: str) -> dict[str, Any]:
    """A JSON Schema rule: at least one of ``names`` is present as a non-empty string."""
    return {"anyOf": [given(name) for name in names]}


def requires(name: str, other: str) -> dict[str, Any]:
    """A JSON Schema rule: when ``name`` is a non-empty string, so is ``other``."""
    return {"if": given(name), "then": given(other)}


def documented(*examples: dict[str, Any], rules: list[dict[str, Any]] | None = None) -> ConfigDict:
    """The config of a documented request body: unknown fields ignored, the body's cross-field
    ``rules`` (JSON Schema, under ``allOf``) and complete ``examples``, which the server accepts
    (tests/server/api/test_openapi_constraints.py sends them)."""

    def extra(schema: dict[str, Any]) -> None:
        # absent means "not given"; a `default: null` would read as a value to send, which some fields refuse
        for field in schema.get("properties", {}).values():
            if field.get("default", 0) is None:
                del field["default"]
        if rules:
            schema["allOf"] = rules
        if examples:
            schema["examples"] = list(examples)

    return ConfigDict(extra="ignore", json_schema_extra=extra)


class Body(BaseModel):
    """A documented request body: unknown fields are ignored."""

    model_config = documented()
