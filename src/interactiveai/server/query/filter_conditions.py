"""The ``filter`` query parameter of the trace and observation lists: JSON conditions → SQL.

The reference API takes a JSON list of ``{type, column, operator, value, key?}`` conditions (its
documented types: datetime, string, number, stringOptions, categoryOptions, arrayOptions,
stringObject, numberObject, booleanObject, boolean, null). :func:`parse_filter` checks every name,
operator and value against the tables below and raises ValueError naming what is wrong (the API
answers 400); the conditions then become SQLAlchemy Core expressions, so user text only ever
reaches SQL as a bound parameter. Values compared with an indexed identifier or name are bounded
as stored (``json_values.bound_key``/``bound_tag``), as the other list filters do.

Metadata is JSON text; ``json_member.py`` reads a member the same way on both engines. Negative
tests (``does not contain``, ``none of``, ``<>``, ``is not set``) also match rows without the
value, as the reference does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Float, String, and_, cast, exists, false, func, not_, null, or_, select, true

from interactiveai.server.clock import parse_iso_to_us
from interactiveai.server.json_values import bound_key, bound_tag, is_unicode
from interactiveai.server.query.json_member import compare, json_member_test, text_test
from interactiveai.server.storage.schema import (
    observations,
    observations_of_trace,
    observations_of_traces,
    scores,
    trace_tags,
    traces,
)

MAX_CONDITIONS = 50
# Bounds that keep every filter the document allows inside a URL the HTTP server reads (16 KiB of
# request line and headers) and far below both engines' bound-parameter and LIKE-pattern limits.
MAX_OPTIONS = 100  # values of one options condition
MAX_TEXT = 1_000  # characters of a compared text
MAX_KEY = 200  # characters of a metadata key or score name

OPERATORS: dict[str, tuple[str, ...]] = {
    "datetime": (">", "<", ">=", "<="),
    "string": ("=", "contains", "does not contain", "starts with", "ends with"),
    "stringOptions": ("any of", "none of"),
    "categoryOptions": ("any of", "none of"),
    "arrayOptions": ("any of", "none of", "all of"),
    "number": ("=", "!=", ">", "<", ">=", "<="),
    "stringObject": ("=", "contains", "does not contain", "starts with", "ends with", "is set", "is not set"),
    "numberObject": ("=", "!=", ">", "<", ">=", "<="),
    "booleanObject": ("=", "<>"),
    "boolean": ("=", "<>"),
    "null": ("is null", "is not null"),
}
_KEYED = ("stringObject", "numberObject", "booleanObject")  # categoryOptions takes a key on keyed columns


@dataclass(frozen=True, slots=True)
class Condition:
    type: str
    column: str
    operator: str
    value: Any
    key: str | None = None


@dataclass(frozen=True, slots=True)
class _Column:
    """A filterable column: its kind (which condition types it takes), expression and unit."""

    kind: str  # text, key (indexed text), datetime, number, boolean, tags, metadata, score_*, trace
    expr: Any = None
    scale: float = 1.0  # a number value times this is in the column's unit (seconds → microseconds)
    trace_column: str | None = None  # kind "trace": an observation's condition on its trace's column


_TYPES_OF_KIND: dict[str, tuple[str, ...]] = {
    "text": ("string", "stringOptions", "categoryOptions", "null"),
    "key": ("string", "stringOptions", "categoryOptions", "null"),
    "datetime": ("datetime", "null"),
    "number": ("number", "null"),
    "boolean": ("boolean",),
    "tags": ("arrayOptions", "stringOptions"),
    "metadata": ("stringObject", "numberObject", "booleanObject", "categoryOptions"),
    "score_numbers": ("numberObject",),
    "score_categories": ("categoryOptions",),
    "score_booleans": ("booleanObject",),
}

_t, _o = traces.c, observations.c
_SECONDS = 1_000_000.0
_ABSENT_TEXT = cast(null(), String)  # a documented column this server does not store (prompts)
_ABSENT_NUMBER = cast(null(), Float)

TRACE_COLUMNS: dict[str, _Column] = {
    "id": _Column("key", _t.id),
    "name": _Column("key", _t.name),
    "timestamp": _Column("datetime", _t.timestamp_us),
    "userId": _Column("key", _t.user_id),
    "sessionId": _Column("key", _t.session_id),
    "environment": _Column("text", _t.environment),
    "version": _Column("key", _t.version),
    "release": _Column("key", _t.release),
    "level": _Column("text", _t.level),
    "tags": _Column("tags"),
    "bookmarked": _Column("boolean", _t.bookmarked),
    "public": _Column("boolean", _t.public),
    "metadata": _Column("metadata", _t.metadata),
    "latency": _Column("number", _t.latency_us, _SECONDS),
    "observationCount": _Column("number", _t.observation_count),
    "inputTokens": _Column("number", _t.input_tokens),
    "outputTokens": _Column("number", _t.output_tokens),
    "totalTokens": _Column("number", _t.total_tokens),
    "tokens": _Column("number", _t.total_tokens),
    # a trace without a priced call costs 0, as the reference sums it
    "inputCost": _Column("number", func.coalesce(_t.input_cost, 0.0)),
    "outputCost": _Column("number", func.coalesce(_t.output_cost, 0.0)),
    "totalCost": _Column("number", func.coalesce(_t.total_cost, 0.0)),
    "errorCount": _Column("number", _t.error_count),
    "warningCount": _Column("number", _t.warning_count),
    "defaultCount": _Column("number", _t.default_count),
    "debugCount": _Column("number", _t.debug_count),
    "scores_avg": _Column("score_numbers"),
    "scores": _Column("score_numbers"),
    "score_categories": _Column("score_categories"),
    "score_booleans": _Column("score_booleans"),
}

_duration = _o.end_time_us - _o.start_time_us
OBSERVATION_COLUMNS: dict[str, _Column] = {
    "id": _Column("key", _o.id),
    "type": _Column("text", _o.type),
    "name": _Column("key", _o.name),
    "traceId": _Column("key", _o.trace_id),
    "parentObservationId": _Column("key", _o.parent_observation_id),
    "startTime": _Column("datetime", _o.start_time_us),
    "endTime": _Column("datetime", _o.end_time_us),
    "completionStartTime": _Column("datetime", _o.completion_start_time_us),
    "environment": _Column("text", _o.environment),
    "level": _Column("text", _o.level),
    "statusMessage": _Column("text", _o.status_message),
    "version": _Column("key", _o.version),
    "model": _Column("key", _o.model),
    "providedModelName": _Column("key", _o.model),
    "metadata": _Column("metadata", _o.metadata),
    "latency": _Column("number", _duration, _SECONDS),
    "timeToFirstToken": _Column("number", _o.completion_start_time_us - _o.start_time_us, _SECONDS),
    "tokensPerSecond": _Column("number", _o.output_tokens * _SECONDS / func.nullif(_duration, 0)),
    "inputTokens": _Column("number", _o.input_tokens),
    "outputTokens": _Column("number", _o.output_tokens),
    "totalTokens": _Column("number", _o.total_tokens),
    "tokens": _Column("number", _o.total_tokens),
    "inputCost": _Column("number", func.coalesce(_o.input_cost, 0.0)),
    "outputCost": _Column("number", func.coalesce(_o.output_cost, 0.0)),
    "totalCost": _Column("number", func.coalesce(_o.total_cost, 0.0)),
    "promptName": _Column("text", _ABSENT_TEXT),
    "promptVersion": _Column("number", _ABSENT_NUMBER),
    "userId": _Column("trace", trace_column="userId"),
    "sessionId": _Column("trace", trace_column="sessionId"),
    "traceName": _Column("trace", trace_column="name"),
    "traceEnvironment": _Column("trace", trace_column="environment"),
    "traceTags": _Column("trace", trace_column="tags"),
}

VIEWS = {"traces": TRACE_COLUMNS, "observations": OBSERVATION_COLUMNS}


def columns_taking(view: str) -> dict[tuple[str, bool], list[str]]:
    """Per condition type and whether it takes a key: the columns of ``view`` it applies to (the
    OpenAPI document states the same rules as :func:`parse_filter`)."""
    result: dict[tuple[str, bool], list[str]] = {}
    for name, column in VIEWS[view].items():
        kind = TRACE_COLUMNS[column.trace_column].kind if column.trace_column else column.kind
        for condition_type in _TYPES_OF_KIND[kind]:
            keyed = condition_type in _KEYED or kind in ("metadata", "score_categories")
            result.setdefault((condition_type, keyed), []).append(name)
    return result


# --- parsing --------------------------------------------------------------------------------------


def parse_filter(text: str | None, view: str) -> list[Condition]:
    """The conditions of a ``filter`` parameter for ``view`` (traces or observations); none when
    absent or blank. Raises ValueError with a message that names the broken condition and rule."""
    if text is None or not text.strip():
        return []
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"filter must be a JSON list of conditions: {exc}") from None
    if not isinstance(document, list):
        raise ValueError("filter must be a JSON list of conditions {type, column, operator, value}")
    if len(document) > MAX_CONDITIONS:
        raise ValueError(f"filter has {len(document)} conditions; at most {MAX_CONDITIONS}")
    return [_condition(item, n, VIEWS[view]) for n, item in enumerate(document)]


def filtered_columns(conditions: Sequence[Condition]) -> set[str]:
    """The columns the conditions filter on: the reference drops a simple parameter on one of them."""
    return {c.column for c in conditions}


def names_traces(conditions: Sequence[Condition]) -> bool:
    """Whether the conditions select observations of named traces (``traceId`` = or any of):
    their observations are then read through the trace's key, and sorted after."""
    return any(c.column == "traceId" and c.operator in ("=", "any of") for c in conditions)


