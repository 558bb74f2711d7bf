"""``interactiveai.openai``: chat completions of the real openai client against the fake server, read
back through our REST API (both engines): generation fields, nesting, tool calls, errors, async."""

from __future__ import annotations

import asyncio
from typing import Any

import openai
import pytest

from interactiveai import InteractiveAI, observe
from interactiveai.openai import AsyncOpenAI, OpenAI
from tests.support.fake_openai import CACHED_TOKENS, COMPLETION_TOKENS, PROMPT_TOKENS, REASONING_TOKENS, FakeOpenAI
from tests.support.live_server import LiveServer

from .conftest import by_name, read_trace

USAGE = {
    "input": PROMPT_TOKENS - CACHED_TOKENS,
    "input_cached_tokens": CACHED_TOKENS,
    "output": COMPLETION_TOKENS - REASONING_TOKENS,
    "output_reasoning_tokens": REASONING_TOKENS,
    "total": PROMPT_TOKENS + COMPLETION_TOKENS,
}
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def test_chat_completion_is_a_generation_under_the_current_observation(
    server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI
) -> None:
    client = OpenAI(base_url=fake.base_url, api_key="sk-fake")
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}]
    with sdk.start_as_current_observation(name="turn") as turn:
        completion = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=messages,  # type: ignore[arg-type]
            temperature=0.2,
            max_tokens=64,
            top_p=0.9,
            seed=7,
            response_format={"type": "text"},
            name="capital",
            metadata={"step": 1, "interactiveai_session_id": "chat-9"},
            user_id="user-4",
            tags=["geo"],
        )
    assert type(completion) is openai.types.chat.ChatCompletion
    assert completion.choices[0].message.content == "Echo: Capital of France?"
    sent = fake.requests[-1]  # our keyword arguments never reach OpenAI
    assert not {"name", "metadata", "user_id", "tags"} & set(sent) and sent["temperature"] == 0.2

    trace = read_trace(server, sdk, turn.trace_id, 2)
    generation = by_name(trace)["capital"]
    assert generation["type"] == "GENERATION" and generation["parentObservationId"] == turn.id
    assert generation["model"] == "gpt-4o-mini"
    assert generation["input"] == messages
    assert generation["output"] == {"role": "assistant", "content": "Echo: Capital of France?"}
    parameters = {k: str(v) for k, v in generation["modelParameters"].items()}
    assert parameters == {
        "temperature": "0.2",
        "max_tokens": "64",
        "top_p": "0.9",
        "seed": "7",
        "response_format": str(generation["modelParameters"]["response_format"]),
    }
    assert "text" in parameters["response_format"]
    assert generation["usageDetails"] == USAGE
    assert generation["calculatedTotalCost"] > 0 and trace["totalCost"] > 0  # priced by the server
    assert generation["metadata"]["step"] == 1 and "interactiveai_session_id" not in generation["metadata"]
    assert generation["level"] == "DEFAULT" and generation["completionStartTime"] is None
    assert (trace["sessionId"], trace["userId"], trace["tags"]) == ("chat-9", "user-4", ["geo"])


