"""The instrumentation libraries users run, installed from the package index, against our server.

Each library runs in its own environment (``compat_venv``), instruments the real ``openai`` client
(or, for Pydantic AI, its own agents) pointed at the fake OpenAI server, and exports with the stock
OTLP/HTTP exporter to a real server of ours (on the first selected engine: what a library's spans
become does not depend on it; ``engine_independent``). The scenarios (chat, streaming, tool
calls, embeddings, a rejected call; every answer reports cached and reasoning tokens) are read back
through our REST API: type, name, model, input and output, usage, cost, level and status message,
nesting and time to first token. What a library does not send is not asserted (``Library``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.compat.conftest import CompatServer
from tests.support.compat_venv import compat_venv
from tests.support.fake_openai import (
    CACHED_TOKENS,
    COMPLETION_TOKENS,
    EMBEDDING_TOKENS,
    PROMPT_TOKENS,
    REASONING_TOKENS,
    FakeOpenAI,
)

pytestmark = [pytest.mark.slow, pytest.mark.engine_independent]

SCENARIOS = Path(__file__).parent / "instrumentations"
OTEL = ["opentelemetry-sdk>=1.30", "opentelemetry-exporter-otlp-proto-http>=1.30", "openai>=1.66"]
CHAT_COST = 1.575e-05  # gpt-4o-mini: 32 input, 10 cached and 17 output tokens at its catalog price
UNCACHED_CHAT_COST = (42 * 0.15 + 17 * 0.6) / 1e6  # the same counted without the cached part
EMBEDDING_COST = 1.2e-07  # text-embedding-3-small: 6 tokens


@dataclass(frozen=True)
class Library:
    requirements: list[str]
    script: str
    env: dict[str, str] = field(default_factory=dict)
    cached: bool = True  # cached counts of an answer
    reasoning: bool = True  # reasoning counts of a plain answer
    stream_reasoning: bool = True  # reasoning counts of a streamed answer
    stream_first_token: bool = True  # a time to first token for a stream
    embeddings: bool = True  # the library can make the call
    embedding_input: bool = True
    chat_name: str | None = None  # the generation's name, when the library names it
    chat_cost: float = CHAT_COST


LIBRARIES = {
    # OpenTelemetry's own; util-genai 1.2 renamed a module the instrumentation imports, and the
    # instrumentation imports httpx, which openai 3 no longer brings
    "otel-genai-openai": Library(
        ["opentelemetry-instrumentation-openai-v2>=2.1b0", "httpx", "opentelemetry-util-genai<1.2", *OTEL],
        "otel_genai_openai.py",
        env={
            "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_only",
        },
        cached=False,
        reasoning=False,
        stream_reasoning=False,
        stream_first_token=False,
        embedding_input=False,
        chat_name="chat gpt-4o-mini",
        chat_cost=UNCACHED_CHAT_COST,
    ),
    "openllmetry-openai": Library(
        ["opentelemetry-instrumentation-openai>=0.40", *OTEL],
        "openllmetry_openai.py",
        stream_reasoning=False,
        chat_name="openai.chat",
    ),
    "openinference-openai": Library(
        ["openinference-instrumentation-openai>=0.1.30", *OTEL], "openinference_openai.py", chat_name="ChatCompletion"
    ),
    "logfire-openai": Library(
        ["logfire>=3.14", "openai>=1.66"],
        "logfire_openai.py",
        stream_first_token=False,
        embedding_input=False,
        chat_name="Chat Completion with 'gpt-4o-mini'",
    ),
    # Logfire's releases before the GenAI attributes: request_data / response_data only
    "logfire-openai-3.14": Library(
        ["logfire>=3.14,<3.15", "openai>=1.66,<2"],
        "logfire_openai.py",
        stream_first_token=False,
        chat_name="Chat Completion with 'gpt-4o-mini'",
    ),
    "pydantic-ai": Library(
        ["pydantic-ai-slim[openai]>=1.0", *OTEL], "pydantic_ai_agent.py", chat_name="chat gpt-4o-mini"
    ),
    # its first release: an "agent run" span without an operation, carrying the run's usage; no
    # cached counts, no first chunk time, no embeddings; the OpenTelemetry API it imports left in 1.38
    "pydantic-ai-1.0": Library(
        [
            "pydantic-ai-slim[openai]>=1.0,<1.1",
            "opentelemetry-sdk>=1.30,<1.38",
            "opentelemetry-exporter-otlp-proto-http>=1.30,<1.38",
            "openai>=1.99,<2",
        ],
        "pydantic_ai_agent.py",
        cached=False,
        stream_first_token=False,
        embeddings=False,
        chat_name="chat gpt-4o-mini",
    ),
}


@dataclass
class Run:
    server: CompatServer
    traces: dict[str, list[str]]

    def observations(self, scenario: str) -> list[dict[str, Any]]:
        """Every observation of the scenario's traces, in start order."""
        found: list[dict[str, Any]] = []
        for trace_id in self.traces[scenario]:
            trace = self.server.wait_for(lambda trace_id=trace_id: self.server.get(f"traces/{trace_id}"))
            assert trace, f"trace {trace_id} of {scenario} was not stored"
            found += self.server.get("observations", traceId=trace_id, limit=100)["data"]
        return sorted(found, key=lambda obs: obs["startTime"])

    def trace(self, trace_id: str) -> dict[str, Any]:
        trace: dict[str, Any] = self.server.get(f"traces/{trace_id}")
        return trace