def _condition(item: Any, n: int, columns: dict[str, _Column]) -> Condition:
    where = f"filter condition {n + 1}"
    if not isinstance(item, dict):
        raise ValueError(f"{where} must be an object {{type, column, operator, value}}")
    kind, column_name, operator = (item.get(name) for name in ("type", "column", "operator"))
    if not isinstance(kind, str) or kind not in OPERATORS:
        raise ValueError(f"{where}: type must be one of {', '.join(OPERATORS)}")
    if not isinstance(column_name, str) or column_name not in columns:
        raise ValueError(f"{where}: column must be one of {', '.join(columns)}")
    column = columns[column_name]
    if column.kind == "trace":
        assert column.trace_column is not None
        column = TRACE_COLUMNS[column.trace_column]
    if kind not in _TYPES_OF_KIND[column.kind]:
        raise ValueError(f"{where}: column {column_name} takes type {' or '.join(_TYPES_OF_KIND[column.kind])}")
    operator = operator.lower() if isinstance(operator, str) else operator
    if operator not in OPERATORS[kind]:
        raise ValueError(f"{where}: a {kind} condition's operator must be one of {', '.join(OPERATORS[kind])}")
    key = item.get("key")
    keyed = kind in _KEYED or column.kind in ("metadata", "score_categories")
    if keyed:
        if key is None or key == "":
            raise ValueError(
                f"{where}: a {kind} condition on {column_name} needs a key (the metadata key or score name)"
            )
        key = _text(key, f"{where}: key", max_chars=MAX_KEY)
    value = _value(kind, operator, item.get("value"), where)
    return Condition(kind, column_name, operator, value, key if keyed else None)


