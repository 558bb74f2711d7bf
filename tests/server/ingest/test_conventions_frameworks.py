"""What frameworks send through their instrumentations (attribute for attribute, as recorded from
OpenInference's LangChain, LlamaIndex and OpenAI Agents tracers and the Vercel AI SDK 5 and 6 in
tests/compat) → what we store: a model call's messages over the framework's objects, tool calls
and content parts nested again, retrieved documents, embedding inputs and tokens, spans that end
before their own events, exceptions, and tool names. Other OpenInference-instrumented frameworks
(DSPy, CrewAI, Haystack, Bedrock, …) send the same attributes."""

from __future__ import annotations

import json
from typing import Any

from tests.server.ingest.conftest import Ingest
from tests.server.ingest.otlp_builders import BASE_NS, ResourceSpec, SpanSpec, span_id, trace_id

MS = 1_000_000  # ns
LANGCHAIN = "openinference.instrumentation.langchain"
LLAMA_INDEX = "openinference.instrumentation.llama_index"
LC_INPUT = json.dumps(
    {
        "messages": [
            [
                {"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", "SystemMessage"]},
                {"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", "HumanMessage"]},
            ]
        ]
    }
)
LC_OUTPUT = json.dumps({"generations": [[{"text": "Echo: hi", "type": "ChatGeneration"}]], "type": "LLMResult"})
TOOL_CALL = {
    "tool_calls.0.tool_call.id": "call_1",
    "tool_calls.0.tool_call.function.name": "get_weather",
    "tool_calls.0.tool_call.function.arguments": '{"city": "Paris"}',
}
OPENAI_TOOL_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}


def _post(ingest: Ingest, scope: str, *specs: SpanSpec) -> dict[str, dict[str, Any]]:
    ingest.ok([ResourceSpec(list(specs), scope_name=scope)])
    return ingest.observations(specs[0].trace_id)


def _messages(prefix: str, *messages: dict[str, Any]) -> dict[str, Any]:
    return {
        f"{prefix}.{index}.message.{key}": value
        for index, message in enumerate(messages)
        for key, value in message.items()
    }


