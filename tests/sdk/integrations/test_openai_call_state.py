"""An OpenAI call's generation records the state at the call, however late it ends: its span starts
when the call returns (one step, cheaper for the caller) but with the start time, the parent, the
propagated attributes and the input of the moment the call was made. In-memory export, the real
openai client against the fake server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from interactiveai import InteractiveAI, propagate_attributes
from interactiveai.openai import OpenAI
from tests.sdk.conftest import Memory
from tests.support.fake_openai import FakeOpenAI, fake_openai


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai() as running:
        yield running


def _attrs(memory: Memory, name: str) -> dict[str, Any]:
    return memory.attrs(name)


def test_a_stream_read_elsewhere_keeps_the_parent_time_and_propagated_values_of_its_call(
    client: InteractiveAI, memory: Memory, fake: FakeOpenAI
) -> None:
    openai = OpenAI(base_url=fake.base_url, api_key="sk-fake", max_retries=0)
    messages = [{"role": "user", "content": "Hello"}]
    with client.start_as_current_observation(name="caller") as caller:
        with propagate_attributes(user_id="user-7", session_id="session-7"):
            before = time.time_ns()
            stream = openai.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True, name="s")
    time.sleep(0.05)  # read later, outside the observation and the propagation block
    with client.start_as_current_observation(name="elsewhere"):
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Echo: Hello"
    client.flush()
    span = memory.span("s")
    assert span.parent is not None and span.parent.span_id == int(caller.id, 16)
    assert before <= span.start_time < memory.span("elsewhere").start_time  # the call's start, not the read's
    assert span.end_time is not None and span.end_time > memory.span("elsewhere").start_time
    attrs = dict(span.attributes or {})
    assert attrs["user.id"] == "user-7" and attrs["session.id"] == "session-7"
    assert attrs["interactiveai.observation.completion_start_time"] > "1970"


def test_the_input_is_the_messages_as_sent_even_when_the_caller_changes_them_afterwards(
    client: InteractiveAI, memory: Memory, fake: FakeOpenAI
) -> None:
    openai = OpenAI(base_url=fake.base_url, api_key="sk-fake", max_retries=0)
    question = {"role": "user", "content": "first"}
    messages: list[Any] = [{"role": "system", "content": "Be brief."}, question]
    openai.chat.completions.create(model="gpt-4o-mini", messages=messages, name="turn-1")
    stream = openai.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True, name="turn-2")
    question["content"] = "changed"  # the caller reuses its message dict and grows the list
    messages.append({"role": "assistant", "content": "Echo: first"})
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Echo: first"
    client.flush()
    for name in ("turn-1", "turn-2"):
        recorded = json.loads(_attrs(memory, name)["interactiveai.observation.input"])
        assert recorded == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "first"}], name


def test_a_failed_call_and_an_unconsumed_stream(client: InteractiveAI, memory: Memory, fake: FakeOpenAI) -> None:
    import openai as library

    openai = OpenAI(base_url=fake.base_url, api_key="sk-fake", max_retries=0)
    with pytest.raises(library.BadRequestError):
        openai.chat.completions.create(model="fail-model", messages=[{"role": "user", "content": "x"}], name="bad")
    openai.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True, name="never-read"
    )
    client.flush()
    attrs = _attrs(memory, "bad")
    assert attrs["interactiveai.observation.level"] == "ERROR"
    assert json.loads(attrs["interactiveai.observation.input"]) == [{"role": "user", "content": "x"}]
    assert attrs["interactiveai.observation.model.name"] == "fail-model"
    assert [s.name for s in memory.spans()] == ["bad"]  # a stream nobody reads or closes never ends
