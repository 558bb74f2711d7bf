"""Display helpers: durations, costs, counts, payload previews and conversation turns."""

from __future__ import annotations

import json

from interactiveai.server.ui.formatting import (
    compact_json,
    fmt_compact,
    fmt_cost,
    fmt_duration,
    preview,
    score_text,
    turn_content,
)


def test_durations_and_costs() -> None:
    assert [fmt_duration(v) for v in (None, 250, 45_000, 1_450_000, 125_000_000, 4_000_000_000)] == [
        "—",
        "250µs",
        "45ms",
        "1.45s",
        "2m 5s",
        "1h 6m",
    ]
    assert [fmt_cost(v) for v in (None, 0, 2.5, 0.0123, 0.000029)] == ["—", "$0", "$2.50", "$0.0123", "$0.000029"]
    assert fmt_cost(0.0000004) == "$4.0e-07"  # never "$0." for a tiny cost
    assert [fmt_compact(v) for v in (950, 10_000, 2_500_000)] == ["950", "10k", "2.5M"]


def test_previews_read_text_not_json() -> None:
    assert preview(json.dumps("plain string")) == "plain string"
    assert preview(json.dumps({"question": "Why?"})) == "Why?"
    chat = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi there"}]
    assert preview(json.dumps(chat)) == "hi there"
    assert preview(json.dumps({"choices": [{"message": {"role": "assistant", "content": "ok"}}]})) == "ok"
    assert preview('{"truncated": "JSON cut at the prefi') == '{"truncated": "JSON cut at the prefi'
    assert len(preview(json.dumps("x" * 1000))) == 160


def test_previews_read_sdk_call_inputs() -> None:
    assert preview(json.dumps({"args": ["What is the answer?"], "kwargs": {}})) == "What is the answer?"
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi there"}]
    assert preview(json.dumps({"args": [], "kwargs": {"messages": messages}})) == "hi there"
    assert preview(json.dumps({"args": [1, 2], "kwargs": {}})) == '{"args": [1, 2], "kwargs": {}}'


def test_turns_and_metadata() -> None:
    assert turn_content(None) == ("empty", "")
    assert turn_content(json.dumps({"answer": "Paris"})) == ("text", "Paris")
    kind, text = turn_content(json.dumps({"a": 1, "b": [2]}))
    assert kind == "json" and json.loads(text) == {"a": 1, "b": [2]}
    assert compact_json(json.dumps({"customer": "acme", "tier": 2})) == "customer: acme · tier: 2"


def test_score_text() -> None:
    assert score_text({"value": 0.75, "data_type": "NUMERIC"}) == "0.75"
    assert score_text({"value": 1.0, "string_value": "True", "data_type": "BOOLEAN"}) == "True"
    assert score_text({"value": None, "stringValue": "good", "dataType": "CATEGORICAL"}) == "good"
