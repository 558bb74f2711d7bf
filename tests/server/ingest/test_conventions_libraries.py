"""What the instrumentation libraries send (attribute for attribute, as recorded from their current
releases) → what we store: Logfire, Pydantic AI, OpenInference, OpenLLMetry, first tokens, costs,
usage kept as sent, root metadata on the trace. The same libraries run for real in tests/compat."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.server.ingest.conftest import Ingest
from tests.server.ingest.otlp_builders import BASE_NS, ResourceSpec, SpanSpec, span_id, trace_id

MS = 1_000_000  # ns
CONVERSATION = "01a2439f-0b3d-72c9-a1c0-e77b6c666422"  # minted in the same ms as the run's id below
RUN_ID = "01a2439f-0b3d-72c9-a1c0-e77a7ac0cc02"
EARLIER_CONVERSATION = "01a2439f-0a00-7000-8000-000000000001"  # minted before the run (continued)
USAGE = {
    "gen_ai.usage.input_tokens": 42,
    "gen_ai.usage.output_tokens": 17,
    "gen_ai.usage.cache_read.input_tokens": 10,
    "gen_ai.usage.details.audio_tokens": 0,
    "gen_ai.usage.details.reasoning_tokens": 5,
    "gen_ai.usage.details.cache_read_tokens": 10,
}


def _post(ingest: Ingest, scope: str, *specs: SpanSpec) -> dict[str, dict[str, Any]]:
    ingest.ok([ResourceSpec(list(specs), scope_name=scope)])
    return ingest.observations(specs[0].trace_id)


def test_pydantic_ai_usage_details_and_total(ingest: Ingest) -> None:
    """details.* counts are named as the others; the total is input + output (not every key)."""
    tid, sid = trace_id(), span_id()
    spec = SpanSpec(tid, sid, "chat gpt-4o-mini", attributes={"gen_ai.operation.name": "chat", **USAGE})
    obs = _post(ingest, "pydantic-ai", spec)[sid]
    assert obs["usage_details"] == {
        "input": 32,
        "input_cached_tokens": 10,
        "output": 12,
        "output_reasoning_tokens": 5,
        "audio_tokens": 0,
        "total": 59,
    }
    assert (obs["input_tokens"], obs["output_tokens"], obs["total_tokens"]) == (42, 17, 59)
    tid, sid = trace_id(), span_id()
    counts = {
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 500,
        "gen_ai.usage.details.reasoning_tokens": 100,
        "gen_ai.usage.details.web_search_requests": 2,
    }
    obs = _post(ingest, "pydantic-ai", SpanSpec(tid, sid, "chat", attributes=counts))[sid]
    assert obs["total_tokens"] == 1500 and obs["usage_details"]["total"] == 1500
    assert obs["usage_details"]["output_reasoning_tokens"] == 100 and obs["usage_details"]["output"] == 400


def test_pydantic_ai_agent_run_input_output_cost_and_first_chunk(ingest: Ingest) -> None:
    tid, agent_id, chat_id = trace_id(), span_id(), span_id()
    messages = [
        {"role": "user", "parts": [{"type": "text", "content": "Hello"}]},
        {"role": "assistant", "parts": [{"type": "text", "content": "Echo: Hello"}]},
    ]
    agent = SpanSpec(
        tid,
        agent_id,
        "invoke_agent helper",
        end_ns=BASE_NS + 100 * MS,
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "helper",
            "logfire.msg": "helper run",
            "final_result": "Echo: Hello",
            "pydantic_ai.all_messages": json.dumps(messages),
            "gen_ai.system_instructions": '[{"type": "text", "content": "Be brief."}]',
            "gen_ai.aggregated_usage.input_tokens": 42,
        },
    )
    chat = SpanSpec(
        tid,
        chat_id,
        "chat gpt-4o-mini",
        parent_id=agent_id,
        start_ns=BASE_NS + 10 * MS,
        end_ns=BASE_NS + 90 * MS,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "operation.cost": 1.575e-05,
            "gen_ai.client.operation.time_to_first_chunk": 0.046,
            **USAGE,
        },
    )
    stored = _post(ingest, "pydantic-ai", agent, chat)
    run, call = stored[agent_id], stored[chat_id]
    assert run["type"] == "AGENT" and run["name"] == "helper run"
    assert json.loads(run["input"]) == [
        {"role": "system", "content": [{"type": "text", "content": "Be brief."}]},
        *messages,
    ]
    assert json.loads(run["output"]) == "Echo: Hello" and run["total_tokens"] == 0
    assert call["cost_source"] == "provided" and call["total_cost"] == pytest.approx(1.575e-05)
    assert call["completion_start_time_us"] == (BASE_NS + 10 * MS) // 1000 + 46_000
    trace = ingest.trace(tid)
    assert trace is not None and json.loads(trace["output"]) == "Echo: Hello"


def test_pydantic_ai_embedding_inputs(ingest: Ingest) -> None:
    tid, sid = trace_id(), span_id()
    attributes = {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.request.model": "text-embedding-3-small",
        "inputs": '["Hello embeddings"]',
        "gen_ai.usage.input_tokens": 6,
    }
    obs = _post(ingest, "pydantic-ai", SpanSpec(tid, sid, "embeddings", attributes=attributes))[sid]
    assert obs["type"] == "EMBEDDING" and json.loads(obs["input"]) == ["Hello embeddings"]
    assert obs["total_tokens"] == 6


@pytest.mark.parametrize(
    ("conversation", "continued", "session"),
    [
        (CONVERSATION, False, None),  # minted for this lone run: no session
        (CONVERSATION, True, CONVERSATION),  # the run continues its history
        (EARLIER_CONVERSATION, False, EARLIER_CONVERSATION),  # minted by an earlier run
        ("chat-42", False, "chat-42"),  # named by the application
    ],
)
def test_pydantic_ai_conversation_is_a_session_when_it_is_one(
    ingest: Ingest, conversation: str, continued: bool, session: str | None
) -> None:
    tid, sid = trace_id(), span_id()
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.conversation.id": conversation,
        "gen_ai.agent.call.id": RUN_ID,
    }
    if continued:
        attributes["pydantic_ai.new_message_index"] = 2
    obs = _post(ingest, "pydantic-ai", SpanSpec(tid, sid, "invoke_agent helper", attributes=attributes))[sid]
    trace = ingest.trace(tid)
    assert trace is not None and trace["session_id"] == session
    if session is None:  # still found in the metadata
        assert obs["metadata"]["gen_ai.conversation.id"] == conversation
        assert trace["metadata"]["gen_ai.conversation.id"] == conversation


def test_logfire_names_levels_and_a_stream_counted_once(ingest: Ingest) -> None:
    template = "Chat Completion with {request_data[model]!r}"
    common = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.input.messages": '[{"role": "user", "parts": [{"type": "text", "content": "Hello"}]}]',
        "request_data": '{"model": "gpt-4o-mini"}',
    }
    tid, request_id, answer_id, note_id = trace_id(), span_id(), span_id(), span_id()
    request = SpanSpec(
        tid,
        request_id,
        template,
        end_ns=BASE_NS + 5 * MS,
        attributes={
            **common,
            "logfire.msg_template": template,
            "logfire.msg": "Chat Completion with 'gpt-4o-mini'",
            "logfire.span_type": "span",
            "logfire.json_schema": '{"type": "object"}',
        },
    )
    raw_usage = {
        "completion_tokens": 17,
        "prompt_tokens": 42,
        "total_tokens": 59,
        "completion_tokens_details": {"reasoning_tokens": 5},
        "prompt_tokens_details": {"cached_tokens": 10},
    }
    answer = SpanSpec(
        tid,
        answer_id,
        "streaming response from {request_data[model]!r} took {duration:.2f}s",
        start_ns=BASE_NS + 50 * MS,
        end_ns=BASE_NS + 50 * MS,
        attributes={
            **common,
            "logfire.span_type": "log",
            "logfire.level_num": 9,
            "logfire.msg": "streaming response from 'gpt-4o-mini' took 0.04s",
            "duration": 0.04,
            "gen_ai.output.messages": '[{"role": "assistant", "parts": [{"type": "text", "content": "Echo"}]}]',
            "gen_ai.usage.input_tokens": 42,
            "gen_ai.usage.output_tokens": 17,
            "gen_ai.usage.cache_read.input_tokens": 10,
            "gen_ai.usage.raw": json.dumps(raw_usage),
        },
    )
    note = SpanSpec(
        tid,
        note_id,
        "cache {state}",
        attributes={"logfire.span_type": "log", "logfire.level_num": 13, "logfire.msg": "cache cold"},
    )
    stored = _post(ingest, "logfire.openai", request, answer, note)
    assert stored[request_id]["type"] == "SPAN" and stored[request_id]["name"] == "Chat Completion with 'gpt-4o-mini'"
    assert (
        stored[request_id]["total_tokens"] == 0
        and stored[request_id]["metadata"]["attributes"].get("logfire.json_schema") is None
    )
    generation = stored[answer_id]
    assert generation["type"] == "GENERATION" and generation["name"].startswith("streaming response from 'gpt-4o-mini'")
    assert generation["start_time_us"] == (BASE_NS + 10 * MS) // 1000 and generation["level"] == "DEFAULT"
    assert generation["usage_details"] == {
        "input": 32,
        "input_cached_tokens": 10,
        "output": 12,
        "output_reasoning_tokens": 5,
        "total": 59,
    }
    assert json.loads(generation["output"])[0]["role"] == "assistant"
    assert stored[note_id]["type"] == "EVENT" and stored[note_id]["name"] == "cache cold"
    assert stored[note_id]["level"] == "WARNING"
    trace = ingest.trace(tid)
    assert trace is not None and trace["total_tokens"] == 59


def test_openinference_embedding_model_failed_call_first_token_and_costs(ingest: Ingest) -> None:
    tid, embedding_id, failed_id, stream_id = trace_id(), span_id(), span_id(), span_id()
    embedding = SpanSpec(
        tid,
        embedding_id,
        "CreateEmbeddings",
        attributes={
            "openinference.span.kind": "EMBEDDING",
            "embedding.model_name": "text-embedding-3-small",
            "embedding.invocation_parameters": '{"model": "text-embedding-3-small"}',
            "input.value": '{"input": ["Hello"]}',
            "llm.token_count.prompt": 6,
            "llm.token_count.total": 6,
        },
    )
    failed = SpanSpec(
        tid,
        failed_id,
        "ChatCompletion",
        status_code=2,
        status_message="BadRequestError: refused",
        attributes={
            "openinference.span.kind": "LLM",
            "llm.invocation_parameters": '{"model": "gpt-4o-mini"}',
            "input.value": '{"messages": [{"role": "user", "content": "FAIL"}]}',
        },
    )
    stream = SpanSpec(
        tid,
        stream_id,
        "ChatCompletion",
        end_ns=BASE_NS + 80 * MS,
        events=[("First Token Stream Event", BASE_NS + 30 * MS, {})],
        attributes={
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o-mini",
            "llm.token_count.prompt": 42,
            "llm.token_count.completion": 17,
            "llm.cost.prompt": 0.01,
            "llm.cost.completion": 0.02,
            "llm.cost.total": 0.03,
            "llm.cost.prompt_details.cache_read": 0.005,
        },
    )
    stored = _post(ingest, "openinference.instrumentation.openai", embedding, failed, stream)
    assert stored[embedding_id]["model"] == "text-embedding-3-small"
    assert stored[failed_id]["model"] == "gpt-4o-mini" and stored[failed_id]["level"] == "ERROR"
    assert stored[stream_id]["completion_start_time_us"] == (BASE_NS + 30 * MS) // 1000
    assert stored[stream_id]["cost_source"] == "provided"
    assert (stored[stream_id]["input_cost"], stored[stream_id]["output_cost"]) == (
        pytest.approx(0.01),
        pytest.approx(0.02),
    )
    assert stored[stream_id]["total_cost"] == pytest.approx(0.03)


def test_openllmetry_first_chunk_event_is_the_first_token(ingest: Ingest) -> None:
    tid, sid = trace_id(), span_id()
    chunks = [("gen_ai.content.completion.chunk", BASE_NS + offset * MS, {}) for offset in (20, 40, 60)]
    spec = SpanSpec(
        tid,
        sid,
        "openai.chat",
        end_ns=BASE_NS + 70 * MS,
        events=chunks,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.is_streaming": True,
        },
    )
    obs = _post(ingest, "opentelemetry.instrumentation.openai.v1", spec)[sid]
    assert obs["completion_start_time_us"] == (BASE_NS + 20 * MS) // 1000


@pytest.mark.parametrize("key", ["gen_ai.response.time_to_first_chunk", "gen_ai.client.operation.time_to_first_chunk"])
def test_gen_ai_time_to_first_chunk(ingest: Ingest, key: str) -> None:
    tid, sid = trace_id(), span_id()
    attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini", key: 0.25}
    obs = _post(ingest, "any.library", SpanSpec(tid, sid, "chat", end_ns=BASE_NS + 900 * MS, attributes=attributes))[
        sid
    ]
    assert obs["completion_start_time_us"] == BASE_NS // 1000 + 250_000


def test_declared_usage_is_kept_as_sent(ingest: Ingest, client: Any) -> None:
    """The peer SDK's usage_details come back with their own keys (plus total); columns and cost
    read them normalised."""
    tid, sid = trace_id(), span_id()
    attributes = {
        "langfuse.observation.type": "generation",
        "langfuse.observation.model.name": "gpt-4o-mini",
        "langfuse.observation.usage_details": '{"prompt_tokens": 100, "completion_tokens": 20}',
    }
    obs = _post(ingest, "langfuse-sdk", SpanSpec(tid, sid, "llm", attributes=attributes))[sid]
    assert obs["usage_details"] == {"prompt_tokens": 100, "completion_tokens": 20, "total": 120}
    assert (obs["input_tokens"], obs["output_tokens"], obs["total_tokens"]) == (100, 20, 120)
    assert obs["total_cost"] == pytest.approx((100 * 0.15 + 20 * 0.6) / 1e6)
    response = client.get(f"/api/public/observations/{sid}", headers=ingest.project.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["usageDetails"] == {"prompt_tokens": 100, "completion_tokens": 20, "total": 120}
    assert (body["inputUsage"], body["outputUsage"], body["totalUsage"]) == (100, 20, 120)


def test_root_span_metadata_is_trace_metadata(ingest: Ingest) -> None:
    """The peer SDK's experiment runs write their facts on the root span and read them on the trace."""
    tid, root_id, child_id = trace_id(), span_id(), span_id()
    root = SpanSpec(
        tid,
        root_id,
        "experiment-item-run",
        attributes={
            "langfuse.observation.metadata.experiment_name": '"capitals"',
            "langfuse.observation.metadata.dataset_id": '"ds-1"',
            "langfuse.observation.metadata.langfuse_user_id": '"u-1"',
            "langfuse.trace.metadata.dataset_id": '"ds-declared"',
        },
    )
    child = SpanSpec(
        tid,
        child_id,
        "task",
        parent_id=root_id,
        attributes={"langfuse.observation.metadata.step": '"not the trace\'s"'},
    )
    _post(ingest, "langfuse-sdk", child, root)
    trace = ingest.trace(tid)
    assert trace is not None
    assert trace["metadata"] == {"experiment_name": "capitals", "dataset_id": "ds-declared"}
    assert trace["user_id"] == "u-1"


