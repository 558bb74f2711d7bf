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
    assert fmt_cost(0.0000004) == "$0.0000004"  # never "$0." for a tiny cost, never "4.0e-07"
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


def test_costs_are_fixed_notation_with_their_significant_digits() -> None:
    """Issue 13: "$3.6e-7" read as scientific notation; parts of a cent keep three digits."""
    costs = [3.6e-7, 0.000006, 0.00012345, 0.0375, 0.3, 1234.5, -0.002, 1e-20]
    assert [fmt_cost(v) for v in costs] == [
        "$0.00000036",
        "$0.000006",
        "$0.000123",
        "$0.0375",
        "$0.30",
        "$1,234.50",
        "-$0.002",
        "$0.00000000000000000001",
    ]
    assert all("e" not in fmt_cost(10.0**-k) for k in range(0, 30))
    assert [fmt_cost(v) for v in (float("nan"), float("inf"), -float("inf"))] == ["—", "—", "—"]  # never fails a page


def test_a_call_without_arguments_reads_as_empty() -> None:
    empty = json.dumps({"args": [], "kwargs": {}})
    assert preview(empty) == "" and preview(json.dumps({"args": []})) == ""
    assert turn_content(empty) == ("empty", "")
    assert preview(json.dumps({"args": [], "kwargs": {"x": None}})) == "null"  # an argument, even null


def test_a_one_key_object_is_not_shown_as_its_bare_value() -> None:
    assert preview(json.dumps({"job": 1})) == '{"job": 1}'
    assert preview(json.dumps({"payload": {"a": 1}})) == '{"payload": {"a": 1}}'
    assert turn_content(json.dumps({"job": 1}))[0] == "json"
    assert preview(json.dumps({"question": "Why?"})) == "Why?"  # a text field still reads as its text


def test_escaped_json_text_reads_as_the_json_it_holds() -> None:
    call = {"args": ["What is the refund policy for annual plans?"], "kwargs": {}}
    escaped = json.dumps(json.dumps(call))  # a JSON string whose text is JSON
    assert preview(escaped) == "What is the refund policy for annual plans?"
    cut = preview(escaped[:40])  # a prefix of it, as the list reads
    assert cut.startswith("What is the ref") and "\\" not in cut and "args" not in cut
    assert "\\" not in preview(json.dumps(json.dumps({"a": 1, "b": "x"})))
    assert turn_content(escaped) == ("text", "What is the refund policy for annual plans?")
    assert preview(json.dumps("[1] is a footnote")) == "[1] is a footnote"  # text that is not JSON


def test_cut_payload_prefixes_read_as_text() -> None:
    long = json.dumps({"messages": [{"role": "user", "content": "Summarise ticket 4411 " + "x" * 900}]})
    assert preview(long[:400]).startswith("Summarise ticket 4411 xx")
    assert preview('{"a": 1, "b": [1, 2') == '{"a": 1, "b": [1, 2'  # nothing to read: the prefix as cut
