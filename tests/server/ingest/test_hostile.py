"""Hostile attribute values on every recognised key: stored or rejected with a 4xx, never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.ingest.keys import FAMILIES, KEYS
from tests.server.ingest.conftest import Ingest
from tests.server.ingest.otlp_builders import SpanSpec, span_id, trace_id

WEIRD_VALUES: list[Any] = [
    "",
    "null",
    "[",
    '{"a": ',
    "not json at all",
    '"just a string"',
    "-",
    "1e309",
    '[1, 2, {"x": [null]}]',
    '{"input": "NaN", "output": -5, "total": "x"}',
    '{"nested": {"deep": {"deeper": [1, 2, 3]}}}',
    2**62,
    -1,
    0,
    3.5,
    float("nan"),
    float("inf"),
    True,
    False,
    [],
    ["a", 1, 2.5, True],
    [["nested"], ["lists"]],
    {"k": {"v": [1, {"w": "x"}]}},
    b"\x00\xff binary",
    "x" * 50_000,
]


@pytest.mark.parametrize("value_index", range(len(WEIRD_VALUES)))
def test_weird_values_on_every_key(ingest: Ingest, value_index: int) -> None:
    value = WEIRD_VALUES[value_index]
    keys = [*KEYS, *(prefix + "0.content" for prefix in FAMILIES), *(prefix + "total_tokens" for prefix in FAMILIES)]
    tid = trace_id()
    spans = [SpanSpec(tid, span_id(), f"s{i}", attributes={key: value}) for i, key in enumerate(keys)]
    for scope in ("interactiveai", "third.party"):
        response = ingest.post(spans, scope=scope)
        assert response.status_code in (200, 400), response.text
    response = ingest.post(spans, fmt="json")
    assert response.status_code in (200, 400), response.text
    trace = ingest.trace(tid)
    assert trace is not None and trace["observation_count"] == len(keys)


def test_all_keys_weird_at_once(ingest: Ingest) -> None:
    tid = trace_id()
    spans = [
        SpanSpec(
            tid, span_id(), "all", attributes={key: WEIRD_VALUES[i % len(WEIRD_VALUES)] for i, key in enumerate(KEYS)}
        )
        for _ in range(3)
    ]
    response = ingest.post(spans, scope="third.party")
    assert response.status_code in (200, 400), response.text