def _value(kind: str, operator: str, value: Any, where: str) -> Any:
    if kind == "null" or operator in ("is set", "is not set"):
        return None
    if kind == "datetime":
        text = _text(value, f"{where}: value (an ISO 8601 date-time)")
        try:
            return parse_iso_to_us(text)
        except ValueError as exc:
            raise ValueError(f"{where}: value must be an ISO 8601 date-time: {exc}") from None
    if kind in ("number", "numberObject"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"{where}: value must be a finite number")
        if abs(value) > 1e300:
            raise ValueError(f"{where}: value must be at most 1e300 in size")
        return float(value)
    if kind in ("boolean", "booleanObject"):
        if not isinstance(value, bool):
            raise ValueError(f"{where}: value must be true or false")
        return value
    if kind in ("stringOptions", "categoryOptions", "arrayOptions"):
        if isinstance(value, str):  # one option, as some clients send it
            value = [value]
        if not isinstance(value, list) or len(value) > MAX_OPTIONS:
            raise ValueError(f"{where}: value must be a list of at most {MAX_OPTIONS} strings")
        return list(dict.fromkeys(_text(v, f"{where}: each value") for v in value))
    return _text(value, f"{where}: value")


def _text(value: Any, what: str, max_chars: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string")
    if len(value) > max_chars:
        raise ValueError(f"{what} must be at most {max_chars} characters")
    if "\x00" in value or not is_unicode(value):
        raise ValueError(f"{what} must be text without NUL characters or lone surrogates")
    return value


# --- conditions → SQL -----------------------------------------------------------------------------


def trace_filter_sql(project_id: str, conditions: Sequence[Condition]) -> list[ColumnElement[bool]]:
    """WHERE clauses over ``traces`` for the conditions (parsed for the traces view)."""
    return [_sql(project_id, c, TRACE_COLUMNS[c.column]) for c in conditions]


def observation_filter_sql(project_id: str, conditions: Sequence[Condition]) -> list[ColumnElement[bool]]:
    """WHERE clauses over ``observations``; conditions on the trace's columns go through its row."""
    result: list[ColumnElement[bool]] = []
    for c in conditions:
        column = OBSERVATION_COLUMNS[c.column]
        if column.kind == "trace":
            assert column.trace_column is not None
            on_trace = _sql(project_id, c, TRACE_COLUMNS[column.trace_column])
            result.append(observations_of_traces(project_id, on_trace))
        else:
            result.append(_sql(project_id, c, column))
    return result


def _sql(project_id: str, c: Condition, column: _Column) -> ColumnElement[bool]:
    if c.type == "null":
        expr = column.expr if column.kind != "tags" else _t.tags
        return expr.is_(None) if c.operator == "is null" else expr.is_not(None)
    builders: dict[str, Callable[[str, Condition, _Column], ColumnElement[bool]]] = {
        "text": _text_sql,
        "key": _text_sql,
        "datetime": lambda _p, c, col: compare(col.expr, c.operator, c.value),
        "number": lambda _p, c, col: compare(col.expr, c.operator, c.value * col.scale),
        "boolean": lambda _p, c, col: (col.expr == c.value) if c.operator == "=" else (col.expr != c.value),
        "tags": _tags_sql,
        "metadata": lambda _p, c, col: json_member_test(col.expr, c.key or "", c.type, c.operator, c.value),
        "score_numbers": _score_sql,
        "score_categories": _score_sql,
        "score_booleans": _score_sql,
    }
    return builders[column.kind](project_id, c, column)


def _text_sql(project_id: str, c: Condition, column: _Column) -> ColumnElement[bool]:
    expr = column.expr
    bound: Callable[[str], str] = bound_key if column.kind == "key" else (lambda v: v)
    if expr is _o.trace_id and (c.operator == "=" or c.operator == "any of"):
        # observations are keyed by their trace's creation time before its id: each trace's are
        # found through the key, never by scanning the project (schema.observations_of_trace)
        if c.operator == "=":
            return observations_of_trace(project_id, bound(c.value))
        return observations_of_traces(project_id, _t.id.in_([bound(v) for v in c.value])) if c.value else false()
    if c.type in ("stringOptions", "categoryOptions"):
        return _options(expr, c.operator, [bound(v) for v in c.value])
    return text_test(expr, c.operator, bound(c.value) if c.operator == "=" else c.value)


def _options(expr: Any, operator: str, values: list[str]) -> ColumnElement[bool]:
    if operator == "any of":
        return expr.in_(values) if values else false()
    return or_(expr.is_(None), expr.not_in(values)) if values else true()


def _tags_sql(project_id: str, c: Condition, _column: _Column) -> ColumnElement[bool]:
    tags = list(dict.fromkeys(bound_tag(v) for v in c.value))

    def having(some: list[str]) -> ColumnElement[bool]:
        return exists(
            select(trace_tags.c.trace_id).where(
                trace_tags.c.project_id == project_id,
                trace_tags.c.tag.in_(some),
                trace_tags.c.trace_created_at_us == _t.created_at_us,
                trace_tags.c.trace_id == _t.id,
            )
        )

    if not tags:
        return false() if c.operator == "any of" else true()
    if c.operator == "all of":
        return and_(*(having([tag]) for tag in tags))
    return having(tags) if c.operator == "any of" else not_(having(tags))


def _score_sql(project_id: str, c: Condition, column: _Column) -> ColumnElement[bool]:
    s = scores.c
    of_trace = (s.project_id == project_id, s.trace_id == _t.id, s.name == bound_key(c.key or ""))
    if column.kind == "score_numbers":
        average = select(func.avg(s.value)).where(*of_trace, s.data_type.in_(("NUMERIC", "BOOLEAN")))
        return compare(average.scalar_subquery(), c.operator, c.value)
    if column.kind == "score_categories":
        found = exists(select(s.id).where(*of_trace, s.data_type == "CATEGORICAL", s.string_value.in_(c.value)))
    else:
        found = exists(select(s.id).where(*of_trace, s.data_type == "BOOLEAN", s.value == (1.0 if c.value else 0.0)))
    return found if c.operator in ("any of", "=") else not_(found)