def test_a_model_calls_messages_win_over_the_frameworks_objects(ingest: Ingest) -> None:
    tid, llm, chain, failed = trace_id(), span_id(), span_id(), span_id()
    model = {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini"}
    call = SpanSpec(
        tid,
        llm,
        "ChatOpenAI",
        attributes={
            **model,
            "input.value": LC_INPUT,
            "output.value": LC_OUTPUT,
            **_messages(
                "llm.input_messages", {"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}
            ),
            **_messages("llm.output_messages", {"role": "assistant", "content": "Echo: hi"}),
        },
    )
    # a chain carrying messages keeps what it took (LangGraph's nodes); roles alone say nothing
    node = SpanSpec(
        tid,
        chain,
        "model",
        attributes={
            "openinference.span.kind": "CHAIN",
            "input.value": '{"messages": ["state"]}',
            **_messages("llm.input_messages", {"role": "user", "content": "hi"}),
        },
    )
    refused = SpanSpec(
        tid,
        failed,
        "ChatOpenAI",
        attributes={**model, "output.value": LC_OUTPUT, **_messages("llm.output_messages", {"role": "assistant"})},
    )
    stored = _post(ingest, LANGCHAIN, call, node, refused)
    assert json.loads(stored[llm]["input"]) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ]
    assert json.loads(stored[llm]["output"]) == [{"role": "assistant", "content": "Echo: hi"}]
    assert json.loads(stored[chain]["input"]) == {"messages": ["state"]}
    assert json.loads(stored[failed]["output"])["type"] == "LLMResult"


def test_tool_calls_and_content_parts_are_nested_again(ingest: Ingest) -> None:
    tid, asks, answers, legacy = trace_id(), span_id(), span_id(), span_id()
    llm = {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "output.value": "assistant: "}
    ask = SpanSpec(
        tid,
        asks,
        "OpenAI.astream_chat",
        attributes={
            **llm,
            **_messages(
                "llm.output_messages",
                {
                    "role": "assistant",
                    "contents.0.message_content.type": "text",
                    "contents.0.message_content.text": "",
                    **TOOL_CALL,
                },
            ),
        },
    )
    answer = SpanSpec(
        tid,
        answers,
        "OpenAI.chat",
        attributes={
            **llm,
            **_messages(
                "llm.input_messages",
                {
                    "role": "user",
                    "contents.0.message_content.type": "image",
                    "contents.0.message_content.image.image.url": "https://example.com/a.png",
                    "contents.1.message_content.type": "text",
                    "contents.1.message_content.text": "What is this?",
                },
                {"role": "assistant", **TOOL_CALL},
                {"role": "tool", "content": "Sunny", "tool_call_id": "call_1"},
            ),
            **_messages(
                "llm.output_messages",
                {
                    "role": "assistant",
                    "contents.0.message_content.type": "text",
                    "contents.0.message_content.text": "A",
                },
            ),
        },
    )
    stored = _post(ingest, LLAMA_INDEX, ask, answer)
    assert json.loads(stored[asks]["output"]) == [
        {"role": "assistant", "content": "", "tool_calls": [OPENAI_TOOL_CALL]}
    ]
    assert json.loads(stored[answers]["input"]) == [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                {"type": "text", "text": "What is this?"},
            ],
        },
        {"role": "assistant", "tool_calls": [OPENAI_TOOL_CALL]},
        {"role": "tool", "content": "Sunny", "tool_call_id": "call_1"},
    ]
    assert json.loads(stored[answers]["output"]) == [{"role": "assistant", "content": "A"}]
    # OpenLLMetry's older releases flatten their tool calls too, without the wrapper
    completion = {
        "llm.request.type": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.completion.0.role": "assistant",
        "gen_ai.completion.0.tool_calls.0.id": "call_1",
        "gen_ai.completion.0.tool_calls.0.name": "get_weather",
        "gen_ai.completion.0.tool_calls.0.arguments": '{"city": "Paris"}',
    }
    old = _post(ingest, "opentelemetry.instrumentation.openai", SpanSpec(trace_id(), legacy, attributes=completion))
    assert json.loads(old[legacy]["output"]) == [{"role": "assistant", "tool_calls": [OPENAI_TOOL_CALL]}]


def test_a_responses_object_as_output_is_its_messages(ingest: Ingest) -> None:
    """The OpenAI Agents SDK streaming through chat completions sends its Response object only."""
    tid, sid = trace_id(), span_id()
    response = {
        "id": "resp_1",
        "object": "response",
        "model": "gpt-4o-mini",
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Echo: hi"}]},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
        ],
    }
    attributes = {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o-mini",
        "output.value": json.dumps([response]),
    }
    stored = _post(ingest, "openinference.instrumentation.openai_agents", SpanSpec(tid, sid, attributes=attributes))
    assert json.loads(stored[sid]["output"]) == [
        {"role": "assistant", "content": "Echo: hi"},
        {"role": "assistant", "tool_calls": [OPENAI_TOOL_CALL]},
    ]


