"""Traces as a user of the existing SDK (3.0 to 5.x) makes them, read back through its own client.

Three traces: nested ``@observe`` functions (a retriever and a generation reporting model, usage
and cost) with trace attributes set the way the release offers (``update_current_trace`` in 3.x,
``propagate_attributes`` from 3.x's later minors on); context-manager observations (a span, a
generation with OpenAI-style usage keys, a tool, an event); and the OpenAI drop-in
(``langfuse.openai``) against the fake OpenAI server (a chat call, a stream, an embedding).
Then ``get_trace_url``, ``flush`` and the reads the release has: traces (3.x, 4.x), observations
(v1 list in 3.x, v2 in 4.x and 5.x), sessions.

Usage: python sdk_traces.py SUMMARY_PATH (configured by LANGFUSE_* and OPENAI_* variables).
"""

from __future__ import annotations

import os
from typing import Any

from sdk_common import Summary, field, jsonable, poll, record_http, run_tag, sdk_version

record_http()

from langfuse import Langfuse, observe  # noqa: E402

MAJOR, MINOR = sdk_version()
HAS_OBSERVATION_API = hasattr(Langfuse, "start_as_current_observation")  # 3.3 on
TAG = run_tag()
USER, SESSION = f"user-{TAG}", f"session-{TAG}"
summary = Summary("traces")
langfuse = Langfuse()
ids: dict[str, str] = {}
TRACES_EMBEDDINGS = False

try:
    from langfuse import propagate_attributes  # 3.8 on

    HAS_PROPAGATE = True
except ImportError:
    HAS_PROPAGATE = False


@observe(name="retrieve", as_type="retriever" if HAS_OBSERVATION_API else None)
def retrieve(question: str) -> list[str]:
    return [f"doc about {question}", "another doc"]


@observe(name="answer", as_type="generation")
def answer(question: str, docs: list[str]) -> str:
    langfuse.update_current_generation(
        model="gpt-4o-mini",
        model_parameters={"temperature": 0.2, "max_tokens": 64},
        usage_details={"input": 100, "output": 20},
        cost_details={"input": 0.001, "output": 0.002},
        metadata={"step": "answer"},
    )
    ids["answer"] = langfuse.get_current_observation_id() or ""
    return f"Answer to {question} from {len(docs)} docs"


@observe(name="pipeline")
def pipeline(question: str) -> str:
    ids["decorated"] = langfuse.get_current_trace_id() or ""
    ids["pipeline"] = langfuse.get_current_observation_id() or ""
    trace_attributes = {"user_id": USER, "session_id": SESSION, "tags": ["peer-sdk", "decorated"]}
    if MAJOR == 3:
        langfuse.update_current_trace(name="peer-decorated", metadata={"flow": "decorated"}, **trace_attributes)
        return answer(question, retrieve(question))
    with propagate_attributes(trace_name="peer-decorated", metadata={"flow": "decorated"}, **trace_attributes):
        return answer(question, retrieve(question))


def context_managers() -> None:
    trace_attributes = {"user_id": USER, "session_id": SESSION, "tags": ["peer-sdk", "context"]}
    start_span = langfuse.start_as_current_span if MAJOR == 3 else None
    root_cm = (
        start_span(name="cm-root", input={"q": "hi"}, metadata={"origin": "cm"})
        if start_span
        else langfuse.start_as_current_observation(
            name="cm-root", as_type="span", input={"q": "hi"}, metadata={"origin": "cm"}
        )
    )
    with root_cm as root:
        ids["context"] = root.trace_id
        ids["cm-root"] = root.id
        if HAS_PROPAGATE:
            propagation = propagate_attributes(
                trace_name="peer-context", metadata={"flow": "context"}, **trace_attributes
            )
        else:
            root.update_trace(name="peer-context", metadata={"flow": "context"}, **trace_attributes)
            propagation = _nothing()
        with propagation:
            generation_args: dict[str, Any] = {
                "name": "cm-generation",
                "model": "gpt-4o",
                "model_parameters": {"temperature": 0.7, "stop": ["\n"]},
                "input": [{"role": "user", "content": "hi"}],
                "usage_details": {"prompt_tokens": 30, "completion_tokens": 10},  # kept as sent, plus total
                "cost_details": {"total": 0.0042},
                "metadata": {"kind": "chat"},
            }
            generation_cm = (
                langfuse.start_as_current_observation(as_type="generation", **generation_args)
                if HAS_OBSERVATION_API
                else langfuse.start_as_current_generation(**generation_args)
            )
            with generation_cm as generation:
                ids["cm-generation"] = generation.id
                generation.update(output={"role": "assistant", "content": "hello"})
            if HAS_OBSERVATION_API:
                with langfuse.start_as_current_observation(
                    name="cm-tool", as_type="tool", input={"city": "Paris"}
                ) as tool:
                    ids["cm-tool"] = tool.id
                    tool.update(output={"temp": 21})
            event = langfuse.create_event(name="cm-event", input={"e": 1}, output="done")
            ids["cm-event"] = event.id
        root.update(output={"answer": "hello"})


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def openai_drop_in() -> None:
    from langfuse import openai as drop_in
    from langfuse.openai import OpenAI

    global TRACES_EMBEDDINGS
    TRACES_EMBEDDINGS = any(d.object == "Embeddings" for d in drop_in.OPENAI_METHODS_V1)  # not in 3.0
    summary["traces_embeddings"] = TRACES_EMBEDDINGS

    client = OpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key="sk-fake")
    root_cm = (
        langfuse.start_as_current_span(name="openai-root")
        if MAJOR == 3
        else langfuse.start_as_current_observation(name="openai-root", as_type="span")
    )
    with root_cm as root:
        ids["openai"] = root.trace_id
        if MAJOR == 3:
            root.update_trace(name="peer-openai", session_id=SESSION, user_id=USER)
            propagation: Any = _nothing()
        else:
            propagation = propagate_attributes(trace_name="peer-openai", session_id=SESSION, user_id=USER)
        with propagation:
            client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "What is 2+2?"}],
                temperature=0,
                name="chat-call",
            )
            stream = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "Stream please"}],
                stream=True,
                stream_options={"include_usage": True},
                name="stream-call",
            )
            summary["streamed_text"] = "".join(
                (chunk.choices[0].delta.content or "") for chunk in stream if chunk.choices
            )
            if TRACES_EMBEDDINGS:
                client.embeddings.create(model="text-embedding-3-small", input="embed me", name="embed-call")


