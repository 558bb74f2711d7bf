"""LlamaIndex traced by OpenInference (openinference-instrumentation-llama-index), as a user runs it.

Scenarios: a chat call; a streamed chat; a vector index built with OpenAI embeddings and queried
(retrieval, embedding, synthesis, the chat call); a function agent calling a tool; a chat call
the provider refuses.
"""

from __future__ import annotations

import asyncio

from _export import Session, openai_base_url
from llama_index.core import Settings, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.llms import ChatMessage
from llama_index.core.schema import TextNode
from llama_index.core.tools import FunctionTool
from llama_index.embeddings.openai import OpenAIEmbedding
from llama_index.llms.openai import OpenAI
from openinference.instrumentation.llama_index import LlamaIndexInstrumentor

session = Session("llamaindex-app")
LlamaIndexInstrumentor().instrument(tracer_provider=session.provider)

base_url = openai_base_url()
llm = OpenAI(model="gpt-4o-mini", api_base=base_url, api_key="sk-fake", temperature=0.2, max_retries=0)
Settings.llm = llm
Settings.embed_model = OpenAIEmbedding(
    model="text-embedding-3-small", api_base=base_url, api_key="sk-fake", max_retries=0
)


def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"Sunny in {city}"


with session.scenario("chat"):
    llm.chat([ChatMessage(role="system", content="You answer briefly."), ChatMessage(role="user", content="Hi index")])

with session.scenario("stream"):
    text = "".join(part.delta or "" for part in llm.stream_chat([ChatMessage(role="user", content="Stream please")]))
    assert text == "Echo: Stream please", text

with session.scenario("index"):
    index = VectorStoreIndex([TextNode(text="Paris is the capital of France.", metadata={"source": "atlas"})])

with session.scenario("query"):
    index.as_query_engine(similarity_top_k=1).query("What is the capital of France?")


async def run_agent() -> None:
    agent = FunctionAgent(tools=[FunctionTool.from_defaults(get_weather)], llm=llm, system_prompt="Use the tools.")
    await agent.run("What is the weather in Paris?")  # the workflow starts inside a running loop


with session.scenario("tool"):
    asyncio.run(run_agent())

with session.scenario("failure", expect_error=True):
    llm.chat([ChatMessage(role="user", content="Please FAIL now")])

session.finish()
