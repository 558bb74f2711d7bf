"""``interactiveai.openai``: streamed calls return the library's own stream objects, yield the same
chunks, and record output, usage and time to first token (read back through our REST API)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import openai
import pytest

from interactiveai import InteractiveAI
from interactiveai.openai import AsyncOpenAI, OpenAI
from interactiveai.sdk.integrations import openai_patch
from tests.support.fake_openai import FakeOpenAI
from tests.support.live_server import LiveServer

from .conftest import by_name, read_trace
from .test_openai_chat import TOOLS, USAGE

MESSAGES: list[Any] = [{"role": "user", "content": "Stream me"}]


def _time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _bare_chunks(client: OpenAI, **kwargs: Any) -> list[dict[str, Any]]:
    """The chunks of the same call made with the library's original method (no instrumentation)."""
    create = openai.resources.chat.completions.Completions.create.__wrapped__  # type: ignore[attr-defined]
    return [chunk.model_dump() for chunk in create(client.chat.completions, **kwargs)]


def _without_ids(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in chunk.items() if k != "created"} for chunk in chunks]


def test_stream_iterates_the_same_chunks_and_records_the_generation(
    server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI
) -> None:
    client = OpenAI(base_url=fake.base_url, api_key="sk-fake")
    options: dict[str, Any] = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}
    bare = _bare_chunks(client, **options, stream_options={"include_usage": True})
    with sdk.start_as_current_observation(name="streaming") as root:
        stream = client.chat.completions.create(**options, stream_options={"include_usage": True}, name="streamed")
        assert type(stream) is openai.Stream and stream.response.status_code == 200
        chunks = [chunk.model_dump() for chunk in stream]
    assert _without_ids(chunks) == _without_ids(bare) and len(chunks) == 5

    generation = by_name(read_trace(server, sdk, root.trace_id, 2))["streamed"]
    assert generation["output"] == {"role": "assistant", "content": "Echo: Stream me"}
    assert generation["usageDetails"] == USAGE and generation["calculatedTotalCost"] > 0
    assert generation["model"] == "gpt-4o-mini" and generation["metadata"]["finish_reason"] == "stop"
    first, start, end = (_time(generation[k]) for k in ("completionStartTime", "startTime", "endTime"))
    assert start < first < end and (end - first).total_seconds() >= 0.03  # two more chunks came 20 ms apart
    assert 0 < generation["timeToFirstToken"] < generation["latency"]


def test_with_block_and_early_exit_end_the_generation(server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI) -> None:
    client = OpenAI(base_url=fake.base_url, api_key="sk-fake")
    with sdk.start_as_current_observation(name="early") as root:
        with client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True, name="cut") as stream:
            first = next(stream)
            assert first.choices[0].delta.content == "Echo: St"[: len(first.choices[0].delta.content or "")]
        stream_two = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True, name="whole")
        with stream_two:
            text = "".join(c.choices[0].delta.content or "" for c in stream_two if c.choices)
    assert text == "Echo: Stream me"
    observations = by_name(read_trace(server, sdk, root.trace_id, 3))
    cut, whole = observations["cut"], observations["whole"]
    assert cut["endTime"] is not None and cut["output"]["content"] == first.choices[0].delta.content
    assert whole["output"]["content"] == "Echo: Stream me" and whole["completionStartTime"] is not None
    # No include_usage asked for, and this host is not known to accept it: the request is as sent.
    assert "stream_options" not in fake.requests[-1] and whole["usageDetails"] == {}


def test_streamed_tool_calls_are_assembled(server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI) -> None:
    client = OpenAI(base_url=fake.base_url, api_key="sk-fake")
    with sdk.start_as_current_observation(name="tools") as root:
        for _ in client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS, stream=True, name="tool-stream"
        ):
            pass
    generation = by_name(read_trace(server, sdk, root.trace_id, 2))["tool-stream"]
    assert generation["output"] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_fake_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    }
    assert generation["metadata"]["finish_reason"] == "tool_calls"


def test_usage_is_asked_for_only_where_accepted_and_its_chunk_hidden(
    server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openai_patch, "STREAM_USAGE_HOSTS", {"127.0.0.1"})  # as for OpenAI's own host
    client = OpenAI(base_url=fake.base_url, api_key="sk-fake")
    bare = _bare_chunks(client, model="gpt-4o-mini", messages=MESSAGES, stream=True)
    with sdk.start_as_current_observation(name="usage") as root:
        chunks = [c.model_dump() for c in client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, name="asked"
        )]  # fmt: skip
        assert fake.requests[-1]["stream_options"] == {"include_usage": True}
        client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": False}, name="own"
        ).close()
        assert fake.requests[-1]["stream_options"] == {"include_usage": False}  # the caller's own choice wins
    assert [c["choices"] for c in chunks] == [c["choices"] for c in bare]  # no usage-only chunk shown
    observations = by_name(read_trace(server, sdk, root.trace_id, 3))
    assert observations["asked"]["usageDetails"] == USAGE
    assert observations["own"]["endTime"] is not None


def test_async_stream_with_async_for_and_async_with(server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI) -> None:
    client = AsyncOpenAI(base_url=fake.base_url, api_key="sk-fake")

    async def main() -> tuple[str, str]:
        with sdk.start_as_current_observation(name="async-streams") as root:
            stream = await client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}, name="a1"
            )
            assert type(stream) is openai.AsyncStream
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            async with await client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True, name="a2"
            ) as second:
                first = await second.__anext__()
        main.trace_id = root.trace_id  # type: ignore[attr-defined]
        return text, first.choices[0].delta.content or ""

    text, first = asyncio.run(main())
    assert text == "Echo: Stream me"
    observations = by_name(read_trace(server, sdk, main.trace_id, 3))  # type: ignore[attr-defined]
    assert observations["a1"]["output"]["content"] == text and observations["a1"]["usageDetails"] == USAGE
    assert observations["a1"]["completionStartTime"] is not None
    assert observations["a2"]["output"]["content"] == first and observations["a2"]["endTime"] is not None


def test_chat_stream_helper_is_recorded_once(server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI) -> None:
    client = OpenAI(base_url=fake.base_url, api_key="sk-fake")
    with sdk.start_as_current_observation(name="helper") as root:
        with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
            events = [event.type for event in stream]
    assert "content.done" in events
    observations = read_trace(server, sdk, root.trace_id, 2)["observations"]
    assert len(observations) == 2
    generation = next(o for o in observations if o["type"] == "GENERATION")
    assert generation["output"]["content"] == "Echo: Stream me"


def test_an_error_in_the_middle_of_a_stream_is_recorded(
    server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI
) -> None:
    client = OpenAI(base_url=fake.base_url, api_key="sk-fake")
    with sdk.start_as_current_observation(name="broken") as root:
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, name="broken-stream"
        )
        next(stream)
        stream.response.close()  # the connection drops under the reader
        with pytest.raises(Exception) as raised:
            list(stream)
    generation = by_name(read_trace(server, sdk, root.trace_id, 2))["broken-stream"]
    assert generation["level"] == "ERROR" and generation["statusMessage"]
    assert type(raised.value).__module__.split(".")[0] in ("openai", "httpx", "httpx2", "httpcore")
