"""The OpenAI Agents SDK traced by OpenInference (openinference-instrumentation-openai-agents).

The agent's model is the SDK's chat-completions model class, or its default Responses API model,
over an ``AsyncOpenAI`` client aimed at the fake server. Scenarios: an agent run that calls a
function tool then answers (with each model class); a streamed run (with each); a run whose
model call the provider refuses.
"""

from __future__ import annotations

import asyncio

from _export import Session, openai_base_url
from agents import Agent, ModelSettings, OpenAIChatCompletionsModel, OpenAIResponsesModel, Runner, function_tool
from openai import AsyncOpenAI
from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

session = Session("agents-app")
OpenAIAgentsInstrumentor().instrument(tracer_provider=session.provider)  # replaces the SDK's own exporter

client = AsyncOpenAI(base_url=openai_base_url(), api_key="sk-fake", max_retries=0)


def model(name: str = "gpt-4o-mini") -> OpenAIChatCompletionsModel:
    return OpenAIChatCompletionsModel(model=name, openai_client=client)


@function_tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"Sunny in {city}"


weather_agent = Agent(
    name="Weather agent",
    instructions="Use the tools.",
    tools=[get_weather],
    model=model(),
    model_settings=ModelSettings(temperature=0.2),
)


async def main() -> None:
    # One event loop for every run: the client's connections belong to the loop that opened them.
    with session.scenario("tool"):
        answer = await Runner.run(weather_agent, "What is the weather in Paris?")
        assert answer.final_output == "Echo: What is the weather in Paris?", answer.final_output

    with session.scenario("stream"):
        agent = Agent(name="Streaming agent", instructions="You answer briefly.", model=model())
        result = Runner.run_streamed(agent, "Stream please")
        async for _ in result.stream_events():
            pass
        assert result.final_output == "Echo: Stream please", result.final_output

    responses = OpenAIResponsesModel(model="gpt-4o-mini", openai_client=client)
    with session.scenario("responses_tool"):
        agent = Agent(name="Weather agent", instructions="Use the tools.", tools=[get_weather], model=responses)
        answer = await Runner.run(agent, "What is the weather in Paris?")
        assert answer.final_output == "Echo: What is the weather in Paris?", answer.final_output

    with session.scenario("responses_stream"):
        result = Runner.run_streamed(Agent(name="Streaming agent", model=responses), "Stream please")
        async for _ in result.stream_events():
            pass
        assert result.final_output == "Echo: Stream please", result.final_output

    with session.scenario("failure", expect_error=True):
        await Runner.run(Agent(name="Failing agent", instructions="Answer.", model=model("fail-model")), "Hello")


asyncio.run(main())
session.finish()
