"""Frameworks users run, with their real tracing, against a real server of ours.

Each library is installed from the package index into its own environment (pinned lower bounds;
``tests/support/compat_venv.py``, npm for the Vercel AI SDK) and drives the fake OpenAI server on
loopback; its spans go through the stock OTLP/HTTP exporter to our server, and every check reads
through our REST API: observation types, names, model, readable input and output, usage (cached
and reasoning tokens where the library sends them), cost, errors, nesting, time to first token,
and the trace's name, input and output taken from its root. What a library's spans become does
not depend on the engine, so the suite runs on the first selected one (``engine_independent``).

What each library sends, and what it does not (so nothing can show it), is noted at its checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.compat.conftest import CompatServer
from tests.compat.frameworks.node_env import NodeUnavailable, node_env
from tests.compat.frameworks.readback import (
    SCRIPTS,
    Run,
    ancestors,
    assert_readable_input,
    assert_readable_output,
    assert_tool_call_output,
    names,
    read_run,
)
from tests.support.compat_venv import compat_venv
from tests.support.fake_openai import FakeOpenAI

pytestmark = [pytest.mark.slow, pytest.mark.engine_independent]

OTEL = ["opentelemetry-sdk>=1.30", "opentelemetry-exporter-otlp-proto-http>=1.30"]
LANGCHAIN = [
    "openinference-instrumentation-langchain>=0.1.40",
    "langchain>=1.0",
    "langchain-core>=1.0",
    "langchain-openai>=1.0",
    "numpy>=1.26",  # the in-memory vector store's similarity
    *OTEL,
]
LLAMA_INDEX = [  # the slim packages: core and the two OpenAI integrations, not the llama-index bundle
    "openinference-instrumentation-llama-index>=4.0",
    "llama-index-core>=0.12",
    "llama-index-llms-openai>=0.4",
    "llama-index-embeddings-openai>=0.3",
    *OTEL,
]
LITELLM = ["litellm>=1.60", *OTEL]
OPENAI_AGENTS = ["openai-agents>=0.2", "openinference-instrumentation-openai-agents>=1.0", *OTEL]
NODE_OTEL = [
    "@opentelemetry/api@1",
    "@opentelemetry/sdk-trace-node@2",
    "@opentelemetry/sdk-trace-base@2",
    "@opentelemetry/exporter-trace-otlp-http",
]
# ai 7 needs Node 22; the machines have Node 20, where ai 5 and 6 (the majors in wide use) run.
VERCEL = {
    "ai5": ["ai@5", "@ai-sdk/openai@2", "zod@4", *NODE_OTEL],
    "ai6": ["ai@6", "@ai-sdk/openai@3", "zod@4", *NODE_OTEL],
}

PROMPT_TOKENS, COMPLETION_TOKENS, CACHED_TOKENS, REASONING_TOKENS = 42, 17, 10, 5


def _python_run(
    library: str,
    requirements: list[str],
    script: str,
    server: CompatServer,
    fake: FakeOpenAI,
    tmp: Path,
    env: dict[str, str] | None = None,
    distributions: tuple[str, ...] = (),
) -> Run:
    venv = compat_venv(library, requirements)
    record = tmp / f"{library}.json"
    base = {"COMPAT_OPENAI_BASE_URL": fake.base_url, "COMPAT_RECORD": str(record)}
    venv.run(SCRIPTS / script, env={**base, **(env if env is not None else server.otel_env())})
    return read_run(library, server, record, {name: venv.version_of(name) for name in distributions})


@pytest.fixture(scope="module")
def langchain(
    live_server_for_compat: CompatServer, fake_openai: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Run:
    return _python_run(
        "langchain-openinference",
        LANGCHAIN,
        "langchain_openinference.py",
        live_server_for_compat,
        fake_openai,
        tmp_path_factory.mktemp("langchain"),
        distributions=("langchain-core", "langchain-openai", "openinference-instrumentation-langchain"),
    )


@pytest.fixture(scope="module")
def llama_index(
    live_server_for_compat: CompatServer, fake_openai: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Run:
    return _python_run(
        "llamaindex-openinference",
        LLAMA_INDEX,
        "llamaindex_openinference.py",
        live_server_for_compat,
        fake_openai,
        tmp_path_factory.mktemp("llamaindex"),
        distributions=("llama-index-core", "openinference-instrumentation-llama-index"),
    )


@pytest.fixture(scope="module")
def litellm(
    live_server_for_compat: CompatServer, fake_openai: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Run:
    server = live_server_for_compat
    # LiteLLM's callback reads its own variables (its documented set-up), headers as key=value
    env = {"OTEL_EXPORTER": "otlp_http", "OTEL_ENDPOINT": server.otlp_traces_endpoint}
    env["OTEL_HEADERS"] = f"Authorization={server.authorization}"
    return _python_run(
        "litellm-otel",
        LITELLM,
        "litellm_otel.py",
        server,
        fake_openai,
        tmp_path_factory.mktemp("litellm"),
        env=env,
        distributions=("litellm",),
    )


@pytest.fixture(scope="module")
def agents(
    live_server_for_compat: CompatServer, fake_openai: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Run:
    return _python_run(
        "openai-agents-openinference",
        OPENAI_AGENTS,
        "openai_agents_openinference.py",
        live_server_for_compat,
        fake_openai,
        tmp_path_factory.mktemp("agents"),
        distributions=("openai-agents", "openinference-instrumentation-openai-agents"),
    )


@pytest.fixture(scope="module", params=sorted(VERCEL))
def vercel(
    request: pytest.FixtureRequest,
    live_server_for_compat: CompatServer,
    fake_openai: FakeOpenAI,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Run]:
    try:
        env = node_env(f"vercel-{request.param}", VERCEL[request.param])
    except NodeUnavailable as reason:
        pytest.skip(f"Vercel AI SDK scenarios not run: {reason}")
    server = live_server_for_compat
    record = tmp_path_factory.mktemp("vercel") / "record.json"
    env.run(
        SCRIPTS / "vercel_ai.cjs",
        env={**server.otel_env(), "COMPAT_OPENAI_BASE_URL": fake_openai.base_url, "COMPAT_RECORD": str(record)},
    )
    versions = {name: env.version_of(name) for name in ("ai", "@ai-sdk/openai")}
    yield read_run(f"vercel-{request.param}", server, record, versions)


def _usage(run: Run, generation: dict[str, object], cached: bool = True) -> None:
    """Usage as the fake provider reported it; cached and reasoning tokens when the library sends them."""
    usage = generation["usageDetails"]
    assert isinstance(usage, dict)
    assert usage.get("total") == PROMPT_TOKENS + COMPLETION_TOKENS, f"{usage}" + run.sent(generation)  # type: ignore[arg-type]
    if cached:
        assert usage.get("input_cached_tokens") == CACHED_TOKENS, f"{usage}" + run.sent(generation)  # type: ignore[arg-type]
        assert usage.get("output_reasoning_tokens") == REASONING_TOKENS, f"{usage}" + run.sent(generation)  # type: ignore[arg-type]
        # the cached and reasoning tokens are parts of the prompt and completion, not added to them
        assert usage.get("input", 0) + usage["input_cached_tokens"] == PROMPT_TOKENS, usage
        assert usage.get("output", 0) + usage["output_reasoning_tokens"] == COMPLETION_TOKENS, usage
    else:
        assert (usage.get("input"), usage.get("output")) == (PROMPT_TOKENS, COMPLETION_TOKENS), usage
    assert generation["totalCost"] and generation["totalCost"] > 0, f"no cost: {generation['costDetails']}"  # type: ignore[operator]


def _error(run: Run, observation: dict[str, object], model: str) -> None:
    assert observation["level"] == "ERROR", run.sent(observation)
    message = str(observation["statusMessage"])
    assert "refused this request" in message, observation["statusMessage"]
    assert "Traceback" not in message, f"a traceback as status message: {message:.300}"
    assert observation["model"] == model, f"model {observation['model']!r}" + run.sent(observation)


def _parameters(observation: dict[str, object]) -> dict[str, str]:
    """Model parameters by name, each as text (the peer API returns them as strings)."""
    parameters = observation["modelParameters"]
    assert isinstance(parameters, dict), parameters
    return {key: str(value) for key, value in parameters.items()}


def _time_to_first_token(run: Run, generation: dict[str, object]) -> None:
    ttft, latency = generation["timeToFirstToken"], generation["latency"]
    assert isinstance(ttft, float) and ttft > 0, f"no time to first token ({ttft!r})" + run.sent(generation)
    assert isinstance(latency, float) and ttft <= latency, (ttft, latency)


def _documents(run: Run, retriever: dict[str, object], text: str) -> None:
    """The output is the documents retrieved, each with its content (not the framework's repr)."""
    documents = retriever["output"]
    assert isinstance(documents, list) and all(isinstance(d, dict) for d in documents), (
        f"output is no list of documents: {documents!r:.600}" + run.sent(retriever)
    )
    assert any(text in str(document.get("content")) for document in documents), documents


# --- LangChain, traced by OpenInference -------------------------------------------------------


def test_langchain_chain_shows_its_steps_and_a_readable_generation(langchain: Run) -> None:
    trace = langchain.trace("chain")
    assert (trace["name"], trace["input"], trace["output"]) == (
        "RunnableSequence",
        "What is LangChain?",
        "Echo: What is LangChain?",
    )
    root = langchain.one("chain", "CHAIN", "RunnableSequence")
    assert root["parentObservationId"] is None
    generation = langchain.one("chain", "GENERATION", "ChatOpenAI")
    assert ancestors(trace, generation) == [root]
    assert generation["model"] == "gpt-4o-mini"
    assert _parameters(generation)["temperature"] == "0.2"
    assert_readable_input(langchain, generation, "You answer briefly.", "What is LangChain?")
    assert_readable_output(langchain, generation, "Echo: What is LangChain?")
    _usage(langchain, generation)
    assert langchain.one("chain", name="StrOutputParser")["parentObservationId"] == root["id"]


def test_langchain_stream_is_one_generation_counted_once(langchain: Run) -> None:
    # OpenInference's LangChain tracer sends no first-token event: no time to first token to show.
    trace = langchain.trace("stream")
    generation = langchain.one("stream", "GENERATION")
    assert_readable_output(langchain, generation, "Echo: Stream please")
    _usage(langchain, generation)
    assert (trace["inputTokens"], trace["outputTokens"]) == (PROMPT_TOKENS, COMPLETION_TOKENS)
    assert trace["output"] == "Echo: Stream please"


def test_langchain_agent_calls_its_tool(langchain: Run) -> None:
    trace = langchain.trace("tool")
    assert trace["name"] == "LangGraph"
    tool = langchain.one("tool", "TOOL", "get_weather")
    assert "Paris" in str(tool["input"]) and "Sunny in Paris" in str(tool["output"])
    assert ancestors(trace, tool)[-1]["name"] == "LangGraph"
    asks, answers = langchain.observations("tool", "GENERATION")
    assert_tool_call_output(langchain, asks, "get_weather")
    assert_readable_input(langchain, answers, "What is the weather in Paris?", "Sunny in Paris")
    assert_readable_output(langchain, answers, "Echo: What is the weather in Paris?")
    assert trace["totalCost"] > 0 and trace["totalTokens"] == 2 * (PROMPT_TOKENS + COMPLETION_TOKENS)


def test_langchain_retriever_shows_query_and_documents(langchain: Run) -> None:
    retriever = langchain.one("retriever", "RETRIEVER", "VectorStoreRetriever")
    assert retriever["input"] == "capital of France"
    _documents(langchain, retriever, "Paris is the capital of France.")
    assert langchain.trace("retriever")["input"] == "capital of France"


def test_langchain_failed_call_is_an_error_with_its_model(langchain: Run) -> None:
    generation = langchain.one("failure", "GENERATION", "ChatOpenAI")
    _error(langchain, generation, "fail-model")
    # LangChain's tracer writes the exception's repr and its traceback as the status: the short
    # message is shown, the traceback kept with the exception in the metadata
    exception = generation["metadata"]["exception"]
    assert exception["type"].endswith("OpenAIInvalidRequestError") and "Traceback" in exception["stacktrace"]
    assert langchain.trace("failure")["level"] == "ERROR"


# --- LlamaIndex, traced by OpenInference ------------------------------------------------------


def test_llama_index_chat_is_a_readable_generation(llama_index: Run) -> None:
    generation = llama_index.one("chat", "GENERATION", "OpenAI.chat")
    assert generation["model"] == "gpt-4o-mini"
    assert_readable_input(llama_index, generation, "You answer briefly.", "Hi index")
    assert_readable_output(llama_index, generation, "Echo: Hi index")
    _usage(llama_index, generation)


def test_llama_index_stream_has_time_to_first_token(llama_index: Run) -> None:
    # LlamaIndex's OpenAI class does not ask for usage when streaming: none to show. Its stream
    # span ends when the generator is handed back, before the first token event it records later:
    # the observation ends at that event, so its latency covers the first token.
    generation = llama_index.one("stream", "GENERATION", "OpenAI.stream_chat")
    assert_readable_output(llama_index, generation, "Echo: Stream please")
    _time_to_first_token(llama_index, generation)


def test_llama_index_embeddings_name_their_model(llama_index: Run) -> None:
    for scenario in ("index", "query"):
        for embedding in llama_index.observations(scenario, "EMBEDDING"):
            assert embedding["model"] == "text-embedding-3-small", llama_index.sent(embedding)
    (built,) = llama_index.observations("index", "EMBEDDING")
    assert "Paris is the capital of France." in str(built["input"])


def test_llama_index_query_nests_retrieval_embedding_and_generation(llama_index: Run) -> None:
    trace = llama_index.trace("query")
    assert trace["name"] == "RetrieverQueryEngine.query"
    assert trace["input"] == "What is the capital of France?"
    assert str(trace["output"]).startswith("Echo: Context information")
    root = llama_index.one("query", "CHAIN", "RetrieverQueryEngine.query")
    retriever = llama_index.one("query", "RETRIEVER", "VectorIndexRetriever.retrieve")
    assert retriever["input"] == "What is the capital of France?"
    _documents(llama_index, retriever, "Paris is the capital of France.")
    embedding = llama_index.one("query", "EMBEDDING", "OpenAIEmbedding.get_query_embedding")
    assert retriever in ancestors(trace, embedding) and root in ancestors(trace, embedding)
    generation = llama_index.one("query", "GENERATION", "OpenAI.chat")
    assert root in ancestors(trace, generation)
    assert_readable_input(llama_index, generation, "What is the capital of France?")
    _usage(llama_index, generation)


def test_llama_index_agent_calls_its_tool(llama_index: Run) -> None:
    trace = llama_index.trace("tool")
    (tool,) = llama_index.observations("tool", "TOOL")
    assert tool["name"] == "get_weather"  # its span is named FunctionTool.acall, its tool.name get_weather
    assert "Paris" in str(tool["input"]) and "Sunny in Paris" in str(tool["output"])
    assert ancestors(trace, tool)[-1]["name"] == "FunctionAgent.run"
    asks, answers = llama_index.observations("tool", "GENERATION", "OpenAI.astream_chat")
    assert_tool_call_output(llama_index, asks, "get_weather")
    assert_readable_output(llama_index, answers, "Echo: What is the weather in Paris?")
    _time_to_first_token(llama_index, answers)


def test_llama_index_failed_call_is_an_error_with_its_model(llama_index: Run) -> None:
    _error(llama_index, llama_index.one("failure", "GENERATION", "OpenAI.chat"), "gpt-4o-mini")


# --- LiteLLM's OpenTelemetry callback ---------------------------------------------------------


def _litellm_cost(run: Run, generation: dict[str, object]) -> float:
    """The cost LiteLLM computed and sent (gen_ai.cost.total_cost): a provided cost wins."""
    sent = run.sent(generation)
    return float(sent.split('"gen_ai.cost.total_cost": ')[1].split(",")[0])


def test_litellm_chat_is_a_generation_with_its_usage_and_cost(litellm: Run) -> None:
    generation = litellm.one("chat", "GENERATION", "litellm_request")
    assert generation["parentObservationId"] is None and generation["model"] == "gpt-4o-mini"
    assert _parameters(generation) == {"max_tokens": "50", "temperature": "0.2"}
    assert_readable_input(litellm, generation, "You answer briefly.", "Hello LiteLLM")
    assert_readable_output(litellm, generation, "Echo: Hello LiteLLM")
    _usage(litellm, generation)
    assert generation["totalCost"] == pytest.approx(_litellm_cost(litellm, generation)), litellm.sent(generation)
    raw = litellm.one("chat", "SPAN", "raw_gen_ai_request")
    assert raw["parentObservationId"] == generation["id"]
    trace = litellm.trace("chat")
    assert trace["totalCost"] == pytest.approx(generation["totalCost"])


def test_litellm_stream_counts_its_usage_once(litellm: Run) -> None:
    # LiteLLM sends no first-token time: none to show.
    generation = litellm.one("stream", "GENERATION", "litellm_request")
    assert_readable_output(litellm, generation, "Echo: Hello LiteLLM")
    _usage(litellm, generation)
    assert litellm.trace("stream")["totalTokens"] == PROMPT_TOKENS + COMPLETION_TOKENS


def test_litellm_tool_call_is_readable(litellm: Run) -> None:
    generation = litellm.one("tool", "GENERATION", "litellm_request")
    assert_tool_call_output(litellm, generation, "get_weather")


def test_litellm_embedding_has_model_usage_and_cost(litellm: Run) -> None:
    embedding = litellm.one("embedding", "EMBEDDING", "litellm_request")
    assert embedding["model"] == "text-embedding-3-small"
    assert embedding["usageDetails"].get("input") == 6, embedding["usageDetails"]
    assert "Paris is in France." in str(embedding["input"])
    assert embedding["totalCost"] == pytest.approx(_litellm_cost(litellm, embedding))


def test_litellm_call_inside_an_application_span_reports_on_that_span(litellm: Run) -> None:
    # Under a parent span LiteLLM writes its attributes onto that span instead of making its own.
    trace = litellm.trace("nested")
    assert trace["name"] == "answer-question"
    outer = litellm.one("nested", name="answer-question")
    assert outer["type"] == "GENERATION" and outer["model"] == "gpt-4o-mini", litellm.sent(outer)
    assert litellm.one("nested", "SPAN", "raw_gen_ai_request")["parentObservationId"] == outer["id"]


def test_litellm_failed_call_is_an_error_with_its_model(litellm: Run) -> None:
    _error(litellm, litellm.one("failure", "GENERATION", "litellm_request"), "fail-model")


# --- OpenAI Agents SDK, traced by OpenInference -----------------------------------------------


def test_agents_run_nests_generations_and_tool_under_the_agent(agents: Run) -> None:
    trace = agents.trace("tool")
    assert trace["name"] == "Agent workflow"
    agent = agents.one("tool", "AGENT", "Weather agent")
    tool = agents.one("tool", "TOOL", "get_weather")
    assert tool["input"] == {"city": "Paris"} and tool["output"] == "Sunny in Paris"
    asks, answers = agents.observations("tool", "GENERATION")
    for observation in (tool, asks, answers):
        assert agent in ancestors(trace, observation)
    assert asks["model"] == answers["model"] == "gpt-4o-mini"
    assert_readable_input(agents, asks, "Use the tools.", "What is the weather in Paris?")
    assert_tool_call_output(agents, asks, "get_weather")
    assert_readable_input(agents, answers, "Sunny in Paris")
    assert_readable_output(agents, answers, "Echo: What is the weather in Paris?")
    # With the chat-completions model the instrumentation sends prompt and completion counts only.
    _usage(agents, answers, cached=False)


def test_agents_stream_shows_the_answer(agents: Run) -> None:
    # Streamed through chat completions the instrumentation sends the SDK's response object as
    # output (shown as its messages), and no usage (the SDK does not ask for it) nor first-token time.
    generation = agents.one("stream", "GENERATION")
    assert generation["model"] == "gpt-4o-mini"
    assert_readable_output(agents, generation, "Echo: Stream please")
    assert agents.one("stream", "AGENT", "Streaming agent")


def test_agents_responses_model_run_is_readable_with_full_usage(agents: Run) -> None:
    # The SDK's default model (Responses API): the instrumentation sends the cached and reasoning
    # tokens, the messages (instructions as the system message) and the response object as output.
    trace = agents.trace("responses_tool")
    agent = agents.one("responses_tool", "AGENT", "Weather agent")
    asks, answers = agents.observations("responses_tool", "GENERATION")
    assert agent in ancestors(trace, asks) and agent in ancestors(trace, answers)
    assert_readable_input(agents, asks, "Use the tools.", "What is the weather in Paris?")
    assert_tool_call_output(agents, asks, "get_weather")
    assert_readable_output(agents, answers, "Echo: What is the weather in Paris?")
    _usage(agents, answers)
    streamed = agents.one("responses_stream", "GENERATION")
    assert_readable_output(agents, streamed, "Echo: Stream please")
    _usage(agents, streamed)


def test_agents_failed_model_call_is_an_error_up_to_the_agent(agents: Run) -> None:
    _error(agents, agents.one("failure", "GENERATION"), "fail-model")
    assert agents.one("failure", "AGENT", "Failing agent")["level"] == "ERROR"
    assert agents.trace("failure")["level"] == "ERROR"


# --- Vercel AI SDK (Node) ---------------------------------------------------------------------


def test_vercel_generate_text_with_a_tool(vercel: Run) -> None:
    trace = vercel.trace("tool")
    assert "weather-question" in str(trace["name"])
    assert "What is the weather in Paris?" in str(trace["input"])
    assert trace["output"] == "Echo: What is the weather in Paris?"
    tool = vercel.one("tool", "TOOL", "get_weather")
    assert tool["input"] == {"city": "Paris"} and tool["output"] == "Sunny in Paris"
    asks, answers = vercel.observations("tool", "GENERATION")
    assert_tool_call_output(vercel, asks, "get_weather")
    assert_readable_input(vercel, answers, "What is the weather in Paris?")
    assert_readable_output(vercel, answers, "Echo: What is the weather in Paris?")
    # ai 5 sends prompt and completion counts only from generateText; ai 6 the details too
    _usage(vercel, answers, cached=vercel.versions["ai"].split(".")[0] != "5")
    assert set(names(ancestors(trace, answers))) == {str(trace["name"])}
    assert answers["metadata"].get("app") == "vercel-compat"


def test_vercel_stream_text_has_time_to_first_token(vercel: Run) -> None:
    generation = vercel.one("stream", "GENERATION")
    assert_readable_output(vercel, generation, "Echo: Stream please")
    _usage(vercel, generation)
    _time_to_first_token(vercel, generation)


def test_vercel_embed_has_input_usage_and_cost(vercel: Run) -> None:
    embedding = vercel.one("embedding", "EMBEDDING")
    assert embedding["model"] == "text-embedding-3-small"
    assert "Paris is the capital of France." in str(embedding["input"]), vercel.sent(embedding)
    assert embedding["usageDetails"].get("input") == 6, f"{embedding['usageDetails']}" + vercel.sent(embedding)
    assert embedding["totalCost"] and embedding["totalCost"] > 0


def test_vercel_refused_call_is_an_error_with_its_model(vercel: Run) -> None:
    _error(vercel, vercel.one("failure", "GENERATION"), "fail-model")
    assert vercel.trace("failure")["level"] == "ERROR"
