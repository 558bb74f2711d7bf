"""The existing SDK's 2.x release, as its users drive it: everything goes through ``POST /ingestion``.

The low-level client (a trace, a span, a generation with usage, an event, updates, scores of
every data type) and the ``@observe`` decorator (nested functions, trace and observation updates,
scores of the current trace and observation), then ``flush()``. Every request the SDK makes is
recorded with its status and, for a 207, the events the server refused; ``fetch_trace`` reads the
trace back through the SDK's own client. Runs inside a venv holding only that release.

Usage: python batch_v2.py SUMMARY_PATH (configured by LANGFUSE_* variables and PEER_RUN).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import traceback
from typing import Any

import httpx

REQUESTS: list[dict[str, Any]] = []
_send = httpx.Client.send


def _recording_send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
    response = _send(self, request, *args, **kwargs)
    entry: dict[str, Any] = {"method": request.method, "path": request.url.path, "status": response.status_code}
    if response.status_code == 207:
        response.read()
        entry["errors"] = json.loads(response.content).get("errors")
    REQUESTS.append(entry)
    return response


httpx.Client.send = _recording_send  # type: ignore[method-assign]

from langfuse import Langfuse  # noqa: E402
from langfuse.decorators import langfuse_context, observe  # noqa: E402

TAG = os.environ["PEER_RUN"]
summary: dict[str, Any] = {"errors": {}, "requests": REQUESTS}
langfuse = Langfuse(release=f"release-{TAG}")
T0 = dt.datetime(2026, 1, 31, 12, 0, 0, tzinfo=dt.UTC)


def step(name: str, action: Any) -> Any:
    try:
        return action()
    except Exception as exc:  # what the SDK raised is the finding
        summary["errors"][name] = f"{type(exc).__name__}: {exc}"[:2000]
        traceback.print_exc()
        return None


def low_level() -> None:
    trace = langfuse.trace(
        name=f"chat-{TAG}",
        user_id=f"user-{TAG}",
        session_id=f"session-{TAG}",
        version="v1",
        tags=["batch", "v2"],
        metadata={"origin": "low-level"},
        input={"question": "hi"},
        timestamp=T0,
    )
    span = trace.span(name="retrieve", input={"query": "hi"}, start_time=T0 + dt.timedelta(milliseconds=100))
    generation = span.generation(
        name="llm",
        model="gpt-4o-mini",
        model_parameters={"temperature": 0.2, "max_tokens": 100},
        input=[{"role": "user", "content": "hi"}],
        start_time=T0 + dt.timedelta(milliseconds=200),
        metadata={"attempt": 1},
    )
    generation.update(completion_start_time=T0 + dt.timedelta(milliseconds=300))
    generation.end(
        output={"role": "assistant", "content": "hello"},
        usage={"input": 1000, "output": 500},
        end_time=T0 + dt.timedelta(milliseconds=900),
    )
    costed = trace.generation(
        name="embed",
        model="text-embedding-3-small",
        usage_details={"input": 20},
        cost_details={"input": 0.5},
        start_time=T0 + dt.timedelta(milliseconds=950),
        end_time=T0 + dt.timedelta(milliseconds=960),
    )
    span.event(name="cache-miss", input={"key": "k"}, start_time=T0 + dt.timedelta(milliseconds=150))
    span.end(output={"documents": 2}, end_time=T0 + dt.timedelta(milliseconds=990), level="WARNING")
    trace.update(output={"answer": "hello"}, tags=["updated"], metadata={"stage": "done"}, public=True)
    trace.score(name="quality", value=0.75, comment="fine")
    langfuse.score(trace_id=trace.id, name="verdict", value="good", data_type="CATEGORICAL")
    langfuse.score(trace_id=trace.id, observation_id=generation.id, name="correct", value=1, data_type="BOOLEAN")
    summary["low_level"] = {"trace": trace.id, "span": span.id, "generation": generation.id, "embed": costed.id}


@observe(as_type="generation")
def answer(question: str) -> str:
    langfuse_context.update_current_observation(
        model="gpt-4o-mini", usage={"input": 10, "output": 5}, metadata={"question": question}
    )
    langfuse_context.score_current_observation(name="fluent", value=0.9)
    return f"answer to {question}"


@observe()
def pipeline(question: str) -> str:
    langfuse_context.update_current_trace(name=f"decorated-{TAG}", user_id=f"user-{TAG}", tags=["decorated"])
    summary["decorated"] = {"trace": langfuse_context.get_current_trace_id()}
    result = answer(question)
    langfuse_context.score_current_trace(name="overall", value=1.0)
    return result


step("low_level", low_level)
step("decorated", lambda: pipeline("why?"))
step("flush", lambda: (langfuse_context.flush(), langfuse.flush()))


def read_back() -> None:
    trace = langfuse.fetch_trace(summary["low_level"]["trace"]).data
    summary["fetched"] = {
        "name": trace.name,
        "observations": len(trace.observations),
        "scores": len(trace.scores),
        "total_cost": trace.total_cost,
    }


step("fetch_trace", read_back)
with open(sys.argv[1], "w") as out:
    json.dump(summary, out, indent=1, default=str)
