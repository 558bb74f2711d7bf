"""A small OpenAI-compatible server on loopback, for driving real client libraries in tests.

Real instrumentation libraries (installed from PyPI) wrap the real `openai` client; pointing that
client at this server (``base_url=fake.base_url``, any API key) exercises them exactly as in
production, with no network. Answers are deterministic:

- ``POST /v1/chat/completions``: replies ``"Echo: <last user message>"``; with ``tools`` it asks
  for the first tool (one tool call, ``{"city": "Paris"}``) unless the last message is a tool
  result; ``stream=true`` sends the reply in three chunks (usage last when
  ``stream_options.include_usage``); usage always reports cached and reasoning tokens.
- ``POST /v1/embeddings``: one 8-float vector per input.
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

    async def models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model", "owned_by": "fake"}]})


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