@pytest.fixture(scope="session")
def library_runs(live_server_for_compat: CompatServer, fake_openai: FakeOpenAI) -> dict[str, Run]:
    """Each library's scenario script, run once per engine, by library name (filled on first use)."""
    return {}


def _run(runs: dict[str, Run], name: str, server: CompatServer, fake: FakeOpenAI) -> Run:
    if name not in runs:
        library = LIBRARIES[name]
        venv = compat_venv(name, library.requirements)
        env = {**server.otel_env(), "OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "sk-fake", **library.env}
        result = venv.run(SCENARIOS / library.script, env=env, timeout=180)
        runs[name] = Run(server, json.loads(result.stdout.strip().splitlines()[-1]))
    return runs[name]


@pytest.fixture(params=sorted(LIBRARIES))
def run(
    request: pytest.FixtureRequest,
    library_runs: dict[str, Run],
    live_server_for_compat: CompatServer,
    fake_openai: FakeOpenAI,
) -> tuple[Library, Run]:
    name: str = request.param
    return LIBRARIES[name], _run(library_runs, name, live_server_for_compat, fake_openai)


def _generations(observations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [obs for obs in observations if obs["type"] == "GENERATION"]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _assert_chat_usage(obs: dict[str, Any], cached: bool, reasoning: bool) -> None:
    assert (obs["inputUsage"], obs["outputUsage"], obs["totalUsage"]) == (
        PROMPT_TOKENS,
        COMPLETION_TOKENS,
        PROMPT_TOKENS + COMPLETION_TOKENS,
    ), obs["usageDetails"]
    usage = obs["usageDetails"]
    if cached:
        assert usage["input_cached_tokens"] == CACHED_TOKENS
        assert usage["input"] == PROMPT_TOKENS - CACHED_TOKENS
    if reasoning:
        assert usage["output_reasoning_tokens"] == REASONING_TOKENS
        assert usage["output"] == COMPLETION_TOKENS - REASONING_TOKENS
    assert usage["total"] == PROMPT_TOKENS + COMPLETION_TOKENS


def test_chat(run: tuple[Library, Run]) -> None:
    library, result = run
    generations = _generations(result.observations("chat"))
    assert len(generations) == 1, [(o["type"], o["name"]) for o in result.observations("chat")]
    chat = generations[0]
    assert chat["model"] == "gpt-4o-mini"
    if library.chat_name:
        assert chat["name"] == library.chat_name
    assert "Hello chat" in _text(chat["input"]) and "Echo: Hello chat" in _text(chat["output"])
    _assert_chat_usage(chat, library.cached, library.reasoning)
    assert chat["totalCost"] == pytest.approx(library.chat_cost, rel=1e-6)
    assert chat["level"] == "DEFAULT" and chat["latency"] is not None


def test_stream(run: tuple[Library, Run]) -> None:
    library, result = run
    observations = result.observations("stream")
    generations = _generations(observations)
    # one generation a user can read, counted once (Logfire sends the request and the answer apart)
    assert len(generations) == 1, [(o["type"], o["name"]) for o in observations]
    stream = generations[0]
    assert stream["model"] == "gpt-4o-mini" and "Echo: Hello stream" in _text(stream["output"])
    assert "Hello stream" in _text(stream["input"])
    _assert_chat_usage(stream, library.cached, library.stream_reasoning)
    assert sum(obs["totalUsage"] or 0 for obs in observations) == PROMPT_TOKENS + COMPLETION_TOKENS
    assert sum(obs["totalCost"] or 0 for obs in observations) == pytest.approx(stream["totalCost"])
    if library.stream_first_token:
        first, start, end = stream["completionStartTime"], stream["startTime"], stream["endTime"]
        assert first is not None and start <= first <= end, (start, first, end)
        assert stream["timeToFirstToken"] is not None and stream["timeToFirstToken"] >= 0


def test_tool_calls(run: tuple[Library, Run]) -> None:
    library, result = run
    observations = result.observations("tools")
    generations = _generations(observations)
    assert len(generations) == 2, [(o["type"], o["name"]) for o in observations]
    asked, answered = generations
    assert "get_weather" in _text(asked["output"]) and "Paris" in _text(asked["output"])
    assert "Echo: Weather in Paris?" in _text(answered["output"])
    assert "sunny" in _text(answered["input"])  # the tool's result went back to the model
    for generation in generations:
        _assert_chat_usage(generation, library.cached, library.reasoning)
    tools = [obs for obs in observations if obs["type"] == "TOOL"]
    if library.script == "pydantic_ai_agent.py":  # the agent runs the tool itself
        (tool,) = tools
        assert tool["name"] == "get_weather" and "Paris" in _text(tool["input"])
        assert tool["output"] == "sunny in Paris"
        (agent,) = [obs for obs in observations if obs["type"] == "AGENT"]
        assert {obs["parentObservationId"] for obs in generations} == {agent["id"]}
        parents = {obs["id"]: obs["parentObservationId"] for obs in observations}
        ancestor = tool["parentObservationId"]  # 1.0 runs tools under a "running tools" span
        while ancestor not in (agent["id"], None):
            ancestor = parents.get(ancestor)
        assert ancestor == agent["id"]


def test_embeddings(run: tuple[Library, Run]) -> None:
    library, result = run
    if not library.embeddings:
        pytest.skip("this release has no embeddings")
    observations = result.observations("embeddings")
    (embedding,) = [obs for obs in observations if obs["type"] == "EMBEDDING"]
    assert embedding["model"] == "text-embedding-3-small"
    assert embedding["inputUsage"] == EMBEDDING_TOKENS and embedding["totalUsage"] == EMBEDDING_TOKENS
    assert embedding["totalCost"] == pytest.approx(EMBEDDING_COST, rel=1e-6)
    if library.embedding_input:
        assert "Hello embeddings" in _text(embedding["input"])


def test_failure(run: tuple[Library, Run]) -> None:
    _, result = run
    observations = result.observations("failure")
    failed = [obs for obs in observations if obs["level"] == "ERROR"]
    assert failed, [(o["type"], o["level"]) for o in observations]
    call = next(obs for obs in failed if obs["type"] == "GENERATION")
    assert call["model"] == "gpt-4o-mini" and "refused" in (call["statusMessage"] or "")
    assert call["totalUsage"] == 0 and not call["totalCost"]
    # the request that failed is shown (Pydantic AI records it on the agent run, not the model call)
    assert any("FAIL now" in _text(obs["input"]) for obs in failed)
    for trace_id in result.traces["failure"]:
        assert result.trace(trace_id)["level"] == "ERROR"


@pytest.fixture(params=["pydantic-ai", "pydantic-ai-1.0"])
def pydantic_ai(
    request: pytest.FixtureRequest,
    library_runs: dict[str, Run],
    live_server_for_compat: CompatServer,
    fake_openai: FakeOpenAI,
) -> Run:
    return _run(library_runs, request.param, live_server_for_compat, fake_openai)


def test_pydantic_ai_agent_run(pydantic_ai: Run) -> None:
    observations = pydantic_ai.observations("chat")
    (agent,) = [obs for obs in observations if obs["type"] == "AGENT"]
    (chat,) = _generations(observations)
    assert agent["name"] == "helper run" and chat["parentObservationId"] == agent["id"]
    messages = agent["input"]
    assert messages[0]["role"] == "system" and "Hello chat" in _text(messages)
    assert agent["output"] == "Echo: Hello chat"
    assert agent["totalUsage"] == 0 and chat["totalCost"] == pytest.approx(CHAT_COST)  # counted once
    trace = pydantic_ai.trace(pydantic_ai.traces["chat"][0])
    assert trace["input"] == agent["input"] and trace["output"] == agent["output"]
    assert trace["totalTokens"] == PROMPT_TOKENS + COMPLETION_TOKENS


def test_pydantic_ai_sessions_are_conversations(
    library_runs: dict[str, Run], live_server_for_compat: CompatServer, fake_openai: FakeOpenAI
) -> None:
    """A lone run is no session; the turns of a conversation are one, from its second turn on."""
    pydantic_ai = _run(library_runs, "pydantic-ai", live_server_for_compat, fake_openai)
    (lone,) = pydantic_ai.traces["chat"]
    assert pydantic_ai.trace(lone)["sessionId"] is None
    first, second = (pydantic_ai.trace(trace_id) for trace_id in pydantic_ai.traces["conversation"])
    conversation = first["metadata"]["gen_ai.conversation.id"]
    assert first["sessionId"] is None and second["sessionId"] == conversation