def test_retrieved_and_reranked_documents_are_the_output(ingest: Ingest) -> None:
    tid, retriever, reranker = trace_id(), span_id(), span_id()
    document = {
        "id": "n1",
        "content": "Paris is the capital of France.",
        "score": 0.99,
        "metadata": {"source": "atlas"},
    }
    flat = {
        "document.id": "n1",
        "document.content": "Paris is the capital of France.",
        "document.score": 0.99,
        "document.metadata": '{"source": "atlas"}',
    }
    retrieve = SpanSpec(
        tid,
        retriever,
        "VectorIndexRetriever.retrieve",
        attributes={
            "openinference.span.kind": "RETRIEVER",
            "input.value": "capital of France",
            "output.value": '["<NodeWithScore(node=TextNode(id_=n1), score=0.99)>"]',
            **{f"retrieval.documents.0.{key}": value for key, value in flat.items()},
        },
    )
    rerank = SpanSpec(
        tid,
        reranker,
        "CohereRerank.postprocess_nodes",
        attributes={
            "openinference.span.kind": "RERANKER",
            "reranker.query": "capital of France",
            "reranker.model_name": "rerank-english-v3.0",
            "reranker.top_k": 1,
            **{f"reranker.input_documents.0.{key}": value for key, value in flat.items()},
            **{f"reranker.output_documents.0.{key}": value for key, value in flat.items()},
        },
    )
    stored = _post(ingest, LLAMA_INDEX, retrieve, rerank)
    assert json.loads(stored[retriever]["input"]) == "capital of France"
    assert json.loads(stored[retriever]["output"]) == [document]
    assert stored[reranker]["type"] == "RETRIEVER" and stored[reranker]["model"] == "rerank-english-v3.0"
    assert json.loads(stored[reranker]["input"]) == {"query": "capital of France", "documents": [document]}
    assert json.loads(stored[reranker]["output"]) == [document]


def test_an_embedding_without_input_value_shows_its_texts(ingest: Ingest) -> None:
    tid, sid = trace_id(), span_id()
    attributes = {
        "openinference.span.kind": "EMBEDDING",
        "embedding.model_name": "text-embedding-3-small",
        "embedding.embeddings.0.embedding.text": "Paris",
        "embedding.embeddings.0.embedding.vector": [0.1, 0.2],
        "embedding.embeddings.1.embedding.text": "Rome",
        "embedding.embeddings.1.embedding.vector": [0.3, 0.4],
    }
    obs = _post(
        ingest, LLAMA_INDEX, SpanSpec(tid, sid, "OpenAIEmbedding.get_text_embedding_batch", attributes=attributes)
    )
    assert obs[sid]["type"] == "EMBEDDING" and json.loads(obs[sid]["input"]) == ["Paris", "Rome"]
    assert "embedding.embeddings.0.embedding.vector" not in obs[sid]["metadata"]["attributes"]


def test_vercel_embeddings_have_their_values_and_input_tokens(ingest: Ingest) -> None:
    """ai 5 and 6: ``ai.values`` (each value JSON-encoded) and ``ai.usage.tokens``, the input."""
    tid, outer, many = trace_id(), span_id(), span_id()
    common = {"ai.model.id": "text-embedding-3-small", "ai.model.provider": "openai.embedding", "ai.usage.tokens": 12}
    embed_many = SpanSpec(
        tid,
        many,
        "ai.embedMany.doEmbed",
        parent_id=outer,
        attributes={**common, "ai.operationId": "ai.embedMany.doEmbed", "ai.values": ['"Paris"', '"Rome"']},
    )
    whole = SpanSpec(tid, outer, "ai.embed", attributes={**common, "ai.operationId": "ai.embed", "ai.value": '"Paris"'})
    stored = _post(ingest, "ai", embed_many, whole)
    call = stored[many]
    assert call["type"] == "EMBEDDING" and json.loads(call["input"]) == ["Paris", "Rome"]
    assert call["usage_details"] == {"input": 12, "total": 12}
    assert (call["input_tokens"], call["total_tokens"]) == (12, 12)
    assert call["total_cost"] and call["total_cost"] > 0 and call["input_cost"] == call["total_cost"]
    assert json.loads(stored[outer]["input"]) == "Paris" and stored[outer]["total_cost"] is None


