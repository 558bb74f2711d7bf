"""Pydantic AI agents instrumented with ``Agent.instrument_all()`` (its own OpenTelemetry spans,
no Logfire), the model an OpenAI chat model pointed at the fake server."""

from __future__ import annotations

import asyncio
import importlib.util
import os

import _scenario
from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

recorder = _scenario.Recorder()
provider = _scenario.tracer_provider("compat-pydantic-ai", recorder)
Agent.instrument_all()
EMBEDDINGS = importlib.util.find_spec("pydantic_ai.embeddings") is not None  # since 1.x, not in 1.0
if EMBEDDINGS:
    from pydantic_ai.embeddings import Embedder
    from pydantic_ai.embeddings.openai import OpenAIEmbeddingModel

    Embedder.instrument_all()

openai_provider = OpenAIProvider(base_url=os.environ["OPENAI_BASE_URL"], api_key="sk-fake")
model = OpenAIChatModel("gpt-4o-mini", provider=openai_provider)
agent = Agent(model, name="helper", instructions="Be brief.")
weather_agent = Agent(model, name="weather")


@weather_agent.tool_plain
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def chat() -> None:
    result = agent.run_sync("Hello chat")
    assert result.output == "Echo: Hello chat", result.output


def stream() -> None:
    async def go() -> None:
        async with agent.run_stream("Hello stream") as result:
            text = [part async for part in result.stream_text(delta=True)]
        assert "".join(text) == "Echo: Hello stream", text

    asyncio.run(go())


def tools() -> None:
    result = weather_agent.run_sync("Weather in Paris?")
    assert result.output.startswith("Echo:"), result.output


def embeddings() -> None:
    embedder = Embedder(OpenAIEmbeddingModel("text-embedding-3-small", provider=openai_provider))
    embedder.embed_query_sync("Hello embeddings")


def failure() -> None:
    _scenario.expect_failure(lambda: agent.run_sync("FAIL now"))


def conversation() -> None:
    """Two turns of one conversation (the second continues the first's history), then a lone run."""
    first = agent.run_sync("First turn")
    agent.run_sync("Second turn", message_history=first.all_messages())


_scenario.run(
    {
        "chat": chat,
        "stream": stream,
        "tools": tools,
        **({"embeddings": embeddings} if EMBEDDINGS else {}),
        "failure": failure,
        "conversation": conversation,
    },
    recorder,
    provider.force_flush,
)
