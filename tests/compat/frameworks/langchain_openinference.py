"""LangChain traced by OpenInference (openinference-instrumentation-langchain), as a user runs it.

Scenarios: a prompt | chat model | parser chain; the same chain streamed; an agent that calls a
tool (LangChain's create_agent, on LangGraph); a retriever over an in-memory vector store with
OpenAI embeddings; a chat call the provider refuses.
"""

from __future__ import annotations

from _export import Session, openai_base_url
from langchain.agents import create_agent
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from openinference.instrumentation.langchain import LangChainInstrumentor

session = Session("langchain-app")
LangChainInstrumentor().instrument(tracer_provider=session.provider)

base_url = openai_base_url()
llm = ChatOpenAI(model="gpt-4o-mini", base_url=base_url, api_key="sk-fake", temperature=0.2, max_retries=0)
prompt = ChatPromptTemplate.from_messages([("system", "You answer briefly."), ("user", "{question}")])
chain = prompt | llm | StrOutputParser()


@tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"Sunny in {city}"


with session.scenario("chain"):
    chain.invoke({"question": "What is LangChain?"})

with session.scenario("stream"):
    streaming = prompt | ChatOpenAI(
        model="gpt-4o-mini", base_url=base_url, api_key="sk-fake", stream_usage=True, max_retries=0
    )
    chunks = list((streaming | StrOutputParser()).stream({"question": "Stream please"}))
    assert "".join(chunks) == "Echo: Stream please", chunks

with session.scenario("tool"):
    agent = create_agent(llm, tools=[get_weather], system_prompt="Use the tools.")
    agent.invoke({"messages": [{"role": "user", "content": "What is the weather in Paris?"}]})

with session.scenario("retriever"):
    # check_embedding_ctx_length=False: no tokenizer download (no network here), text sent as is
    embeddings = OpenAIEmbeddings(
        model="text-embedding-3-small", base_url=base_url, api_key="sk-fake", check_embedding_ctx_length=False
    )
    store = InMemoryVectorStore(embeddings)
    store.add_documents([Document(page_content="Paris is the capital of France.", metadata={"source": "atlas"})])
    store.as_retriever(search_kwargs={"k": 1}).invoke("capital of France")

with session.scenario("failure", expect_error=True):
    ChatOpenAI(model="fail-model", base_url=base_url, api_key="sk-fake", max_retries=0).invoke("Hello")

session.finish()
