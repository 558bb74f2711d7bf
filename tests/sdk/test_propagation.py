"""propagate_attributes: validation, inheritance, nesting, baggage, third-party spans."""

from __future__ import annotations

import json
from typing import Any

import pytest
from opentelemetry import baggage
from opentelemetry import context as otel_context

from interactiveai import InteractiveAI, observe, propagate_attributes
from interactiveai.sdk.attributes import Attr

from .conftest import Memory


def test_attributes_reach_every_span_started_inside(client: InteractiveAI, memory: Memory) -> None:
    @observe
    def leaf() -> None:
        return None

    with client.start_as_current_span(name="root"):
        with propagate_attributes(
            user_id="u-1", session_id="s-1", trace_name="chat", version="v3", tags=["a"], metadata={"team": "x"}
        ):
            leaf()
            client.create_event(name="ev")
    for name in ("root", "leaf", "ev"):
        attrs = memory.attrs(name)
        assert attrs[Attr.TRACE_USER_ID] == "u-1", name
        assert attrs[Attr.TRACE_SESSION_ID] == "s-1"
        assert attrs[Attr.TRACE_NAME] == "chat"
        assert attrs[Attr.VERSION] == "v3"
        assert attrs[Attr.TRACE_TAGS] == ("a",)
        assert json.loads(attrs[Attr.TRACE_METADATA_PREFIX + "team"]) == "x"


def test_pre_existing_and_later_spans_are_not_touched(client: InteractiveAI, memory: Memory) -> None:
    before = client.start_span(name="before")
    with client.start_as_current_span(name="current"):
        with propagate_attributes(user_id="u"):
            pass
    before.end()
    client.start_span(name="after").end()
    assert Attr.TRACE_USER_ID not in memory.attrs("before")
    assert Attr.TRACE_USER_ID not in memory.attrs("after")
    assert memory.attrs("current")[Attr.TRACE_USER_ID] == "u"  # the current span is updated at once


def test_nested_blocks_merge(client: InteractiveAI, memory: Memory) -> None:
    with propagate_attributes(user_id="outer", tags=["a", "b"], metadata={"k1": "1", "k2": "2"}):
        with propagate_attributes(user_id="inner", tags=["b", "c"], metadata={"k2": "two"}):
            client.start_span(name="in").end()
        client.start_span(name="out").end()
    inner, outer = memory.attrs("in"), memory.attrs("out")
    assert inner[Attr.TRACE_USER_ID] == "inner"
    assert inner[Attr.TRACE_TAGS] == ("a", "b", "c")
    assert inner[Attr.TRACE_METADATA_PREFIX + "k1"] == '"1"'
    assert inner[Attr.TRACE_METADATA_PREFIX + "k2"] == '"two"'
    assert outer[Attr.TRACE_USER_ID] == "outer" and outer[Attr.TRACE_TAGS] == ("a", "b")


@pytest.mark.parametrize(
    "kwargs, missing",
    [
        ({"user_id": "ü-user"}, Attr.TRACE_USER_ID),
        ({"user_id": "x" * 201}, Attr.TRACE_USER_ID),
        ({"session_id": 42}, Attr.TRACE_SESSION_ID),
        ({"trace_name": "naïve"}, Attr.TRACE_NAME),
        ({"version": "v" * 300}, Attr.VERSION),
        ({"tags": ["é"]}, Attr.TRACE_TAGS),
        ({"metadata": {"k": "y" * 201}}, Attr.TRACE_METADATA_PREFIX + "k"),
        ({"metadata": {"k": "ß"}}, Attr.TRACE_METADATA_PREFIX + "k"),
    ],
)
def test_invalid_values_are_dropped_with_a_warning(
    client: InteractiveAI, memory: Memory, caplog: pytest.LogCaptureFixture, kwargs: dict[str, Any], missing: str
) -> None:
    with propagate_attributes(**kwargs):
        client.start_span(name="s").end()
    assert missing not in memory.attrs("s")
    assert "dropped" in caplog.text


def test_valid_values_survive_next_to_invalid_ones(client: InteractiveAI, memory: Memory) -> None:
    with propagate_attributes(user_id="ok", session_id="ñ", tags=["good", "bäd", "x" * 250], metadata={"n": 3}):
        client.start_span(name="s").end()
    attrs = memory.attrs("s")
    assert attrs[Attr.TRACE_USER_ID] == "ok"
    assert Attr.TRACE_SESSION_ID not in attrs
    assert attrs[Attr.TRACE_TAGS] == ("good",)
    assert attrs[Attr.TRACE_METADATA_PREFIX + "n"] == "3"


