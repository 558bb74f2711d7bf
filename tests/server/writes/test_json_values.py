"""json_values: the nesting bound every stored JSON value keeps, and what becomes of deeper ones."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from interactiveai.server import json_values as jv


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def test_the_bound_leaves_room_for_what_readers_wrap_around_a_value() -> None:
    at_limit = nested(jv.MAX_DEPTH)
    assert jv.renderable(at_limit) and not jv.renderable(nested(jv.MAX_DEPTH + 1))
    wrapped: Any = {"data": [{"observations": [{"input": at_limit}]}]}
    orjson.dumps(wrapped)  # what the API writes around a stored value


@pytest.mark.parametrize("value", [2**64, "\ud800", {"\udfff": 1}, nested(300), {1: nested(jv.MAX_DEPTH)}])
def test_renderable_refuses_what_orjson_cannot_write(value: Any) -> None:
    assert not jv.renderable(value)


def test_parse_keeps_deep_json_as_text() -> None:
    deep = "[" * 300 + "]" * 300
    assert jv.parse(deep) == deep and jv.parse(deep.encode()) == deep
    assert jv.parse('{"a": ' + deep + ', "b": [1]}') == {"a": "[" * 300 + "]" * 300, "b": [1]}
    shallow = orjson.dumps(nested(jv.MAX_DEPTH)).decode()
    assert jv.parse(shallow) == nested(jv.MAX_DEPTH)
    assert jv.parse('{"n": 18446744073709551616}') == {"n": 18446744073709551616.0}  # orjson: a float
    with pytest.raises(orjson.JSONDecodeError):
        jv.parse("[" * 5000 + "]" * 5000)  # deeper than orjson reads: not JSON to it (readers keep the text)


def test_stored_text() -> None:
    deep = "[" * 100 + "]" * 100
    assert jv.stored_text("[1, 2]") == "[1, 2]"  # as received, byte for byte
    assert jv.stored_text("not json") == "not json"
    assert orjson.loads(jv.stored_text(deep)) == deep
    assert orjson.loads(jv.stored_text('{"a": ' + deep + "}")) == {"a": deep}


def test_dumps_never_raises() -> None:
    assert jv.dumps({"a": 1}) == '{"a":1}'
    assert jv.dumps(b"\x00bytes") == orjson.dumps(str(b"\x00bytes")).decode()
    assert jv.dumps({1: float("nan")}) == '{"1":null}'
    deep = orjson.loads(jv.dumps({"deep": nested(100), "fine": [1]}))
    assert deep["fine"] == [1] and isinstance(deep["deep"], str) and deep["deep"].startswith("[[[")
    top = orjson.loads(jv.dumps(nested(100)))
    assert isinstance(top, str)
    assert orjson.loads(jv.dumps(nested(5000)))  # deeper than Python's json writes: described


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (nested(jv.MAX_DEPTH + 1), "nests deeper"),
        ({"a": nested(jv.MAX_DEPTH)}, "nests deeper"),
        (2**63, "64 bits"),
        (-(2**63), "64 bits"),
        ([float("nan")], "NaN"),
        ({"a": float("-inf")}, "NaN"),
        ("\ud800", "surrogate"),
        ({"\udc00": 1}, "surrogate"),
        ({"a": {1, 2}}, "type set"),
    ],
)
def test_json_problem(value: Any, problem: str) -> None:
    found = jv.json_problem(value)
    assert found is not None and problem in found


@pytest.mark.parametrize(
    "value", [nested(jv.MAX_DEPTH), 2**63 - 1, -(2**63) + 1, 1e308, "a\x00b", {"😀": None}, True, [], {}]
)
def test_json_problem_accepts_what_readers_render(value: Any) -> None:
    assert jv.json_problem(value) is None
    assert jv.renderable(value)
