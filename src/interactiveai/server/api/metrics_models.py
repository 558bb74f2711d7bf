"""Pydantic shapes of the metrics endpoints, for the OpenAPI document and the tests."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from interactiveai.server.api.models import Meta
from interactiveai.server.api.schemas import DATE_TIME
from interactiveai.server.query.metrics_base import GRANULARITIES
from interactiveai.server.query.metrics_query import AGGREGATIONS, DIMENSIONS, MAX_ROW_LIMIT, MEASURES


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DailyUsage(_Out):
    model: str | None
    inputUsage: int
    outputUsage: int
    totalUsage: int
    countObservations: int
    countTraces: int
    totalCost: float


class DailyMetric(_Out):
    date: str = Field(description="The UTC day, YYYY-MM-DD.")
    countTraces: int
    countObservations: int = Field(description="Observations of the day's traces.")
    totalCost: float = Field(description="USD, the day's traces.")
    usage: list[DailyUsage] = Field(description="Per model, observations that started that day.")


class DailyMetrics(_Out):
    data: list[DailyMetric]
    meta: Meta


class MetricsResult(_Out):
    data: list[dict[str, Any]] = Field(
        description='One row per group: dimensions by field name, "time_dimension" (ISO) when asked, and '
        '"<aggregation>_<measure>" per metric. Latency and timeToFirstToken in milliseconds, costs in USD.'
    )


# --- the query parameter of GET /metrics: a JSON document ------------------------------------------

_LIST_OPERATORS = ("any of", "none of", "all of")
_BOUND = 9_000_000_000_000_000_000  # numbers a filter compares with: within 64 bits (and finite)
_NUMBER = {"type": "number", "minimum": -_BOUND, "maximum": _BOUND}
_TEXT_OR_NUMBER = {"anyOf": [{"type": "string"}, _NUMBER]}  # a number compared with text columns as its text


def _filter(names: list[str], operators: tuple[str, ...], value: dict[str, Any]) -> dict[str, Any]:
    if all(op in _LIST_OPERATORS for op in operators):
        value = {"type": "array", "items": value}
    return {
        "type": "object",
        "required": ["column", "operator", "value"],
        "properties": {
            "column": {"type": "string", "enum": names},
            "operator": {"type": "string", "enum": list(operators)},
            "value": value,
        },
    }


def _view_schema(view: str) -> dict[str, Any]:
    dimensions = list(DIMENSIONS[view])
    measures = [m for m in MEASURES[view] if m != "count"]
    scalar, listed = ("=", "!=", ">", ">=", "<", "<="), ("any of", "none of")
    filters = [
        _filter(dimensions, scalar, _TEXT_OR_NUMBER),
        _filter(dimensions, listed, _TEXT_OR_NUMBER),
        _filter(measures, scalar, _NUMBER),
        _filter(measures, listed, _NUMBER),
    ]
    if view == "traces":
        filters.append(_filter(["tags"], ("any of", "all of", "none of"), _TEXT_OR_NUMBER))
    return {
        "properties": {
            "view": {"const": view},
            "dimensions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field"],
                    "properties": {"field": {"type": "string", "enum": dimensions}},
                },
            },
            "metrics": {
                "type": "array",
                "items": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["measure", "aggregation"],
                            "properties": {"measure": {"const": "count"}, "aggregation": {"const": "count"}},
                        },
                        {
                            "type": "object",
                            "required": ["measure", "aggregation"],
                            "properties": {
                                "measure": {"type": "string", "enum": measures},
                                "aggregation": {"type": "string", "enum": list(AGGREGATIONS)},
                            },
                        },
                    ]
                },
            },
            "filters": {"type": "array", "items": {"oneOf": filters}},
            "orderBy": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {  # one of the selected ones (a 400 otherwise)
                        "field": {
                            "type": "string",
                            "enum": [
                                *dimensions,
                                *(
                                    f"{aggregation}_{measure}"
                                    for measure in MEASURES[view]
                                    for aggregation in (["count"] if measure == "count" else AGGREGATIONS)
                                ),
                                "time_dimension",
                            ],
                        }
                    },
                },
            },
        }
    }


def metrics_query_schema() -> dict[str, Any]:
    """The JSON Schema of ``GET /metrics``'s ``query``: what ``metrics_query.parse_query`` accepts.

    Not expressible in it, and answered 400 with the rule: ``toTimestamp`` after ``fromTimestamp``
    and at most ``MAX_WINDOW_DAYS`` later, at most ``MAX_BUCKETS`` time buckets, and ``orderBy``
    naming a selected dimension or metric (``<aggregation>_<measure>``, or ``time_dimension``).
    """
    return {
        "type": "object",
        "required": ["view", "fromTimestamp", "toTimestamp"],
        "properties": {
            "view": {"type": "string", "enum": list(DIMENSIONS)},
            "fromTimestamp": DATE_TIME,
            "toTimestamp": DATE_TIME,
            "timeDimension": {
                "type": "object",
                "properties": {"granularity": {"type": "string", "enum": ["auto", *GRANULARITIES]}},
            },
            "orderBy": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field"],
                    "properties": {
                        "field": {"type": "string"},
                        "direction": {"type": "string", "enum": ["asc", "desc"]},
                    },
                },
            },
            "config": {
                "type": "object",
                "properties": {"row_limit": {"type": "integer", "minimum": 1, "maximum": MAX_ROW_LIMIT}},
            },
        },
        "oneOf": [_view_schema(view) for view in DIMENSIONS],
    }
