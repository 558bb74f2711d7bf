"""``interactiveai.langchain.CallbackHandler``: real langchain-core runs (ChatOpenAI from
langchain-openai against the fake server) read back through our REST API, on both engines."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import openai
import pytest
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langchain_openai import OpenAI as CompletionsLLM
from opentelemetry import trace as trace_api

from interactiveai import InteractiveAI, observe
from interactiveai.langchain import CallbackHandler
from tests.support.fake_openai import COMPLETION_TOKENS, PROMPT_TOKENS, FakeOpenAI
from tests.support.live_server import LiveServer

from .conftest import by_name, read_trace
from .test_openai_chat import USAGE


def _chain(fake: FakeOpenAI, model: str = "gpt-4o-mini", **options: Any) -> Any:
    llm = ChatOpenAI(model=model, base_url=fake.base_url, api_key="sk-fake", temperature=0.3, max_retries=0, **options)
    prompt = ChatPromptTemplate.from_messages([("system", "Be brief."), ("user", "{question}")])
    return prompt | llm | StrOutputParser()


def _children(trace: dict[str, Any], parent: dict[str, Any]) -> list[str]:
    return sorted(o["name"] for o in trace["observations"] if o["parentObservationId"] == parent["id"])


def test_chain_runs_nest_under_the_current_observation(
    server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI
) -> None:
    handler = CallbackHandler()
    config: Any = {
        "callbacks": [handler],
        "tags": ["qa"],
        "metadata": {"interactiveai_session_id": "lc-1", "interactiveai_user_id": "u-9", "team": "search"},
    }

    @observe
    def answer(question: str) -> str:
        result: str = _chain(fake).invoke({"question": question}, config=config)
        return result

    assert answer("Capital of Peru?") == "Echo: Capital of Peru?"
    trace = read_trace(server, sdk, handler.last_trace_id or "", 6)
    observations = by_name(trace)
    sequence, llm = observations["RunnableSequence"], observations["ChatOpenAI"]
    assert sequence["type"] == "CHAIN" and sequence["parentObservationId"] == observations["answer"]["id"]
    assert _children(trace, sequence) == ["ChatOpenAI", "ChatPromptTemplate", "StrOutputParser"]
    assert sequence["input"] == {"question": "Capital of Peru?"} and sequence["output"] == "Echo: Capital of Peru?"
    assert llm["type"] == "GENERATION" and llm["model"] == "gpt-4o-mini"
    assert llm["input"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of Peru?"},
    ]
    assert llm["output"]["role"] == "assistant" and llm["output"]["content"] == "Echo: Capital of Peru?"
    assert str(llm["modelParameters"]["temperature"]) == "0.3"
    assert llm["usageDetails"] == USAGE and llm["calculatedTotalCost"] > 0
    assert llm["metadata"]["team"] == "search" and llm["metadata"]["ls_provider"] == "openai"
    assert "interactiveai_session_id" not in llm["metadata"]
    # The OpenAI call ChatOpenAI makes (instrumented too) nests under the LangChain generation.
    assert _children(trace, llm) == ["OpenAI-generation"]
    assert observations["OpenAI-generation"]["usageDetails"] == USAGE
    assert (trace["sessionId"], trace["userId"]) == ("lc-1", "u-9")
    assert sequence["metadata"]["tags"] == ["qa"]


def test_streaming_records_time_to_first_token(
    server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    handler = CallbackHandler()
    with sdk.start_as_current_observation(name="streamed-chain") as root:
        parts = list(_chain(fake, stream_usage=True).stream({"question": "Go"}, config={"callbacks": [handler]}))
    assert "".join(parts) == "Echo: Go" and len(parts) >= 3
    observations = by_name(read_trace(server, sdk, root.trace_id, 6))
    llm = observations["ChatOpenAI"]
    assert llm["output"]["content"] == "Echo: Go" and llm["usageDetails"] == USAGE
    assert llm["startTime"] < llm["completionStartTime"] < llm["endTime"]
    assert observations["RunnableSequence"]["parentObservationId"] == root.id
    streamed = observations["OpenAI-generation"]  # read from inside ChatOpenAI's raw-response stream
    assert streamed["parentObservationId"] == llm["id"] and streamed["output"]["content"] == "Echo: Go"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no "Failed to detach context"
    assert not trace_api.get_current_span().is_recording()  # the stream left no run current


def test_tools_retrievers_agents_and_nested_observe(server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI) -> None:
    @observe(as_type="tool")
    def lookup(city: str) -> str:
        return f"sunny in {city}"

    @tool
    def get_weather(city: str) -> str:
        """Weather in a city."""
        return lookup(city)

    @tool
    def broken(city: str) -> str:
        """Always fails."""
        raise ValueError(f"no data for {city}")

    class Docs(BaseRetriever):
        def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
            return [Document(page_content=f"About {query}", metadata={"source": "wiki"})]

    def agent_step(question: str) -> str:
        docs = Docs().invoke(question)
        return get_weather.invoke({"city": docs[0].page_content.split()[-1]})

    handler = CallbackHandler()
    with sdk.start_as_current_observation(name="tools") as root:
        agent = RunnableLambda(agent_step).with_config(run_name="weather_agent")
        assert agent.invoke("Lima", config={"callbacks": [handler]}) == "sunny in Lima"
        with pytest.raises(ValueError, match="no data for Oslo"):
            broken.invoke({"city": "Oslo"}, config={"callbacks": [handler]})
    trace = read_trace(server, sdk, root.trace_id, 6)
    observations = by_name(trace)
    agent_obs = observations["weather_agent"]
    assert agent_obs["type"] == "AGENT" and agent_obs["parentObservationId"] == root.id
    assert _children(trace, agent_obs) == ["Docs", "get_weather"]
    retriever = observations["Docs"]
    assert retriever["type"] == "RETRIEVER" and retriever["input"] == "Lima"
    assert retriever["output"][0]["page_content"] == "About Lima"
    weather = observations["get_weather"]
    assert weather["type"] == "TOOL" and weather["input"] == {"city": "Lima"} and weather["output"] == "sunny in Lima"
    assert observations["lookup"]["parentObservationId"] == weather["id"]  # @observe inside the tool nests
    failed = observations["broken"]
    assert failed["level"] == "ERROR" and "no data for Oslo" in failed["statusMessage"]


def test_a_failing_model_is_an_error_on_the_generation_and_the_chain(
    server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI
) -> None:
    handler = CallbackHandler()
    with sdk.start_as_current_observation(name="failing-chain") as root:
        with pytest.raises(openai.BadRequestError):
            _chain(fake, model="fail-model").invoke({"question": "x"}, config={"callbacks": [handler]})
    observations = by_name(read_trace(server, sdk, root.trace_id, 5))
    for name in ("ChatOpenAI", "RunnableSequence"):
        assert observations[name]["level"] == "ERROR" and "refused" in observations[name]["statusMessage"]
    assert observations["ChatPromptTemplate"]["level"] == "DEFAULT"


def test_async_runs_update_trace_and_trace_context(server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI) -> None:
    chain = _chain(fake)
    handler = CallbackHandler(update_trace=True)

    async def main() -> list[str]:
        # An HTTP client of this event loop: langchain-openai shares a default async client across
        # its models, and a connection it pooled under an earlier test's (closed) loop fails here.
        async with httpx.AsyncClient() as http:
            on_this_loop = _chain(fake, http_async_client=http)
            return await on_this_loop.abatch([{"question": "a"}, {"question": "b"}], config={"callbacks": [handler]})

    assert asyncio.run(main()) == ["Echo: a", "Echo: b"]
    trace = read_trace(server, sdk, handler.last_trace_id or "", 5)
    assert trace["name"] == "RunnableSequence" and trace["output"] in ("Echo: a", "Echo: b")
    assert trace["input"] == {"question": trace["output"][-1]}
    assert len([o for o in trace["observations"] if o["name"] == "RunnableSequence"]) == 1  # one trace per run

    parent = sdk.start_observation(name="upstream")
    parent.end()
    placed = CallbackHandler(trace_context={"trace_id": parent.trace_id, "parent_span_id": parent.id})
    chain.invoke({"question": "c"}, config={"callbacks": [placed]})
    assert placed.last_trace_id == parent.trace_id
    observations = by_name(read_trace(server, sdk, parent.trace_id, 6))
    assert observations["RunnableSequence"]["parentObservationId"] == parent.id


def test_batches_keep_each_run_in_its_parent_and_leave_the_context_clean(
    server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI
) -> None:
    handler = CallbackHandler()
    # A sequence's batch starts all its runs in the caller's context, then ends them first to last;
    # the inner sequence's batch does the same one level down.
    outer = RunnableLambda(lambda d: d).with_config(run_name="prepare") | _chain(fake).with_config(run_name="inner")
    with sdk.start_as_current_observation(name="batch") as root:
        answers = outer.batch([{"question": q} for q in "xyz"], config={"callbacks": [handler]})
        assert trace_api.get_current_span() is root.otel_span  # nothing of the runs is left current
        after = sdk.start_observation(name="after")
        after.end()
    assert answers == ["Echo: x", "Echo: y", "Echo: z"]
    assert not trace_api.get_current_span().is_recording()
    trace = read_trace(server, sdk, root.trace_id, 2 + 3 * 7)
    sequences = [o for o in trace["observations"] if o["name"] == "RunnableSequence"]
    assert len(sequences) == 3 and {o["parentObservationId"] for o in sequences} == {root.id}
    for sequence in sequences:
        assert _children(trace, sequence) == ["inner", "prepare"]
    for inner in (o for o in trace["observations"] if o["name"] == "inner"):
        assert _children(trace, inner) == ["ChatOpenAI", "ChatPromptTemplate", "StrOutputParser"]
    for llm in (o for o in trace["observations"] if o["name"] == "ChatOpenAI"):
        assert llm["output"]["content"] == "Echo: " + llm["input"][1]["content"]
        assert _children(trace, llm) == ["OpenAI-generation"]
    assert (
        by_name({"observations": [o for o in trace["observations"] if o["name"] == "after"]})["after"][
            "parentObservationId"
        ]
        == root.id
    )


def test_text_completion_llm(server: LiveServer, sdk: InteractiveAI, fake: FakeOpenAI) -> None:
    llm = CompletionsLLM(model="gpt-3.5-turbo-instruct", base_url=fake.base_url, api_key="sk-fake", max_tokens=20)
    handler = CallbackHandler()
    with sdk.start_as_current_observation(name="completion") as root:
        assert llm.invoke("Say hi", config={"callbacks": [handler]}) == "Echo: Say hi"
    generation = by_name(read_trace(server, sdk, root.trace_id, 3))["OpenAI"]
    assert generation["type"] == "GENERATION" and generation["input"] == "Say hi"
    assert generation["output"] == "Echo: Say hi" and generation["model"] == "gpt-3.5-turbo-instruct"
    assert str(generation["modelParameters"]["max_tokens"]) == "20"
    # langchain-openai's text LLM reports only the three totals of OpenAI's usage.
    assert generation["usageDetails"] == {"input": PROMPT_TOKENS, "output": COMPLETION_TOKENS, "total": 59}


def test_recording_never_gets_in_the_way(fake: FakeOpenAI) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from interactiveai.sdk.attributes import FAILED_MASK, Attr

    handler = CallbackHandler()
    # No client at all: the chain runs as without the handler.
    assert _chain(fake).invoke({"question": "off"}, config={"callbacks": [handler]}) == "Echo: off"
    assert handler.last_trace_id is None

    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    client = InteractiveAI(
        public_key="pk-mem", secret_key="sk-mem", host="http://127.0.0.1:9", tracer_provider=provider,
        span_exporter=exporter, mask=lambda *, data: 1 / 0,
    )  # fmt: skip
    try:
        assert _chain(fake).invoke({"question": "on"}, config={"callbacks": [handler]}) == "Echo: on"
        assert client.flush(timeout=5)
        spans = {span.name: dict(span.attributes or {}) for span in exporter.get_finished_spans()}
        assert {"RunnableSequence", "ChatPromptTemplate", "ChatOpenAI", "StrOutputParser"} <= set(spans)
        assert spans["ChatOpenAI"][Attr.OBSERVATION_INPUT] == f'"{FAILED_MASK}"'  # a failing mask hides all
    finally:
        client.shutdown(timeout=1)
        provider.shutdown()
