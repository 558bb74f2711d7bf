"""Tests on one member of a JSON object stored as text (metadata), the same on both engines.

``json_member_test(document, key, kind, operator, value)`` is one SQL construct compiled per
engine: SQLite reads the member with ``json_extract`` (``json_type`` tells its type), PostgreSQL
with ``jsonb`` through ``interactiveai_try_jsonb`` (migration 0007), which reads text that is not
JSON as NULL instead of failing the whole list, and only for rows whose text can hold the key.
A member reads as text the way both engines agree (a string as itself, true/false as
``"true"``/``"false"``, a number as its digits, an object or list as its JSON), and as a number
when it is a JSON number or a string holding a plain decimal number. A missing member, or JSON
null, is no value: it fails every positive test and passes every negative one.

Also here, because the filters of both kinds share them: :func:`compare` and :func:`text_test`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Numeric, String, and_, case, cast, func, literal, not_, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

# A decimal number PostgreSQL's numeric reads without overflowing (exponent of at most 3 digits).
_DECIMAL = r"^\s*-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]{1,3})?\s*$"


def compare(expr: Any, operator: str, value: Any) -> ColumnElement[bool]:
    """``expr <operator> value`` for the comparison operators of the filter conditions."""
    tests: dict[str, Callable[[], ColumnElement[bool]]] = {
        "=": lambda: expr == value,
        "!=": lambda: expr != value,
        ">": lambda: expr > value,
        "<": lambda: expr < value,
        ">=": lambda: expr >= value,
        "<=": lambda: expr <= value,
    }
    return tests[operator]()


def text_test(expr: Any, operator: str, value: str) -> ColumnElement[bool]:
    """A string condition (``=``, contains, does not contain, starts with, ends with) on a text
    expression; the matching ignores case, and a NULL contains nothing."""
    if operator == "=":
        result: ColumnElement[bool] = expr == value
        return result
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    patterns = {"contains": f"%{escaped}%", "does not contain": f"%{escaped}%", "starts with": f"{escaped}%"}
    matches = expr.ilike(patterns.get(operator, f"%{escaped}"), escape="\\")
    return or_(expr.is_(None), not_(matches)) if operator == "does not contain" else matches


class _MemberTest(ColumnElement[bool]):
    """See :func:`json_member_test`; compiled by the functions below, per engine."""

    inherit_cache = False  # the key and value shape the SQL: such statements are not cached
    type = Boolean()

    def __init__(self, document: Any, key: str, kind: str, operator: str, value: Any) -> None:
        self.document, self.member_key, self.kind, self.operator, self.value = document, key, kind, operator, value

    @property
    def _from_objects(self) -> list[Any]:
        return list(self.document._from_objects)

    def test(self, text: ColumnElement[Any], number: ColumnElement[Any], number_value: Any) -> ColumnElement[bool]:
        """The condition on the member read as ``text`` and as ``number`` (SQL expressions)."""
        operator, value = self.operator, self.value
        if operator in ("is set", "is not set"):
            return text.is_not(None) if operator == "is set" else text.is_(None)
        if self.kind == "numberObject":
            return compare(number, operator, number_value)
        if self.kind == "booleanObject":
            expected = "true" if value else "false"
            lowered = func.lower(text)
            return lowered == expected if operator == "=" else or_(lowered.is_(None), lowered != expected)
        if self.kind == "categoryOptions":
            if operator == "any of":
                return text.in_(value)
            return or_(text.is_(None), text.not_in(value)) if value else literal(True)
        return text_test(text, operator, value)


def json_member_test(document: Any, key: str, kind: str, operator: str, value: Any) -> ColumnElement[bool]:
    """A condition of type ``kind`` (stringObject, numberObject, booleanObject, categoryOptions)
    on the member ``key`` of the JSON object held as text in ``document``."""
    return _MemberTest(document, key, kind, operator, value)


@compiles(_MemberTest, "sqlite")
def _sqlite(element: _MemberTest, compiler: SQLCompiler, **kw: Any) -> str:
    doc = element.document
    path = literal('$."' + element.member_key.replace("\\", "\\\\").replace('"', '\\"') + '"', String)
    member, member_type = func.json_extract(doc, path), func.json_type(doc, path)
    # json_extract and json_type raise on malformed JSON: one odd row must not fail the list
    valid = func.json_valid(doc) == 1
    text = case(
        (valid, case((member_type == "true", "true"), (member_type == "false", "false"), else_=cast(member, String))),
        else_=None,
    )
    # a string holding a number: json_type would raise on a string that is not JSON, so it is asked second
    numeric_text = case(
        (func.json_valid(member) == 1, case((func.json_type(member).in_(("integer", "real")), cast(member, Numeric)))),
        else_=None,
    )
    number = case(
        (
            valid,
            case((member_type.in_(("integer", "real")), member), (member_type == "text", numeric_text), else_=None),
        ),
        else_=None,
    )
    return compiler.process(element.test(text, number, element.value), **kw)


@compiles(_MemberTest, "postgresql")
def _postgresql(element: _MemberTest, compiler: SQLCompiler, **kw: Any) -> str:
    doc = element.document
    # jsonb refuses the escape \u0000 (a string may hold NUL): \ufffd in its place keeps it JSON
    parsed = func.interactiveai_try_jsonb(func.replace(doc, "\\u0000", "\\ufffd"))
    member = func.jsonb_extract_path(parsed, element.member_key)
    member_text = func.jsonb_extract_path_text(parsed, element.member_key)
    # parse only rows whose text can hold the key: quoted as it is, or escaped (then a backslash shows)
    can_hold = or_(func.strpos(doc, f'"{element.member_key}"') > 0, func.strpos(doc, "\\") > 0)
    text = case((can_hold, member_text), else_=None)
    member_type = func.jsonb_typeof(member)
    as_number = case(
        (member_type == "number", cast(member_text, Numeric)),
        (and_(member_type == "string", member_text.regexp_match(_DECIMAL)), cast(member_text, Numeric)),
        else_=None,
    )
    number = case((can_hold, as_number), else_=None)
    # numeric on both sides: a huge stored number never overflows a float comparison
    value = cast(literal(element.value), Numeric) if element.kind == "numberObject" else element.value
    return compiler.process(element.test(text, number, value), **kw)