def test_tool_calls_are_recorded_in_input_and_output(server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI) -> None:
    client = OpenAI(base_url=fake.base_url, api_key="sk-fake")

    @observe
    def agent() -> str:
        messages: list[Any] = [{"role": "user", "content": "Weather?"}]
        first = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS, name="plan")
        call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
        messages += [first.choices[0].message, {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
        second = client.chat.completions.create(
            model="gpt-4o-mini", messages=messages, tools=TOOLS, tool_choice="auto", name="answer"
        )
        return second.choices[0].message.content or ""

    with sdk.start_as_current_observation(name="root") as root:
        assert agent() == "Echo: Weather?"
    observations = by_name(read_trace(server, sdk, root.trace_id, 4))
    plan, answer = observations["plan"], observations["answer"]
    assert plan["parentObservationId"] == observations["agent"]["id"] == answer["parentObservationId"]
    assert plan["input"] == {"messages": [{"role": "user", "content": "Weather?"}], "tools": TOOLS}
    assert plan["output"]["tool_calls"] == [
        {"id": "call_fake_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
    ]
    assert plan["output"]["content"] is None
    assert answer["input"]["messages"][1]["tool_calls"][0]["id"] == "call_fake_1"  # the returned message, serialised
    assert answer["input"]["messages"][2] == {"role": "tool", "tool_call_id": "call_fake_1", "content": "sunny"}
    assert "tools" in answer["modelParameters"] and answer["modelParameters"]["tool_choice"] == "auto"


def test_a_failed_call_is_an_error_and_raises_unchanged(
    server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI
) -> None:
    client = OpenAI(base_url=fake.base_url, api_key="sk-fake", max_retries=0)
    with sdk.start_as_current_observation(name="failing-turn") as turn:
        with pytest.raises(openai.BadRequestError) as raised:
            client.chat.completions.create(model="fail-model", messages=[{"role": "user", "content": "hi"}])
    assert raised.value.status_code == 400 and "refused" in raised.value.message
    generation = by_name(read_trace(server, sdk, turn.trace_id, 2))["OpenAI-generation"]
    assert generation["level"] == "ERROR" and "refused this request" in generation["statusMessage"]
    assert generation["model"] == "fail-model" and generation["input"] == [{"role": "user", "content": "hi"}]
    assert generation["output"] is None and generation["endTime"] is not None


def test_async_calls_nest_under_their_own_task(server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI) -> None:
    client = AsyncOpenAI(base_url=fake.base_url, api_key="sk-fake")

    @observe
    async def ask(question: str) -> str:
        completion = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": question}], name=f"llm-{question}"
        )
        return completion.choices[0].message.content or ""

    async def main() -> list[str]:
        with sdk.start_as_current_observation(name="fan-out") as root:
            answers = await asyncio.gather(ask("a"), ask("b"), ask("c"))
        main.trace_id = root.trace_id  # type: ignore[attr-defined]
        return answers

    assert asyncio.run(main()) == ["Echo: a", "Echo: b", "Echo: c"]
    trace = read_trace(server, sdk, main.trace_id, 7)  # type: ignore[attr-defined]
    observations = trace["observations"]
    asks = {o["id"]: o for o in observations if o["name"] == "ask"}
    generations = {o["name"]: o for o in observations if o["type"] == "GENERATION"}
    for question in "abc":
        generation = generations[f"llm-{question}"]
        assert generation["parentObservationId"] in asks
        assert asks[generation["parentObservationId"]]["output"] == f"Echo: {question}"
        assert generation["usageDetails"] == USAGE
    assert len({generations[f"llm-{q}"]["parentObservationId"] for q in "abc"}) == 3


def test_trace_id_and_parent_observation_id_place_the_call(
    server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI
) -> None:
    client = OpenAI(base_url=fake.base_url, api_key="sk-fake")
    parent = sdk.start_observation(name="elsewhere")
    parent.end()
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        trace_id=parent.trace_id,
        parent_observation_id=parent.id,
        name="placed",
    )
    placed = by_name(read_trace(server, sdk, parent.trace_id, 2))["placed"]
    assert placed["parentObservationId"] == parent.id


def test_parse_with_a_pydantic_format_is_recorded_once(
    server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI
) -> None:
    from pydantic import BaseModel

    class Answer(BaseModel):
        text: str

    client = OpenAI(base_url=fake.base_url, api_key="sk-fake")
    with sdk.start_as_current_observation(name="parsing") as root:
        try:
            client.chat.completions.parse(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], response_format=Answer, name="parsed"
            )
        except Exception:
            pass  # the fake answers plain text, which the library fails to parse: the call is still recorded
    observations = by_name(read_trace(server, sdk, root.trace_id, 2))
    assert len(observations) == 2
    parsed = observations["parsed"]
    assert "Answer" in str(parsed["modelParameters"]["response_format"])
    assert parsed["output"] == {"role": "assistant", "content": "Echo: hi"} or parsed["level"] == "ERROR"
