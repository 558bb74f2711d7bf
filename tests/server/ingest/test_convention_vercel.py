"""Vercel AI SDK spans (instrumentation scope ``ai``), as the SDK's telemetry writes them, posted
through the endpoint and read back from the database."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from interactiveai.server.ingest.keys import SCOPED_KEYS
from tests.server.ingest.conftest import Ingest
from tests.server.ingest.otlp_builders import BASE_NS, SpanSpec, span_id, trace_id
from tests.server.ingest.test_hostile import WEIRD_VALUES

MESSAGES = [
    {"role": "system", "content": "You are a helpful weather assistant."},
    {"role": "user", "content": [{"type": "text", "text": "What is the weather in Paris?"}]},
]
TOOL_CALLS = [{"toolCallType": "function", "toolCallId": "call_1", "toolName": "weather", "args": '{"city":"Paris"}'}]
COMMON = {
    "ai.model.id": "gpt-4o-mini",
    "ai.model.provider": "openai.chat",
    "ai.settings.maxRetries": 2,
    "ai.telemetry.functionId": "weather-bot",
    "ai.telemetry.metadata.tenant": "acme",
    "ai.telemetry.metadata.attempt": "3",
    "ai.telemetry.metadata.userId": "user-9",
    "ai.telemetry.metadata.sessionId": "session-4",
    "ai.telemetry.metadata.tags": ["weather", "prod"],
}


def _generate_text(tid: str) -> tuple[SpanSpec, SpanSpec]:
    outer = SpanSpec(
        tid,
        span_id(),
        "ai.generateText",
        start_ns=BASE_NS,
        end_ns=BASE_NS + 900_000_000,
        attributes={
            **COMMON,
            "operation.name": "ai.generateText weather-bot",
            "ai.operationId": "ai.generateText",
            "resource.name": "weather-bot",
            "ai.prompt": orjson.dumps({"system": MESSAGES[0]["content"], "prompt": "What is the weather?"}).decode(),
            "ai.settings.maxSteps": 1,
            "ai.response.text": "Sunny, 24 degrees.",
            "ai.response.finishReason": "stop",
            "ai.usage.promptTokens": 100,
            "ai.usage.completionTokens": 20,
        },
    )
    inner = SpanSpec(
        tid,
        span_id(),
        "ai.generateText.doGenerate",
        parent_id=outer.span_id,
        start_ns=BASE_NS + 1_000_000,
        end_ns=BASE_NS + 800_000_000,
        attributes={
            **COMMON,
            "operation.name": "ai.generateText.doGenerate weather-bot",
            "ai.operationId": "ai.generateText.doGenerate",
            "ai.prompt.format": "messages",
            "ai.prompt.messages": orjson.dumps(MESSAGES).decode(),
            "ai.prompt.toolChoice": '{"type":"auto"}',
            "ai.response.text": "Sunny, 24 degrees.",
            "ai.response.finishReason": "stop",
            "ai.response.id": "chatcmpl-abc",
            "ai.response.model": "gpt-4o-mini-2024-07-18",
            "ai.response.providerMetadata": '{"openai":{"cachedPromptTokens":40,"serviceTier":"default"}}',
            "ai.usage.promptTokens": 100,
            "ai.usage.completionTokens": 20,
            "gen_ai.system": "openai.chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.request.temperature": 0.3,
            "gen_ai.request.max_tokens": 256,
            "gen_ai.response.finish_reasons": ["stop"],
            "gen_ai.response.id": "chatcmpl-abc",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.usage.input_tokens": 100,
            "gen_ai.usage.output_tokens": 20,
        },
    )
    return outer, inner


def test_generate_text_outer_span_and_model_call(ingest: Ingest) -> None:
    tid = trace_id()
    outer, inner = _generate_text(tid)
    ingest.ok([outer, inner], scope="ai")
    observations = ingest.observations(tid)
    gen = observations[inner.span_id]
    assert gen["type"] == "GENERATION"
    assert gen["name"] == "weather-bot:ai.generateText.doGenerate"
    assert gen["model"] == "gpt-4o-mini-2024-07-18"  # gen_ai.response.model › ai.model.id
    assert json.loads(gen["input"]) == MESSAGES
    assert json.loads(gen["output"]) == "Sunny, 24 degrees."
    # gen_ai counts are inclusive: the cached part (provider metadata) is taken out of the input
    assert gen["usage_details"] == {"input": 60, "input_cached_tokens": 40, "output": 20, "total": 120}
    assert (gen["input_tokens"], gen["output_tokens"], gen["total_tokens"]) == (100, 20, 120)
    assert gen["cost_source"] == "catalog" and gen["matched_model_id"] == "openai/gpt-4o-mini"
    assert gen["input_cost"] == pytest.approx(9e-06 + 3e-06) and gen["output_cost"] == pytest.approx(1.2e-05)
    assert gen["total_cost"] == pytest.approx(2.4e-05)
    assert json.loads(gen["model_parameters"]) == {
        "toolChoice": '{"type":"auto"}',
        "maxTokens": 256,
        "finishReason": '["stop"]',
        "system": "openai.chat",
        "maxRetries": 2,
        "temperature": 0.3,
        "service_tier": "default",
    }
    metadata = gen["metadata"]
    assert {k: metadata[k] for k in ("tenant", "attempt")} == {"tenant": "acme", "attempt": 3}
    assert not {"userId", "sessionId", "tags"} & metadata.keys()
    attributes = metadata["attributes"]  # what the mapping did not use
    assert attributes["ai.response.id"] == "chatcmpl-abc" and attributes["ai.prompt.format"] == "messages"
    assert not [key for key in attributes if key.startswith(("ai.telemetry.", "ai.usage.", "ai.prompt.messages"))]
    assert "gen_ai.system" not in attributes and "ai.model.id" not in attributes
    assert metadata["scope"]["name"] == "ai"

    span = observations[outer.span_id]
    assert span["type"] == "SPAN" and span["name"] == "weather-bot:ai.generateText"
    assert span["model"] == "gpt-4o-mini"  # ai.model.id, without making it a generation
    assert json.loads(span["input"])["prompt"] == "What is the weather?"
    assert json.loads(span["output"]) == "Sunny, 24 degrees."
    # its child carries the usage: the trace must not count it twice
    assert span["usage_details"] == {} and span["total_tokens"] == 0 and not span["total_cost"]
    assert json.loads(span["model_parameters"]) == {"maxSteps": 1, "system": "openai.chat", "maxRetries": 2}

    trace = ingest.trace(tid)
    assert trace is not None
    assert (trace["user_id"], trace["session_id"]) == ("user-9", "session-4")
    assert trace["tags"] == ["prod", "weather"] and trace["name"] == "weather-bot:ai.generateText"
    assert trace["total_cost"] == pytest.approx(2.4e-05)


def test_tool_call_span(ingest: Ingest) -> None:
    tid = trace_id()
    sid = span_id()
    tool = SpanSpec(
        tid,
        sid,
        "ai.toolCall",
        attributes={
            "operation.name": "ai.toolCall weather-bot",
            "ai.operationId": "ai.toolCall",
            "ai.telemetry.functionId": "weather-bot",
            "ai.toolCall.name": "weather",
            "ai.toolCall.id": "call_1",
            "ai.toolCall.args": '{"city":"Paris"}',
            "ai.toolCall.result": '{"temperature":24,"sky":"sunny"}',
        },
    )
    ingest.ok([tool], scope="ai")
    obs = ingest.observation(tid, sid)
    assert obs["type"] == "TOOL" and obs["name"] == "weather"
    assert json.loads(obs["input"]) == {"city": "Paris"}
    assert json.loads(obs["output"]) == {"temperature": 24, "sky": "sunny"}
    assert obs["model"] is None and obs["usage_details"] == {} and obs["model_parameters"] is None
    assert obs["metadata"]["attributes"] == {}


def test_embed_span(ingest: Ingest) -> None:
    tid = trace_id()
    sid = span_id()
    embed = SpanSpec(
        tid,
        sid,
        "ai.embed.doEmbed",
        attributes={
            "operation.name": "ai.embed.doEmbed",
            "ai.operationId": "ai.embed.doEmbed",
            "ai.model.id": "text-embedding-3-small",
            "ai.model.provider": "openai.embedding",
            "ai.settings.maxRetries": 2,
            "ai.values": ['"sunny day in Paris"'],
            "ai.embeddings": ["[0.1,0.2]"],
            "ai.usage.tokens": 6,
        },
    )
    ingest.ok([embed], scope="ai")
    obs = ingest.observation(tid, sid)
    assert obs["type"] == "EMBEDDING" and obs["name"] == "ai.embed.doEmbed"
    assert obs["model"] == "text-embedding-3-small"
    # an embedding's count is its input (so it is priced), and the values embedded are its input
    assert obs["usage_details"] == {"input": 6, "total": 6} and obs["total_tokens"] == 6
    assert json.loads(obs["input"]) == ["sunny day in Paris"] and obs["total_cost"] > 0
    assert json.loads(obs["model_parameters"]) == {"system": "openai.embedding", "maxRetries": 2}
    assert obs["matched_model_id"] == "openai/text-embedding-3-small"


def test_stream_text_with_tool_calls(ingest: Ingest) -> None:
    tid = trace_id()
    sid = span_id()
    stream = SpanSpec(
        tid,
        sid,
        "ai.streamText.doStream",
        start_ns=BASE_NS,
        attributes={
            "operation.name": "ai.streamText.doStream",
            "ai.operationId": "ai.streamText.doStream",
            "ai.model.id": "gpt-4o-mini",
            "ai.model.provider": "openai.chat",
            "ai.prompt.messages": orjson.dumps(MESSAGES).decode(),
            "ai.response.text": "Let me check.",
            "ai.response.toolCalls": orjson.dumps(TOOL_CALLS).decode(),
            "ai.response.msToFirstChunk": 312.5,
            "ai.response.finishReason": "tool-calls",
            "ai.usage.inputTokens": 80,
            "ai.usage.outputTokens": 30,
            "ai.usage.totalTokens": 110,
            "ai.usage.cachedInputTokens": 20,
            "ai.usage.reasoningTokens": 10,
            "gen_ai.system": "openai.chat",
            "gen_ai.request.model": "gpt-4o-mini",
        },
    )
    ingest.ok([stream], scope="ai")
    obs = ingest.observation(tid, sid)
    assert obs["type"] == "GENERATION" and obs["name"] == "ai.streamText.doStream"
    assert json.loads(obs["output"]) == {"role": "assistant", "content": "Let me check.", "tool_calls": TOOL_CALLS}
    # the SDK's own counts (no gen_ai.usage.*): inclusive, cache and reasoning taken out
    assert obs["usage_details"] == {
        "input": 60,
        "input_cached_tokens": 20,
        "output": 20,
        "output_reasoning_tokens": 10,
        "total": 110,
    }
    assert (obs["input_tokens"], obs["output_tokens"], obs["total_tokens"]) == (80, 30, 110)
    assert obs["completion_start_time_us"] == BASE_NS // 1000 + 312_500
    assert obs["cost_source"] == "catalog" and obs["total_cost"] > 0


def test_tool_calls_only_output_and_without_model_info(ingest: Ingest) -> None:
    tid = trace_id()
    calls, bare = span_id(), span_id()
    ingest.ok(
        [
            SpanSpec(
                tid,
                calls,
                "ai.generateText.doGenerate",
                attributes={
                    "ai.operationId": "ai.generateText.doGenerate",
                    "ai.model.id": "gpt-4o-mini",
                    "ai.response.toolCalls": orjson.dumps(TOOL_CALLS).decode(),
                },
            ),
            # a model call without model info is no generation
            SpanSpec(
                tid, bare, "ai.generateText.doGenerate", attributes={"ai.operationId": "ai.generateText.doGenerate"}
            ),
        ],
        scope="ai",
    )
    assert json.loads(ingest.observation(tid, calls)["output"]) == TOOL_CALLS
    assert ingest.observation(tid, calls)["type"] == "GENERATION"
    assert ingest.observation(tid, bare)["type"] == "SPAN"


def test_vercel_attributes_are_not_read_in_other_scopes(ingest: Ingest) -> None:
    tid = trace_id()
    sid = span_id()
    attributes: dict[str, Any] = {
        "ai.operationId": "ai.toolCall",
        "ai.toolCall.name": "weather",
        "ai.prompt.messages": orjson.dumps(MESSAGES).decode(),
        "ai.telemetry.metadata.tenant": "acme",
        "ai.model.id": "gpt-4o-mini",
    }
    ingest.ok([SpanSpec(tid, sid, "not-vercel", attributes=attributes)], scope="some.other.library")
    obs = ingest.observation(tid, sid)
    assert obs["type"] == "SPAN" and obs["name"] == "not-vercel" and obs["input"] is None
    assert obs["model"] == "gpt-4o-mini"  # the model precedence holds for every scope
    unused = {key: value for key, value in attributes.items() if key != "ai.model.id"}
    assert obs["metadata"]["attributes"] == unused


@pytest.mark.parametrize("value_index", range(len(WEIRD_VALUES)))
def test_weird_values_on_every_vercel_key(ingest: Ingest, value_index: int) -> None:
    value = WEIRD_VALUES[value_index]
    keys = list(SCOPED_KEYS["ai"])
    keys += ["ai.telemetry.metadata.userId", "ai.telemetry.metadata.tags", "ai.model.id"]
    tid = trace_id()
    spans = [SpanSpec(tid, span_id(), f"s{i}", attributes={key: value}) for i, key in enumerate(keys)]
    spans.append(SpanSpec(tid, span_id(), "all", attributes=dict.fromkeys(keys, value)))
    # with an operation and a model, so the generation paths (usage, parameters) read the value too
    model_call = {"ai.operationId": "ai.streamText.doStream", "ai.model.id": "gpt-4o-mini"}
    spans += [SpanSpec(tid, span_id(), "call", attributes={key: value, **model_call}) for key in keys]
    for fmt in ("protobuf", "json"):
        response = ingest.post(spans, scope="ai", fmt=fmt)
        assert response.status_code in (200, 400), response.text
    trace = ingest.trace(tid)
    assert trace is not None and trace["observation_count"] == len(spans)
