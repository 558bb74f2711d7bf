"""A small OpenAI-compatible server on loopback, for driving real client libraries in tests.

Real instrumentation libraries (installed from PyPI) wrap the real `openai` client; pointing that
client at this server (``base_url=fake.base_url``, any API key) exercises them exactly as in
production, with no network. Answers are deterministic:

- ``POST /v1/chat/completions``: replies ``"Echo: <last user message>"``; with ``tools`` it asks
  for the first tool (one tool call, ``{"city": "Paris"}``) unless the last message is a tool
  result; ``stream=true`` sends the reply in three chunks (usage last when
  ``stream_options.include_usage``); usage always reports cached and reasoning tokens.
- ``POST /v1/embeddings``: one 8-float vector per input.
- ``POST /v1/responses`` (the Responses API): the same echo (or a ``function_call`` item with
  ``tools``), ``stream=true`` as typed events ending in ``response.completed`` with usage.
- ``POST /v1/completions`` (legacy text completions): ``"Echo: <prompt>"``, streamed in three chunks.
- A model named ``fail-*`` (or a message containing ``FAIL``) is answered 400 with an OpenAI-shaped
  error, as a rejected request is.

Every request's JSON body is kept in :attr:`FakeOpenAI.requests` for assertions.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

PROMPT_TOKENS = 42
COMPLETION_TOKENS = 17
CACHED_TOKENS = 10
REASONING_TOKENS = 5
EMBEDDING_TOKENS = 6
STREAM_CHUNK_DELAY = 0.02  # seconds between chunks: time to first token is measurably before the end


def _usage() -> dict[str, Any]:
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": COMPLETION_TOKENS,
        "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
        "prompt_tokens_details": {"cached_tokens": CACHED_TOKENS, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": REASONING_TOKENS, "audio_tokens": 0},
    }


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _error(message: str) -> JSONResponse:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": "bad_request"}}
    return JSONResponse(body, status_code=400)


def _reply(body: dict[str, Any]) -> dict[str, Any]:
    """The assistant message for a chat request: a tool call, or the echo."""
    messages = body.get("messages") or []
    tools = body.get("tools") or []
    if tools and not (messages and messages[-1].get("role") == "tool"):
        name = tools[0].get("function", {}).get("name", "tool")
        call = {"id": "call_fake_1", "type": "function", "function": {"name": name, "arguments": '{"city": "Paris"}'}}
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    return {"role": "assistant", "content": f"Echo: {_last_user_text(messages)}"}


@dataclass
class FakeOpenAI:
    """The server's state; :func:`fake_openai` runs it."""

    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)

    async def chat(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        self.requests.append(body)
        model = str(body.get("model", ""))
        if model.startswith("fail") or "FAIL" in _last_user_text(body.get("messages") or []):
            return _error(f"The model `{model}` refused this request.")
        created = int(time.time())
        reply = _reply(body)
        finish = "tool_calls" if reply.get("tool_calls") else "stop"
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return StreamingResponse(
                self._stream(model, created, reply, finish, include_usage), media_type="text/event-stream"
            )
        choice = {"index": 0, "message": reply, "finish_reason": finish, "logprobs": None}
        completion = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [choice],
            "usage": _usage(),
            "system_fingerprint": "fp_fake",
        }
        return JSONResponse(completion)

    async def _stream(
        self, model: str, created: int, reply: dict[str, Any], finish: str, include_usage: bool
    ) -> AsyncIterator[bytes]:
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created, "model": model}

        def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> bytes:
            choices = [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]
            return b"data: " + orjson.dumps({**base, "choices": choices, **extra}) + b"\n\n"

        if reply.get("tool_calls"):
            call = reply["tool_calls"][0]
            first = {
                "index": 0,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""},
            }
            yield chunk({"role": "assistant", "tool_calls": [first]})
            await asyncio.sleep(STREAM_CHUNK_DELAY)
            yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": call["function"]["arguments"]}}]})
        else:
            text: str = reply["content"]
            third = max(1, len(text) // 3)
            parts = [text[:third], text[third : 2 * third], text[2 * third :]]
            yield chunk({"role": "assistant", "content": parts[0]})
            for part in parts[1:]:
                await asyncio.sleep(STREAM_CHUNK_DELAY)
                yield chunk({"content": part})
        yield chunk({}, finish)
        if include_usage:
            yield b"data: " + orjson.dumps({**base, "choices": [], "usage": _usage()}) + b"\n\n"
        yield b"data: [DONE]\n\n"

    async def embeddings(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        self.requests.append(body)
        model = str(body.get("model", ""))
        if model.startswith("fail"):
            return _error(f"The model `{model}` refused this request.")
        inputs = body.get("input")
        items = inputs if isinstance(inputs, list) else [inputs]
        data = [
            {"object": "embedding", "index": i, "embedding": [0.125 * (k + 1) for k in range(8)]}
            for i, _ in enumerate(items)
        ]
        usage = {"prompt_tokens": EMBEDDING_TOKENS, "total_tokens": EMBEDDING_TOKENS}
        return JSONResponse({"object": "list", "data": data, "model": model, "usage": usage})

    async def responses(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        self.requests.append(body)
        model = str(body.get("model", ""))
        text_in = _responses_input_text(body.get("input"))
        if model.startswith("fail") or "FAIL" in text_in:
            return _error(f"The model `{model}` refused this request.")
        response = _response_object(body, model, text_in)
        if not body.get("stream"):
            return JSONResponse(response)
        return StreamingResponse(self._response_events(response), media_type="text/event-stream")

    async def _response_events(self, response: dict[str, Any]) -> AsyncIterator[bytes]:
        sequence = iter(range(1_000))

        def event(kind: str, **fields: Any) -> bytes:
            data = {"type": kind, "sequence_number": next(sequence), **fields}
            return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"

        pending = {**response, "status": "in_progress", "output": [], "usage": None}
        yield event("response.created", response=pending)
        for index, item in enumerate(response["output"]):
            yield event("response.output_item.added", output_index=index, item={**item, "status": "in_progress"})
            if item["type"] == "message":
                text: str = item["content"][0]["text"]
                third = max(1, len(text) // 3)
                for part in (text[:third], text[third : 2 * third], text[2 * third :]):
                    await asyncio.sleep(STREAM_CHUNK_DELAY)
                    yield event(
                        "response.output_text.delta",
                        item_id=item["id"],
                        output_index=index,
                        content_index=0,
                        delta=part,
                        logprobs=[],
                    )
            yield event("response.output_item.done", output_index=index, item=item)
        yield event("response.completed", response=response)

    async def completions(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        self.requests.append(body)
        model = str(body.get("model", ""))
        prompt = body.get("prompt")
        text_in = prompt if isinstance(prompt, str) else " ".join(map(str, prompt or []))
        if model.startswith("fail") or "FAIL" in text_in:
            return _error(f"The model `{model}` refused this request.")
        base = {"id": "cmpl-fake", "object": "text_completion", "created": int(time.time()), "model": model}
        text = f"Echo: {text_in}"
        if not body.get("stream"):
            choice = {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
            return JSONResponse({**base, "choices": [choice], "usage": _usage()})

        async def chunks() -> AsyncIterator[bytes]:
            third = max(1, len(text) // 3)
            for i, part in enumerate((text[:third], text[third : 2 * third], text[2 * third :])):
                if i:
                    await asyncio.sleep(STREAM_CHUNK_DELAY)
                choice = {"index": 0, "text": part, "finish_reason": "stop" if i == 2 else None, "logprobs": None}
                yield b"data: " + orjson.dumps({**base, "choices": [choice]}) + b"\n\n"
            yield b"data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")

    async def models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model", "owned_by": "fake"}]})


def _responses_input_text(value: Any) -> str:
    """The last user text of a Responses API ``input`` (a string or a list of messages/items)."""
    if isinstance(value, str):
        return value
    for item in reversed(value if isinstance(value, list) else []):
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _response_object(body: dict[str, Any], model: str, text_in: str) -> dict[str, Any]:
    """A completed Responses API object: a function call with ``tools`` (until a tool output comes back)."""
    tools = body.get("tools") or []
    items = body.get("input") if isinstance(body.get("input"), list) else []
    answered = any(isinstance(i, dict) and i.get("type") == "function_call_output" for i in items)
    if tools and not answered:
        output: dict[str, Any] = {
            "type": "function_call",
            "id": "fc_fake_1",
            "call_id": "call_fake_1",
            "name": tools[0].get("name", "tool"),
            "arguments": '{"city": "Paris"}',
            "status": "completed",
        }
    else:
        content = [{"type": "output_text", "text": f"Echo: {text_in}", "annotations": [], "logprobs": []}]
        output = {"type": "message", "id": "msg_fake_1", "status": "completed", "role": "assistant", "content": content}
    usage = {
        "input_tokens": PROMPT_TOKENS,
        "input_tokens_details": {"cached_tokens": CACHED_TOKENS},
        "output_tokens": COMPLETION_TOKENS,
        "output_tokens_details": {"reasoning_tokens": REASONING_TOKENS},
        "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
    }
    return {
        "id": "resp_fake",
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": model,
        "output": [output],
        "parallel_tool_calls": True,
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": tools,
        "temperature": body.get("temperature"),
        "top_p": body.get("top_p"),
        "instructions": body.get("instructions"),
        "metadata": body.get("metadata") or {},
        "error": None,
        "incomplete_details": None,
        "usage": usage,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def fake_openai() -> Iterator[FakeOpenAI]:
    """Run a :class:`FakeOpenAI` on a free loopback port for the duration of the block."""
    state = FakeOpenAI()
    app = Starlette(
        routes=[
            Route("/v1/chat/completions", state.chat, methods=["POST"]),
            Route("/v1/embeddings", state.embeddings, methods=["POST"]),
            Route("/v1/responses", state.responses, methods=["POST"]),
            Route("/v1/completions", state.completions, methods=["POST"]),
            Route("/v1/models", state.models, methods=["GET"]),
        ]
    )
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="fake-openai", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake OpenAI server did not start")
        time.sleep(0.01)
    state.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(timeout=5)