def test_a_span_ends_no_earlier_than_its_own_events(ingest: Ingest) -> None:
    """LlamaIndex ends a stream's span when it hands the generator back, then records its first token."""
    tid, stream, skewed = trace_id(), span_id(), span_id()
    attributes = {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini"}
    handed_back = SpanSpec(
        tid,
        stream,
        "OpenAI.stream_chat",
        end_ns=BASE_NS + MS // 2,
        events=[("First Token Stream Event", BASE_NS + 22 * MS, {})],
        attributes=attributes,
    )
    far = SpanSpec(  # an event days after the span: a wrong clock, not the span's end
        tid,
        skewed,
        "other",
        end_ns=BASE_NS + 5 * MS,
        events=[("late", BASE_NS + 3 * 86_400_000 * MS, {})],
    )
    stored = _post(ingest, LLAMA_INDEX, handed_back, far)
    first_token = (BASE_NS + 22 * MS) // 1000
    assert stored[stream]["completion_start_time_us"] == first_token
    assert stored[stream]["end_time_us"] == first_token  # its latency covers its first token
    assert stored[skewed]["end_time_us"] == (BASE_NS + 5 * MS) // 1000
    trace = ingest.trace(tid)
    assert trace is not None and trace["latency_us"] == 22_000


def test_an_exception_event_gives_the_short_status_message(ingest: Ingest) -> None:
    tid, langchain, llama, handled = trace_id(), span_id(), span_id(), span_id()
    stacktrace = 'Traceback (most recent call last):\n  File "x.py", line 1\nBadRequestError: refused'
    exception = {
        "exception.type": "langchain_openai.chat_models.base.OpenAIInvalidRequestError",
        "exception.message": "Error code: 400 - refused",
        "exception.stacktrace": stacktrace,
    }
    llm = {"openinference.span.kind": "LLM", "llm.model_name": "fail-model"}
    with_traceback = SpanSpec(
        tid,
        langchain,
        "ChatOpenAI",
        status_code=2,
        status_message="OpenAIInvalidRequestError('Error code: 400 - refused')" + stacktrace,
        events=[("exception", BASE_NS + MS // 2, exception)],
        attributes=llm,
    )
    one_line = SpanSpec(
        tid,
        llama,
        "OpenAI.chat",
        status_code=2,
        status_message="BadRequestError: Error code: 400 - refused",
        events=[("exception", BASE_NS + MS // 2, {**exception, "exception.type": "openai.BadRequestError"})],
        attributes=llm,
    )
    caught = SpanSpec(tid, handled, "retry", events=[("exception", BASE_NS + MS // 2, exception)])
    stored = _post(ingest, LANGCHAIN, with_traceback, one_line, caught)
    assert stored[langchain]["status_message"] == "OpenAIInvalidRequestError: Error code: 400 - refused"
    assert stored[langchain]["level"] == "ERROR"
    assert stored[langchain]["metadata"]["exception"] == {
        "type": "langchain_openai.chat_models.base.OpenAIInvalidRequestError",
        "message": "Error code: 400 - refused",
        "stacktrace": stacktrace,
    }
    assert stored[llama]["status_message"] == "BadRequestError: Error code: 400 - refused"
    # an exception the span survived: kept, but the span did not fail
    assert stored[handled]["status_message"] is None and stored[handled]["level"] == "DEFAULT"
    assert stored[handled]["metadata"]["exception"]["message"] == "Error code: 400 - refused"


def test_a_tool_span_named_after_a_method_takes_its_tool_name(ingest: Ingest) -> None:
    tid, method, named = trace_id(), span_id(), span_id()
    tool = {"openinference.span.kind": "TOOL", "tool.name": "get_weather", "input.value": '{"city": "Paris"}'}
    stored = _post(
        ingest,
        LLAMA_INDEX,
        SpanSpec(tid, method, "FunctionTool.acall", attributes=tool),
        SpanSpec(tid, named, "Weather lookup", attributes=tool),  # a name somebody chose stays
    )
    assert stored[method]["name"] == "get_weather" and stored[method]["type"] == "TOOL"
    assert stored[named]["name"] == "Weather lookup"