def trace_summary(trace: Any) -> dict[str, Any]:
    data = jsonable(trace)
    return {
        "id": data.get("id"),
        "name": data.get("name"),
        "userId": data.get("userId"),
        "sessionId": data.get("sessionId"),
        "tags": sorted(data.get("tags") or []),
        "metadata": data.get("metadata"),
        "totalCost": data.get("totalCost"),
        "observations": [observation_summary(o) for o in data.get("observations") or []],
        "scores": data.get("scores"),
    }


def observation_summary(observation: Any) -> dict[str, Any]:
    data = jsonable(observation)
    keys = (
        "id", "traceId", "name", "type", "parentObservationId", "model", "modelParameters",
        "usageDetails", "costDetails", "input", "output", "metadata", "level", "completionStartTime",
    )  # fmt: skip
    return {key: data.get(key) for key in keys}


with summary.step("decorated"):
    summary["decorated_output"] = pipeline("What is OTel?")
with summary.step("context_managers"):
    context_managers()
with summary.step("openai"):
    openai_drop_in()
summary["ids"] = ids
summary["user"], summary["session"] = USER, SESSION
summary["has_observation_types"] = HAS_OBSERVATION_API  # retriever, tool, … (3.3 on)
with summary.step("get_trace_url"):
    summary["trace_url"] = langfuse.get_trace_url(trace_id=ids.get("decorated"))
langfuse.flush()

trace_names = ("decorated", "context", "openai")
if MAJOR in (3, 4):  # 5.x has no trace reads in its client
    for key in trace_names:
        with summary.step(f"trace.get:{key}"):
            found = poll(lambda key=key: langfuse.api.trace.get(ids[key]), lambda t: len(t.observations) > 0)
            summary[f"trace:{key}"] = trace_summary(found)
    with summary.step("trace.list"):
        listed = langfuse.api.trace.list(session_id=SESSION, limit=50)
        summary["trace_list"] = sorted(field(t, "name") or "" for t in listed.data)
    with summary.step("trace.list:tags"):
        listed = langfuse.api.trace.list(user_id=USER, tags=["decorated"], limit=50)
        summary["trace_list_tags"] = sorted(field(t, "id") for t in listed.data)
    with summary.step("sessions.get"):
        session = langfuse.api.sessions.get(SESSION)
        summary["session_traces"] = sorted(field(t, "id") for t in field(session, "traces"))

for key in trace_names:
    with summary.step(f"observations:{key}"):
        if MAJOR == 3:
            page = langfuse.api.observations.get_many(trace_id=ids[key], limit=100)
        else:
            page = langfuse.api.observations.get_many(
                trace_id=ids[key], fields="core,basic,time,io,metadata,model,usage", limit=100
            )
        summary[f"observations:{key}"] = [observation_summary(o) for o in page.data]
    if MAJOR == 4:
        with summary.step(f"observations_v1:{key}"):
            page = langfuse.api.legacy.observations_v1.get_many(trace_id=ids[key], limit=100)
            summary[f"observations_v1:{key}"] = [observation_summary(o) for o in page.data]

summary.write()
langfuse.shutdown()
