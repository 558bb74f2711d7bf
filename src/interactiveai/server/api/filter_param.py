"""The ``filter`` query parameter of ``GET /traces`` and ``GET /observations``, as documented.

A JSON list of conditions (the reference API's ``filter``), parsed by
``query/filter_conditions.parse_filter``; this module states the same rules as JSON Schema in the
OpenAPI document (OpenAPI's ``content`` describes a JSON document in a parameter), built from the
same tables, so every condition the document calls valid is accepted.
"""

from __future__ import annotations

from typing import Any

from interactiveai.server.api.schemas import DATE_TIME, NO_NUL_PATTERN
from interactiveai.server.query.filter_conditions import (
    MAX_CONDITIONS,
    MAX_KEY,
    MAX_OPTIONS,
    MAX_TEXT,
    OPERATORS,
    columns_taking,
)

_TEXT = {"type": "string", "maxLength": MAX_TEXT, "pattern": NO_NUL_PATTERN}
_VALUES: dict[str, dict[str, Any]] = {
    "datetime": DATE_TIME,
    "string": _TEXT,
    "stringOptions": {"type": "array", "maxItems": MAX_OPTIONS, "items": _TEXT},
    "categoryOptions": {"type": "array", "maxItems": MAX_OPTIONS, "items": _TEXT},
    "arrayOptions": {"type": "array", "maxItems": MAX_OPTIONS, "items": _TEXT},
    "number": {"type": "number", "minimum": -1e300, "maximum": 1e300},
    "stringObject": _TEXT,
    "numberObject": {"type": "number", "minimum": -1e300, "maximum": 1e300},
    "booleanObject": {"type": "boolean"},
    "boolean": {"type": "boolean"},
}
_NO_VALUE = ("is null", "is not null", "is set", "is not set")


def _branch(condition_type: str, keyed: bool, columns: list[str], operators: list[str]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "type": {"const": condition_type},
        "column": {"type": "string", "enum": columns},
        "operator": {"type": "string", "enum": operators},
    }
    required = ["type", "column", "operator"]
    if not set(operators) & set(_NO_VALUE):
        properties["value"] = _VALUES[condition_type]
        required.append("value")
    if keyed:
        properties["key"] = {"type": "string", "minLength": 1, "maxLength": MAX_KEY, "pattern": NO_NUL_PATTERN}
        required.append("key")
    return {"type": "object", "required": required, "properties": properties}


def filter_schema(view: str) -> dict[str, Any]:
    """The JSON Schema of the ``filter`` parameter of the ``view`` list (traces or observations)."""
    branches = []
    for (condition_type, keyed), columns in columns_taking(view).items():
        operators = list(OPERATORS[condition_type])
        with_value = [o for o in operators if o not in _NO_VALUE]
        without_value = [o for o in operators if o in _NO_VALUE]
        for group in (with_value, without_value):
            if group:
                branches.append(_branch(condition_type, keyed, columns, group))
    return {"type": "array", "maxItems": MAX_CONDITIONS, "items": {"anyOf": branches}}


def filter_parameter(view: str) -> dict[str, Any]:
    """The OpenAPI parameter object (a route declares it with ``openapi_extra``)."""
    what = "trace" if view == "traces" else "observation"
    return {
        "name": "filter",
        "in": "query",
        "required": False,
        "description": (
            f"A JSON list of conditions on {what} columns, all of which must hold: "
            "`{type, column, operator, value, key?}` (its schema below; `key` names the metadata key or "
            "score name). A condition on a column replaces the simple parameter on that column. Strings "
            "compare ignoring case for contains/starts with/ends with; negative tests (does not contain, "
            "none of, <>, is not set) also match rows without a value. A malformed filter is a 400 naming "
            "the condition and the rule."
        ),
        "content": {"application/json": {"schema": filter_schema(view)}},
    }
