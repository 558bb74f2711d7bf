"""The existing SDK's 2.x OpenAI drop-in (``from langfuse.openai import openai``) against the fake server.

A chat completion, a streamed one (usage in the last chunk) and a failing call, each recorded by
the drop-in (which instruments chat and text completions) as a generation and sent through
``POST /ingestion`` (with the raw OpenAI usage object, cached and reasoning tokens included), then
``flush()``. Every request the SDK makes to our server is recorded with its status and, for a
207, the events it refused.

Usage: python batch_v2_openai.py SUMMARY_PATH (LANGFUSE_*, OPENAI_BASE_URL, PEER_RUN).
"""

from __future__ import annotations

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
    if request.url.path.startswith("/api/public/"):  # ours, not the fake OpenAI server's
        entry: dict[str, Any] = {"method": request.method, "path": request.url.path, "status": response.status_code}
        if response.status_code == 207:
            response.read()
            entry["errors"] = json.loads(response.content).get("errors")
        REQUESTS.append(entry)
    return response


httpx.Client.send = _recording_send  # type: ignore[method-assign]

from langfuse.decorators import langfuse_context  # noqa: E402
from langfuse.openai import openai  # noqa: E402

TAG = os.environ["PEER_RUN"]
summary: dict[str, Any] = {"errors": {}, "requests": REQUESTS, "traces": {}}
client = openai.OpenAI()


def call(name: str, action: Any) -> None:
    trace_id = f"{name}-{TAG}"
    summary["traces"][name] = trace_id
    try:
        action(trace_id)
    except openai.BadRequestError:
        summary["traces"][name + "_raised"] = True
    except Exception as exc:  # what the SDK raised is the finding
        summary["errors"][name] = f"{type(exc).__name__}: {exc}"[:2000]
        traceback.print_exc()


def chat(trace_id: str) -> None:
    client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hello"}],
        temperature=0.5,
        name="chat",
        trace_id=trace_id,
        metadata={"case": "chat"},
    )


def stream(trace_id: str) -> None:
    chunks = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "stream it"}],
        stream=True,
        stream_options={"include_usage": True},
        name="stream",
        trace_id=trace_id,
    )
    for _ in chunks:
        pass


def failing(trace_id: str) -> None:
    client.chat.completions.create(
        model="fail-model", messages=[{"role": "user", "content": "x"}], name="failing", trace_id=trace_id
    )


for name, action in (("chat", chat), ("stream", stream), ("failing", failing)):
    call(name, action)
try:
    openai.flush_langfuse()
    langfuse_context.flush()
except Exception as exc:
    summary["errors"]["flush"] = f"{type(exc).__name__}: {exc}"
with open(sys.argv[1], "w") as out:
    json.dump(summary, out, indent=1, default=str)
