"""JSON Schema pieces of the OpenAPI document: each one states a rule the server checks.

The document must call valid exactly what the server accepts, so that a client (or a fuzzer)
generating requests from it is not refused, and what the server refuses is outside it. The
server keeps its own validation, which explains a broken rule in one sentence; these pieces only
document the rules (``WithJsonSchema`` and ``json_schema_extra`` change the schema, never what a
route accepts), and ``tests/server/api/test_openapi_constraints.py`` checks that both agree.

Patterns are ECMA-262 regular expressions, as JSON Schema reads them: ``\\s`` and ``\\w`` there
differ from Python's, so the characters Python's ``str.strip()`` removes are spelled out.
The rule that no string holds a NUL character is added to every string parameter and body
field in one place (``openapi.complete``), not here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Query
from pydantic import WithJsonSchema

NO_NUL_PATTERN = r"^[^\u0000]*$"
"""No NUL character: PostgreSQL cannot store one, so every text parameter and field refuses it
(``common.text_params``, ``writes/errors.checked_text``)."""

PY_SPACE = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""The characters ``str.isspace()`` calls whitespace (what ``str.strip()`` removes), as the body
of a character class."""

_YEAR = r"(?!0000)[0-9]{4}"
_DATE = _YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_TIME = r"[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
# The instants that a written date inside years 1-9999 can still put outside them in UTC: the
# first day with a positive offset, the last day with a negative one, and its leap second.
_IN_RANGE = (
    r"(?!0001-01-01[Tt][^+]*\+(?!00:00))"
    r"(?!9999-12-31[Tt][^-]*-(?!00:00))"
    r"(?!9999-12-31[Tt]23:59:60)"
)
DATE_TIME_PATTERN = "^" + _IN_RANGE + _DATE + _TIME + "$"
"""An RFC 3339 date-time whose instant lies in years 1-9999 UTC (``clock.parse_iso_to_us``), with
the exception of the first and last day's other offsets, which the pattern does not try to
compare with the time of day: ``0001-01-01T05:00:00+01:00`` is accepted but not documented, nor
are the other ISO 8601 forms the parser reads (a space for the ``T``, no offset meaning UTC)."""

DATE_TIME: dict[str, Any] = {"type": "string", "format": "date-time", "pattern": DATE_TIME_PATTERN}
"""A time: RFC 3339 (``2026-01-31T12:00:00Z``, any offset, fractions of a second) in years 1-9999."""

_SINCE_1970 = r"(?!0|1[0-8]|19[0-6])(?!1970-01-01[Tt][^+]*\+(?!00:00))"
START_DATE_PATTERN = "^" + _SINCE_1970 + _IN_RANGE + _DATE + "(" + _TIME + ")?$"
"""A model's ``startDate``: an RFC 3339 date or date-time from 1970-01-01 to 9999-12-31 UTC
(``costs.models.parse_start_date``)."""


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null (an optional body field may be sent as null)."""
    return {"anyOf": [schema, {"type": "null"}]}


def text(
    max_length: int | None = None,
    *,
    min_length: int = 0,
    pattern: str | None = None,
    optional: bool = True,
    **more: Any,
) -> WithJsonSchema:
    """The documented schema of a text body field: its length bounds and pattern; null when ``optional``."""
    schema: dict[str, Any] = {"type": "string", **more}
    if min_length:
        schema["minLength"] = min_length
    if max_length is not None:
        schema["maxLength"] = max_length
    if pattern is not None:
        schema["pattern"] = pattern
    return WithJsonSchema(nullable(schema) if optional else schema)


def choice(values: Iterable[str], *, optional: bool = True, empty: bool = False) -> WithJsonSchema:
    """The documented schema of a body field taking one of ``values`` (the server also takes them in
    any case); with ``empty``, also "" (read as absent: the default)."""
    schema: dict[str, Any] = {"type": "string", "enum": [*values, *([""] if empty else [])]}
    return WithJsonSchema(nullable(schema) if optional else schema)


def time_field() -> WithJsonSchema:
    """An optional RFC 3339 date-time body field."""
    return WithJsonSchema(nullable(DATE_TIME))


def time_query(description: str) -> Any:
    """An optional RFC 3339 date-time query parameter (``common.iso_param``)."""
    return Query(description=description, json_schema_extra=dict(DATE_TIME))


def enum_query(values: Iterable[str], description: str, **more: Any) -> Any:
    """An optional query parameter taking one of ``values``; the route still checks it (same 400 message)."""
    return Query(description=description, json_schema_extra={"enum": list(values)}, **more)


def pattern_query(pattern: str, description: str) -> Any:
    """An optional query parameter matching ``pattern``; the route still checks it (same 400 message)."""
    return Query(description=description, json_schema_extra={"pattern": pattern})
