"""Bounds on indexed span values (ingest/bounds.py): what is kept, what is cut, and that mapping applies them."""

from __future__ import annotations

import base64
import os

from hypothesis import given
from hypothesis import strategies as st

from interactiveai.server.ingest.bounds import KEY_BYTES, MAX_TAGS, TAG_CHARS, bound_key, bound_tags
from interactiveai.server.ingest.conventions import map_span
from interactiveai.server.ingest.merge import empty_trace, merge_spans
from interactiveai.server.ingest.otlp import decode_protobuf
from interactiveai.server.ingest.pricing import Pricing
from interactiveai.server.ingest.records import MappedSpan
from tests.server.ingest.otlp_builders import ResourceSpec, SpanSpec, encode_protobuf, span_id, trace_id


def _noise(size: int) -> str:
    """Incompressible text, as a hostile client would send it."""
    return base64.b64encode(os.urandom(size * 3 // 4)).decode()[:size]


def _utf8(value: str) -> int:
    return len(value.encode("utf-8"))


def _map(spec: SpanSpec, resource: dict[str, object] | None = None) -> MappedSpan:
    resources = [ResourceSpec([spec], resource or {"service.name": "svc"})]
    return map_span(decode_protobuf(encode_protobuf(resources))[0], "p", Pricing(None))


def test_short_values_are_kept_as_they_are() -> None:
    for value in ("user-1", "é" * 250, "x" * KEY_BYTES, "€" * (KEY_BYTES // 3)):
        assert bound_key(value) is value


def test_a_long_value_keeps_its_head_and_says_it_was_cut() -> None:
    value = _noise(12_000)
    bounded = bound_key(value)
    assert _utf8(bounded) <= KEY_BYTES
    head, marker = bounded.split("…[", 1)
    assert value.startswith(head) and len(head) > KEY_BYTES - 64
    assert marker.startswith("12000 bytes #") and marker.endswith("]")


def test_long_values_stay_distinct_and_the_same_value_is_bounded_the_same() -> None:
    prefix = "u" * 5_000
    first, second = bound_key(prefix + "a"), bound_key(prefix + "b")
    assert first != second
    assert bound_key(prefix + "a") == first
    assert bound_key(first) == first  # a stored value does not change when bounded again


def test_multibyte_characters_are_never_cut_in_two() -> None:
    value = "日本語テキスト🙂" * 1_000
    bounded = bound_key(value)
    assert _utf8(bounded) <= KEY_BYTES
    bounded.encode("utf-8")  # valid text
    assert value.startswith(bounded.split("…[", 1)[0])


@given(st.text(max_size=3_000))
def test_any_text_is_bounded_in_utf8_bytes(value: str) -> None:
    bounded = bound_key(value)
    assert _utf8(bounded) <= KEY_BYTES
    assert (bounded == value) == (_utf8(value) <= KEY_BYTES)
    assert bound_key(bounded) == bounded


def test_tags_are_bounded_in_count_and_length() -> None:
    many = sorted(f"tag-{i:04d}" for i in range(MAX_TAGS * 3))
    assert bound_tags(many) == many[:MAX_TAGS]
    long = bound_tags(["a" * 5_000, "b"])
    assert long == ["a" * TAG_CHARS, "b"]


def test_mapping_bounds_every_indexed_value() -> None:
    huge = _noise(12_000)
    span = _map(
        SpanSpec(
            trace_id(),
            span_id(),
            huge,
            attributes={
                "user.id": huge,
                "session.id": huge,
                "interactiveai.trace.name": huge,
                "interactiveai.observation.model.name": huge,
                "interactiveai.release": huge,
                "interactiveai.version": huge,
                "interactiveai.environment": huge,
                "interactiveai.trace.tags": [f"{i}-{huge}" for i in range(MAX_TAGS + 50)],
                "interactiveai.observation.input": '"' + huge + '"',
            },
        )
    )
    row, facts = span.row, span.trace
    for value in (row["name"], row["model"], row["version"], facts.name, facts.user_id, facts.session_id):
        assert value is not None and _utf8(value) <= KEY_BYTES and value.startswith(huge[:500])
    assert facts.release is not None and _utf8(facts.release) <= KEY_BYTES
    assert facts.version == row["version"]
    assert row["environment"] == "default"  # not an environment name: never was one
    assert facts.tags is not None and len(facts.tags) == MAX_TAGS
    assert all(len(tag) <= TAG_CHARS for tag in facts.tags)
    assert row["input"] == '"' + huge + '"'  # payloads are not identifiers: kept whole
    assert len(row["trace_id"]) == 32 and len(row["id"]) == 16  # ids: fixed-length hex from the decoder


def test_the_resource_release_and_version_are_bounded_too() -> None:
    huge = _noise(5_000)
    span = _map(SpanSpec(trace_id(), span_id(), "s"), {"service.version": huge, "interactiveai.release": huge})
    assert span.row["version"] == span.trace.version == bound_key(huge)
    assert span.trace.release == bound_key(huge)


def test_a_trace_holds_at_most_max_tags() -> None:
    def tagged(tags: list[str]) -> MappedSpan:
        return _map(SpanSpec(trace_id(), span_id(), "s", attributes={"interactiveai.trace.tags": tags}))

    first = [f"a{i:03d}" for i in range(MAX_TAGS - 10)]
    merged, added = merge_spans(empty_trace(0), [tagged(first)])
    assert added == first
    row = {**merged}
    merged, added = merge_spans(row, [tagged([f"b{i:03d}" for i in range(50)])])
    assert added == [f"b{i:03d}" for i in range(10)]  # the room left, in order
    merged, added = merge_spans(merged, [tagged(["c"])])
    assert added == [] and len(merged["tags"].split(",")) == MAX_TAGS