def test_logfire_before_the_genai_attributes(ingest: Ingest) -> None:
    """Logfire 3.x: a call is its request_data and response_data, on its LLM integrations' spans."""
    tid, chat_id, embedding_id = trace_id(), span_id(), span_id()
    usage = {"prompt_tokens": 42, "completion_tokens": 17, "prompt_tokens_details": {"cached_tokens": 10}}
    chat = SpanSpec(
        tid,
        chat_id,
        "Chat Completion with {request_data[model]!r}",
        attributes={
            "request_data": json.dumps({"messages": [{"role": "user", "content": "Hi"}], "model": "gpt-4o-mini"}),
            "response_data": json.dumps({"message": {"role": "assistant", "content": "Echo: Hi"}, "usage": usage}),
            "logfire.msg_template": "Chat Completion with {request_data[model]!r}",
            "logfire.msg": "Chat Completion with 'gpt-4o-mini'",
            "logfire.span_type": "span",
        },
    )
    embedding = SpanSpec(
        tid,
        embedding_id,
        "Embedding Creation with {request_data[model]!r}",
        attributes={
            "request_data": json.dumps({"input": ["Hello"], "model": "text-embedding-3-small"}),
            "response_data": json.dumps({"usage": {"prompt_tokens": 6, "total_tokens": 6}}),
            "logfire.msg_template": "Embedding Creation with {request_data[model]!r}",
            "logfire.span_type": "span",
        },
    )
    stored = _post(ingest, "logfire.openai", chat, embedding)
    call = stored[chat_id]
    assert (call["type"], call["model"]) == ("GENERATION", "gpt-4o-mini")
    assert json.loads(call["input"]) == [{"role": "user", "content": "Hi"}]
    assert json.loads(call["output"]) == {"role": "assistant", "content": "Echo: Hi"}
    assert call["usage_details"] == {"input": 32, "input_cached_tokens": 10, "output": 17, "total": 59}
    assert call["total_cost"] == pytest.approx(1.575e-05)  # catalog price, cached part at its rate
    embedded = stored[embedding_id]
    assert (embedded["type"], embedded["model"], embedded["total_tokens"]) == ("EMBEDDING", "text-embedding-3-small", 6)
    assert json.loads(embedded["input"]) == ["Hello"] and embedded["output"] is None
    # the same keys on another library's span are its own attributes, not read
    tid, sid = trace_id(), span_id()
    other = _post(ingest, "my.library", SpanSpec(tid, sid, "op", attributes={"request_data": '{"model": "x"}'}))[sid]
    assert other["model"] is None and other["metadata"]["attributes"]["request_data"] == '{"model": "x"}'


def test_pydantic_ai_1_0_agent_run_is_counted_once(ingest: Ingest) -> None:
    """Pydantic AI 1.0: the run's span has no operation and repeats its requests' usage."""
    tid, agent_id, chat_id = trace_id(), span_id(), span_id()
    counts = {"gen_ai.usage.input_tokens": 42, "gen_ai.usage.output_tokens": 17}
    agent = SpanSpec(
        tid,
        agent_id,
        "agent run",
        attributes={
            "agent_name": "helper",
            "logfire.msg": "helper run",
            "final_result": "Echo: Hi",
            "pydantic_ai.all_messages": '[{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}]',
            **counts,
        },
    )
    chat = SpanSpec(
        tid, chat_id, "chat gpt-4o-mini", parent_id=agent_id, attributes={"gen_ai.operation.name": "chat", **counts}
    )
    stored = _post(ingest, "pydantic-ai", agent, chat)
    assert stored[agent_id]["type"] == "AGENT" and stored[agent_id]["total_tokens"] == 0
    trace = ingest.trace(tid)
    assert trace is not None and trace["total_tokens"] == 59
