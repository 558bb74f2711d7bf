"""One realistic span per attribute convention, posted through the endpoint, read back from the database."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from tests.server.ingest.conftest import Ingest
from tests.server.ingest.otlp_builders import BASE_NS, SpanSpec, span_id, trace_id


def _single(ingest: Ingest, attributes: dict[str, Any], **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    tid, sid = trace_id(), span_id()
    events = kwargs.pop("events", [])
    name = kwargs.pop("name", "op")
    status = kwargs.pop("status", (0, ""))
    spec = SpanSpec(
        tid, sid, name, attributes=attributes, events=events, status_code=status[0], status_message=status[1]
    )
    ingest.ok([spec], **kwargs)
    trace = ingest.trace(tid)
    assert trace is not None
    return trace, ingest.observation(tid, sid)


def test_ours_generation_and_trace_attributes(ingest: Ingest) -> None:
    trace, obs = _single(
        ingest,
        {
            "interactiveai.observation.type": "generation",
            "interactiveai.observation.input": '[{"role": "user", "content": "hi"}]',
            "interactiveai.observation.output": "plain text answer",
            "interactiveai.observation.level": "WARN",
            "interactiveai.observation.status_message": "slow",
            "interactiveai.observation.model.name": "gpt-4o",
            "interactiveai.observation.model.parameters": '{"temperature": 0.1}',
            "interactiveai.observation.usage_details": '{"input": 100, "output": 20, "input_cached_tokens": 40}',
            "interactiveai.observation.cost_details": '{"input": 0.001, "output": 0.002}',
            "interactiveai.observation.completion_start_time": '"2025-06-15T15:06:40.500000Z"',
            "interactiveai.observation.metadata.step": '{"n": 1}',
            "interactiveai.observation.metadata.note": "not json",
            "interactiveai.trace.name": "chat",
            "interactiveai.trace.tags": ["b", "a"],
            "interactiveai.trace.input": '{"q": "hi"}',
            "interactiveai.trace.output": '{"a": "hello"}',
            "interactiveai.trace.public": True,
            "interactiveai.trace.metadata.tenant": '"acme"',
            "interactiveai.version": "v7",
            "interactiveai.release": "r1",
            "interactiveai.environment": "Staging",
            "user.id": "u1",
            "session.id": "s1",
        },
    )
    assert obs["type"] == "GENERATION"
    assert json.loads(obs["input"]) == [{"role": "user", "content": "hi"}]
    assert obs["output"] == '"plain text answer"'  # always valid JSON text
    assert obs["level"] == "WARNING" and obs["status_message"] == "slow"
    assert obs["model"] == "gpt-4o" and json.loads(obs["model_parameters"]) == {"temperature": 0.1}
    assert obs["usage_details"] == {"input": 100, "output": 20, "input_cached_tokens": 40, "total": 160}
    assert (obs["input_tokens"], obs["output_tokens"], obs["total_tokens"]) == (140, 20, 160)
    assert obs["cost_source"] == "provided"
    assert obs["input_cost"] == pytest.approx(0.001) and obs["output_cost"] == pytest.approx(0.002)
    assert obs["total_cost"] == pytest.approx(0.003)
    assert obs["completion_start_time_us"] == 1_750_000_000_500_000
    assert obs["metadata"] == {"step": {"n": 1}, "note": "not json"}
    assert obs["environment"] == "staging" and obs["version"] == "v7"
    assert obs["service_name"] == "test-service" and obs["scope_name"] == "interactiveai"
    assert trace["name"] == "chat" and trace["tags"] == ["a", "b"]
    assert json.loads(trace["input"]) == {"q": "hi"} and json.loads(trace["output"]) == {"a": "hello"}
    assert trace["public"] is True or trace["public"] == 1
    # a root span's own metadata is the trace's too, below the trace's declared metadata
    assert trace["metadata"] == {"step": {"n": 1}, "note": "not json", "tenant": "acme"}
    assert (trace["user_id"], trace["session_id"], trace["release"], trace["version"]) == ("u1", "s1", "r1", "v7")
    assert trace["environment"] == "staging"
    assert trace["level"] == "WARNING" and trace["warning_count"] == 1
    assert trace["total_cost"] == pytest.approx(0.003)
    assert ingest.tags(trace["id"]) == ["a", "b"]


def test_ours_completion_start_time(ingest: Ingest) -> None:
    _, obs = _single(
        ingest,
        {"interactiveai.observation.completion_start_time": '"2025-06-15T15:06:40.500000Z"'},
    )
    assert obs["completion_start_time_us"] == 1_750_000_000_500_000


def test_langfuse_sdk_span(ingest: Ingest) -> None:
    trace, obs = _single(
        ingest,
        {
            "langfuse.observation.type": "span",  # old SDKs: generations were typed span
            "langfuse.observation.model.name": "claude-3-5-sonnet",
            "langfuse.observation.input": '{"prompt": "x"}',
            "langfuse.observation.output": '{"completion": "y"}',
            "langfuse.observation.usage_details": '{"input": 10, "output": 5}',
            "langfuse.observation.cost_details": '{"total": 0.5}',
            "langfuse.observation.metadata.k": '"v"',
            "langfuse.trace.name": "lf-trace",
            "langfuse.trace.tags": '["x", "y"]',
            "langfuse.trace.metadata.team": '"core"',
            "langfuse.user.id": "lf-user",
            "langfuse.session.id": "lf-session",
            "langfuse.environment": "prod",
            "langfuse.release": "2.0",
            "langfuse.version": "9",
            "langfuse.observation.level": "ERROR",
        },
        scope="langfuse-sdk",
    )
    assert obs["type"] == "GENERATION"
    assert obs["model"] == "claude-3-5-sonnet" and obs["usage_details"]["total"] == 15
    assert obs["total_cost"] == pytest.approx(0.5) and obs["level"] == "ERROR"
    assert obs["metadata"] == {"k": "v"}
    assert trace["name"] == "lf-trace" and trace["tags"] == ["x", "y"]
    assert (trace["user_id"], trace["session_id"], trace["environment"]) == ("lf-user", "lf-session", "prod")
    assert (trace["release"], trace["version"]) == ("2.0", "9")
    assert trace["metadata"] == {"k": "v", "team": "core"}
    assert trace["level"] == "ERROR" and trace["error_count"] == 1


def test_gen_ai_attributes(ingest: Ingest) -> None:
    trace, obs = _single(
        ingest,
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o-2024-08-06",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.request.temperature": 0.7,
            "gen_ai.request.max_tokens": 256,
            "gen_ai.usage.input_tokens": 1000,
            "gen_ai.usage.output_tokens": 300,
            "gen_ai.usage.cache_read_input_tokens": 400,
            "gen_ai.usage.cost": 0.0123,
            "gen_ai.conversation.id": "conv-1",
            "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}]',
            "gen_ai.output.messages": '[{"role": "assistant", "parts": [{"type": "text", "content": "Hello"}]}]',
            "gen_ai.system_instructions": '[{"type": "text", "content": "Be brief"}]',
            "deployment.environment.name": "qa",
        },
        scope="opentelemetry.instrumentation.openai_v2",
        name="chat gpt-4o",
    )
    assert obs["type"] == "GENERATION" and obs["model"] == "gpt-4o-2024-08-06"
    assert json.loads(obs["model_parameters"]) == {"temperature": 0.7, "max_tokens": 256}
    # inclusive input made exclusive: 1000 - 400 cached
    assert obs["usage_details"] == {"input": 600, "output": 300, "input_cached_tokens": 400, "total": 1300}
    assert (obs["input_tokens"], obs["output_tokens"], obs["total_tokens"]) == (1000, 300, 1300)
    assert obs["total_cost"] == pytest.approx(0.0123)
    messages = json.loads(obs["input"])
    assert messages[0]["role"] == "system" and messages[1]["role"] == "user"
    assert json.loads(obs["output"])[0]["role"] == "assistant"
    assert obs["environment"] == "qa"
    assert obs["metadata"]["attributes"]["gen_ai.system"] == "openai"
    assert obs["metadata"]["scope"]["name"] == "opentelemetry.instrumentation.openai_v2"
    assert obs["metadata"]["resourceAttributes"] == {"service.name": "test-service"}
    assert trace["session_id"] == "conv-1" and trace["environment"] == "qa"
    assert trace["input_tokens"] == 1000 and trace["total_tokens"] == 1300


def test_gen_ai_events(ingest: Ingest) -> None:
    t0 = BASE_NS
    _, obs = _single(
        ingest,
        {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 5},
        events=[
            ("gen_ai.system.message", t0, {"content": "You are terse."}),
            ("gen_ai.user.message", t0, {"content": "Capital of France?"}),
            (
                "gen_ai.choice",
                t0,
                {"index": 0, "finish_reason": "stop", "message": '{"role": "assistant", "content": "Paris"}'},
            ),
        ],
        scope="opentelemetry.instrumentation.openai",
    )
    assert json.loads(obs["input"]) == [
        {"content": "You are terse.", "role": "system"},
        {"content": "Capital of France?", "role": "user"},
    ]
    assert json.loads(obs["output"]) == {"role": "assistant", "content": "Paris"}


def test_gen_ai_operation_details_event(ingest: Ingest) -> None:
    _, obs = _single(
        ingest,
        {"gen_ai.operation.name": "invoke_agent", "gen_ai.usage.input_tokens": 50},
        events=[
            (
                "gen_ai.client.inference.operation.details",
                BASE_NS,
                {"gen_ai.input.messages": '[{"role": "user"}]', "gen_ai.output.messages": '[{"role": "assistant"}]'},
            )
        ],
        scope="some.agent.framework",
    )
    assert obs["type"] == "AGENT"
    assert json.loads(obs["input"]) == [{"role": "user"}] and json.loads(obs["output"]) == [{"role": "assistant"}]
    assert obs["usage_details"] == {} and obs["total_tokens"] == 0  # agents' children carry usage


def test_gen_ai_tool(ingest: Ingest) -> None:
    _, obs = _single(
        ingest,
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "get_weather",
            "gen_ai.tool.call.id": "call_1",
            "gen_ai.tool.call.arguments": '{"city": "Paris"}',
            "gen_ai.tool.call.result": '{"temp": 20}',
        },
        scope="pydantic-ai",
        name="execute_tool get_weather",
    )
    assert obs["type"] == "TOOL" and obs["name"] == "get_weather"
    assert json.loads(obs["input"]) == {"city": "Paris"} and json.loads(obs["output"]) == {"temp": 20}


def test_openinference(ingest: Ingest) -> None:
    trace, obs = _single(
        ingest,
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-3.5-turbo",
            "llm.invocation_parameters": '{"temperature": 0}',
            "llm.input_messages.0.message.role": "system",
            "llm.input_messages.0.message.content": "Be nice",
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.content": "Hello",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.content": "Hi!",
            "llm.token_count.prompt": 12,
            "llm.token_count.completion": 3,
            "llm.token_count.total": 15,
            "llm.cost.total": 0.02,
            "session.id": "oi-session",
            "user.id": "oi-user",
            "tag.tags": ["oi", "llama"],
            "metadata": '{"framework": "llama_index"}',
        },
        scope="openinference.instrumentation.llama_index",
    )
    assert obs["type"] == "GENERATION" and obs["model"] == "gpt-3.5-turbo"
    assert json.loads(obs["model_parameters"]) == {"temperature": 0}
    assert json.loads(obs["input"]) == [{"role": "system", "content": "Be nice"}, {"role": "user", "content": "Hello"}]
    assert json.loads(obs["output"]) == [{"role": "assistant", "content": "Hi!"}]
    assert obs["usage_details"] == {"input": 12, "output": 3, "total": 15}
    assert obs["total_cost"] == pytest.approx(0.02)
    assert obs["metadata"]["framework"] == "llama_index"
    assert (trace["session_id"], trace["user_id"], trace["tags"]) == ("oi-session", "oi-user", ["llama", "oi"])


def test_openinference_chain_with_values(ingest: Ingest) -> None:
    _, obs = _single(
        ingest,
        {
            "openinference.span.kind": "RETRIEVER",
            "input.value": "what is otel?",
            "input.mime_type": "text/plain",
            "output.value": '{"documents": ["a", "b"]}',
        },
        scope="openinference.instrumentation.langchain",
    )
    assert obs["type"] == "RETRIEVER"
    assert obs["input"] == '"what is otel?"' and json.loads(obs["output"]) == {"documents": ["a", "b"]}


def test_openllmetry(ingest: Ingest) -> None:
    _, obs = _single(
        ingest,
        {
            "llm.request.type": "chat",
            "gen_ai.system": "Anthropic",
            "gen_ai.request.model": "claude-3-haiku",
            "gen_ai.prompt.0.role": "user",
            "gen_ai.prompt.0.content": "Tell me a joke",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.content": "Why did the chicken...",
            "gen_ai.completion.0.finish_reason": "end_turn",
            "gen_ai.usage.prompt_tokens": 9,
            "gen_ai.usage.completion_tokens": 21,
            "llm.usage.total_tokens": 30,
        },
        scope="opentelemetry.instrumentation.anthropic",
        name="anthropic.chat",
    )
    assert obs["type"] == "GENERATION" and obs["model"] == "claude-3-haiku"
    assert json.loads(obs["input"]) == [{"role": "user", "content": "Tell me a joke"}]
    assert json.loads(obs["output"])[0]["finish_reason"] == "end_turn"
    assert obs["usage_details"] == {"input": 9, "output": 21, "total": 30}


def test_openllmetry_workflow_entity(ingest: Ingest) -> None:
    _, obs = _single(
        ingest,
        {
            "traceloop.span.kind": "workflow",
            "traceloop.entity.name": "joke_workflow",
            "traceloop.entity.input": '{"inputs": {"topic": "cats"}}',
            "traceloop.entity.output": '{"outputs": "meow"}',
        },
        scope="opentelemetry.instrumentation.langchain",
    )
    assert obs["type"] == "CHAIN"
    assert json.loads(obs["input"]) == {"inputs": {"topic": "cats"}}
    assert json.loads(obs["output"]) == {"outputs": "meow"}


def test_mlflow(ingest: Ingest) -> None:
    _, obs = _single(
        ingest,
        {
            "mlflow.spanType": '"CHAT_MODEL"',
            "mlflow.spanInputs": '{"messages": [{"role": "user", "content": "hi"}]}',
            "mlflow.spanOutputs": '{"choices": [{"message": {"content": "hello"}}]}',
            "mlflow.traceRequestId": '"tr-123"',
        },
        scope="mlflow.tracing",
    )
    assert obs["type"] == "GENERATION"
    assert json.loads(obs["input"])["messages"][0]["content"] == "hi"
    assert json.loads(obs["output"])["choices"][0]["message"]["content"] == "hello"


def test_status_error_and_resource_fallbacks(ingest: Ingest) -> None:
    trace, obs = _single(
        ingest,
        {"http.method": "GET"},
        status=(2, "boom"),
        resource={"service.name": "api", "service.version": "3.1", "deployment.environment": "Prod-EU"},
        scope="opentelemetry.instrumentation.requests",
    )
    assert obs["level"] == "ERROR" and obs["status_message"] == "boom"
    assert obs["version"] == "3.1" and obs["environment"] == "prod-eu" and obs["service_name"] == "api"
    assert trace["level"] == "ERROR" and trace["error_count"] == 1 and trace["environment"] == "prod-eu"


def test_invalid_environment_is_default(ingest: Ingest) -> None:
    trace, obs = _single(ingest, {"interactiveai.environment": "has spaces!"})
    assert obs["environment"] == "default" and trace["environment"] == "default"


def test_third_party_metadata_is_bounded(ingest: Ingest) -> None:
    attributes = {f"custom.attr.{i}": "x" * 5000 for i in range(200)}
    _, obs = _single(ingest, attributes, scope="my.library")
    extra = obs["metadata"]["attributes"]
    assert len(extra) <= 64 and all(len(v) <= 2000 for v in extra.values())
    assert len(orjson.dumps(obs["metadata"])) < 200_000
