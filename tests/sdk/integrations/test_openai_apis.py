"""``interactiveai.openai``: embeddings, the Responses API, legacy completions, the module-level client
and raw responses, read back through our REST API; and the contract that recording never gets in
the way (no client, failing mask, odd arguments)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import openai
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from interactiveai import InteractiveAI
from interactiveai.openai import AsyncOpenAI, AzureOpenAI, OpenAI
from interactiveai.sdk.attributes import Attr
from tests.support.fake_openai import EMBEDDING_TOKENS, FakeOpenAI
from tests.support.live_server import LiveServer

from .conftest import by_name, read_trace
from .test_openai_chat import USAGE


def test_embeddings_are_embedding_observations(server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI) -> None:
    client = OpenAI(base_url=fake.base_url, api_key="sk-fake")
    aclient = AsyncOpenAI(base_url=fake.base_url, api_key="sk-fake")
    with sdk.start_as_current_observation(name="embed") as root:
        result = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"], dimensions=8)
        asyncio.run(aclient.embeddings.create(model="text-embedding-3-small", input="c", name="async-embedding"))
    assert type(result) is openai.types.CreateEmbeddingResponse and len(result.data) == 2
    observations = by_name(read_trace(server, sdk, root.trace_id, 3))
    embedding = observations["OpenAI-embedding"]
    assert embedding["type"] == "EMBEDDING" and embedding["model"] == "text-embedding-3-small"
    assert embedding["input"] == ["a", "b"] and embedding["output"] == {"dimensions": 8, "count": 2}
    assert embedding["usageDetails"] == {"input": EMBEDDING_TOKENS, "total": EMBEDDING_TOKENS}
    assert str(embedding["modelParameters"]["dimensions"]) == "8"
    assert embedding["calculatedTotalCost"] > 0
    assert observations["async-embedding"]["input"] == "c"


def test_responses_api_create_stream_and_tools(server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI) -> None:
    client = OpenAI(base_url=fake.base_url, api_key="sk-fake")
    tools: list[Any] = [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}]
    with sdk.start_as_current_observation(name="responses") as root:
        response = client.responses.create(
            model="gpt-4o-mini", input="Hello", instructions="Be kind.", temperature=0.5, name="resp"
        )
        events = [e.type for e in client.responses.create(model="gpt-4o-mini", input="Hi", stream=True, name="rs")]
        call = client.responses.create(model="gpt-4o-mini", input="Weather?", tools=tools, name="resp-tool")
        with client.responses.stream(model="gpt-4o-mini", input="Helper") as helper:  # calls create(stream=True)
            assert helper.get_final_response().output_text == "Echo: Helper"
    assert response.output_text == "Echo: Hello" and events[-1] == "response.completed"
    assert call.output[0].type == "function_call"
    observations = by_name(read_trace(server, sdk, root.trace_id, 5))
    resp, streamed, tool = observations["resp"], observations["rs"], observations["resp-tool"]
    assert observations["OpenAI-generation"]["output"]["content"][0]["text"] == "Echo: Helper"
    assert resp["input"] == {"instructions": "Be kind.", "input": "Hello"}
    assert resp["output"]["type"] == "message" and resp["output"]["content"][0]["text"] == "Echo: Hello"
    assert resp["usageDetails"] == USAGE and resp["calculatedTotalCost"] > 0
    assert str(resp["modelParameters"]["temperature"]) == "0.5"
    assert streamed["output"]["content"][0]["text"] == "Echo: Hi" and streamed["usageDetails"] == USAGE
    assert streamed["startTime"] < streamed["completionStartTime"] < streamed["endTime"]
    assert tool["output"]["type"] == "function_call" and tool["output"]["name"] == "get_weather"


def test_legacy_completions(server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI) -> None:
    client = OpenAI(base_url=fake.base_url, api_key="sk-fake")
    with sdk.start_as_current_observation(name="legacy") as root:
        text = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi", name="plain").choices[0].text
        parts = [c.choices[0].text for c in client.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="Say hi", stream=True, name="streamed"
        )]  # fmt: skip
    assert text == "Echo: Say hi" == "".join(parts)
    observations = by_name(read_trace(server, sdk, root.trace_id, 3))
    assert observations["plain"]["input"] == "Say hi" and observations["plain"]["output"] == "Echo: Say hi"
    assert observations["plain"]["usageDetails"] == USAGE
    assert observations["streamed"]["output"] == "Echo: Say hi"


def test_module_level_client_azure_client_and_raw_responses(
    server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from interactiveai.openai import openai as module

    monkeypatch.setattr(module, "api_key", "sk-fake")
    monkeypatch.setattr(module, "base_url", fake.base_url + "/")  # the module client joins paths as text
    azure = AzureOpenAI(
        api_key="az-fake", api_version="2024-10-21", azure_endpoint=fake.base_url.removesuffix("/v1"),
        azure_deployment="gpt-4o-mini",
    )  # fmt: skip
    with sdk.start_as_current_observation(name="variants") as root:
        module.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "m"}], name="module")
        raw = OpenAI(base_url=fake.base_url, api_key="sk-fake").chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "r"}], name="raw"
        )
        try:
            azure.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "z"}], name="azure"
            )
        except openai.NotFoundError:
            pass  # the fake serves no Azure deployment paths; the call is recorded all the same
    assert raw.http_response.status_code == 200 and raw.parse().choices[0].message.content == "Echo: r"
    observations = by_name(read_trace(server, sdk, root.trace_id, 4))
    assert observations["module"]["output"]["content"] == "Echo: m"
    assert observations["raw"]["input"][0]["content"] == "r"
    assert observations["raw"]["output"]["content"] == "Echo: r" and observations["raw"]["usageDetails"] == USAGE
    assert observations["azure"]["model"] == "gpt-4o-mini" and observations["azure"]["level"] == "ERROR"


@pytest.fixture
def memory_client() -> Any:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    client = InteractiveAI(
        public_key="pk-mem", secret_key="sk-mem", host="http://127.0.0.1:9", tracer_provider=provider,
        span_exporter=exporter, mask=lambda *, data: 1 / 0 if "secret" in str(data) else data,
    )  # fmt: skip
    yield client, exporter
    client.shutdown(timeout=1)
    provider.shutdown()


def test_recording_never_gets_in_the_way(
    fake: FakeOpenAI, memory_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client, exporter = memory_client
    openai_client = OpenAI(base_url=fake.base_url, api_key="sk-fake")

    class Opaque:
        __slots__ = ()

    # Odd values of our own arguments, a failing mask, metadata nothing can serialise: the call goes through.
    result = openai_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=iter([{"role": "user", "content": "secret"}]),  # a one-shot iterable is still sent whole
        name=42,  # type: ignore[arg-type]
        metadata={"obj": Opaque(), "interactiveai_tags": "solo"},
        parent_observation_id="0" * 16,  # without trace_id: ignored with a warning
    )
    assert result.choices[0].message.content == "Echo: secret"
    assert fake.requests[-1]["messages"] == [{"role": "user", "content": "secret"}]
    assert client.flush(timeout=5)
    (span,) = exporter.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert span.name == "OpenAI-generation" and attributes[Attr.TRACE_TAGS] == ("solo",)
    assert "secret" not in str(attributes.get(Attr.OBSERVATION_INPUT)) and attributes[Attr.OBSERVATION_OUTPUT]
    assert any("parent_observation_id" in r.message for r in caplog.records if r.levelno >= logging.WARNING)

    # No client configured: a plain pass-through, our keyword arguments still taken out.
    client.shutdown(timeout=1)
    assert (
        openai_client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "off"}], name="x", session_id="s"
        )
        .choices[0]
        .message.content
        == "Echo: off"
    )
    assert "name" not in fake.requests[-1] and "session_id" not in fake.requests[-1]
    assert len(exporter.get_finished_spans()) == 1