def test_exactly_200_characters_is_allowed(client: InteractiveAI, memory: Memory) -> None:
    with propagate_attributes(user_id="u" * 200):
        client.start_span(name="s").end()
    assert memory.attrs("s")[Attr.TRACE_USER_ID] == "u" * 200


async def test_async_with(client: InteractiveAI, memory: Memory) -> None:
    @observe
    async def work() -> None:
        return None

    async with propagate_attributes(session_id="async-s"):
        await work()
    assert memory.attrs("work")[Attr.TRACE_SESSION_ID] == "async-s"


def test_third_party_spans_inherit(client: InteractiveAI, memory: Memory) -> None:
    other = memory.provider.get_tracer("opentelemetry.instrumentation.openai")
    with propagate_attributes(user_id="u-3p"):
        with other.start_as_current_span("chat gpt"):
            pass
    assert memory.attrs("chat gpt")[Attr.TRACE_USER_ID] == "u-3p"


def test_as_baggage_writes_w3c_baggage(client: InteractiveAI) -> None:
    with propagate_attributes(
        user_id="u", session_id="s", trace_name="n", version="v", tags=["a", "b"], metadata={"k": "v"}, as_baggage=True
    ):
        entries = dict(baggage.get_all())
    assert entries == {
        "interactiveai_user_id": "u",
        "interactiveai_session_id": "s",
        "interactiveai_trace_name": "n",
        "interactiveai_version": "v",
        "interactiveai_tags": "a,b",
        "interactiveai_metadata_k": "v",
    }
    assert dict(baggage.get_all()) == {}  # restored on exit


def test_without_as_baggage_nothing_goes_to_baggage(client: InteractiveAI) -> None:
    with propagate_attributes(user_id="u"):
        assert dict(baggage.get_all()) == {}


def test_attributes_are_rederived_from_incoming_baggage(client: InteractiveAI, memory: Memory) -> None:
    ctx = otel_context.get_current()
    for key, value in {
        "interactiveai_user_id": "remote-u",
        "interactiveai_session_id": "remote-s",
        "interactiveai_tags": "x,y",
        "interactiveai_metadata_origin": "svc-a",
        "unrelated": "ignored",
    }.items():
        ctx = baggage.set_baggage(key, value, ctx)
    token = otel_context.attach(ctx)
    try:
        client.start_span(name="downstream").end()
    finally:
        otel_context.detach(token)
    attrs = memory.attrs("downstream")
    assert attrs[Attr.TRACE_USER_ID] == "remote-u"
    assert attrs[Attr.TRACE_SESSION_ID] == "remote-s"
    assert attrs[Attr.TRACE_TAGS] == ("x", "y")
    assert attrs[Attr.TRACE_METADATA_PREFIX + "origin"] == '"svc-a"'
    assert not any("unrelated" in k for k in attrs)


def test_works_without_any_client(memory: Memory) -> None:
    with propagate_attributes(user_id="u"):  # no client, no provider of ours: still harmless
        pass


def test_non_string_metadata_values_are_json(client: InteractiveAI, memory: Memory) -> None:
    with propagate_attributes(metadata={"n": 7, "flag": True, "nested": {"a": [1]}, "skip": None}):
        client.start_span(name="s").end()
    attrs = memory.attrs("s")
    prefix = Attr.TRACE_METADATA_PREFIX
    assert (attrs[prefix + "n"], attrs[prefix + "flag"], attrs[prefix + "nested"]) == ("7", "true", '{"a":[1]}')
    assert prefix + "skip" not in attrs


def test_baggage_round_trip_in_one_process(client: InteractiveAI, memory: Memory) -> None:
    from interactiveai import continue_trace, inject_trace_headers

    with client.start_as_current_span(name="up"):
        with propagate_attributes(user_id="u-b", metadata={"k": 1}, as_baggage=True):
            headers = inject_trace_headers()
    with continue_trace(headers):
        client.start_span(name="down").end()
    attrs = memory.attrs("down")
    assert attrs[Attr.TRACE_USER_ID] == "u-b"
    assert attrs[Attr.TRACE_METADATA_PREFIX + "k"] == '"1"'  # baggage carries text


def test_wrong_argument_types_never_raise(client: InteractiveAI, memory: Memory) -> None:
    with propagate_attributes(tags=123, metadata=["not", "a", "dict"]):  # type: ignore[arg-type]
        client.start_span(name="s").end()
    assert Attr.TRACE_TAGS not in memory.attrs("s")
