"""A configurable OpenAI-compatible judge on loopback: each answer is chosen by the test.

``behaviour`` says how the next calls are answered: ``ok`` (a JSON verdict), ``500``, ``429``,
``slow`` (answers after ``slow_seconds``: past the worker's timeout), ``garbage`` (text with no
JSON object), ``401``, ``trickle`` (a verdict sent a few bytes at a time over ``slow_seconds``:
each read is quick, the whole answer late), ``not-json`` (200 with an HTML page), ``500-nul`` (a
500 whose text holds NUL and a lone surrogate escaped in JSON). Every request body is kept in
``requests``.
"""

from __future__ import annotations

import asyncio
import contextlib
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

from tests.support.fake_openai import _free_port


@dataclass
class FakeJudge:
    base_url: str = ""
    behaviour: str = "ok"
    verdict: dict[str, Any] = field(default_factory=lambda: {"score": 0.8, "reasoning": "Polite and correct."})
    content: str | None = None  # the answer's text as it is, instead of the verdict's JSON
    slow_seconds: float = 2.0
    delay_seconds: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def chat(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        with self.lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.behaviour in ("500", "429", "401"):
            return JSONResponse({"error": {"message": f"fake {self.behaviour}"}}, status_code=int(self.behaviour))
        if self.behaviour == "slow":
            await asyncio.sleep(self.slow_seconds)
        if self.behaviour == "not-json":
            return Response("<html><body>Bad gateway</body></html>", media_type="text/html")
        if self.behaviour == "500-nul":
            return Response('{"error": "bro\\u0000ken \\ud800"}\x00', status_code=500, media_type="application/json")
        if self.behaviour == "trickle":
            return StreamingResponse(self._trickle(body), media_type="application/json")
        return JSONResponse(self._completion(body))

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        content = "I think it is fine." if self.behaviour == "garbage" else orjson.dumps(self.verdict).decode()
        content = self.content if self.content is not None else content
        return {
            "id": "chatcmpl-judge",
            "object": "chat.completion",
            "model": body.get("model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }

    async def _trickle(self, body: dict[str, Any]) -> AsyncIterator[bytes]:
        text = orjson.dumps(self._completion(body))
        pieces = 20
        step = len(text) // pieces + 1
        for start in range(0, len(text), step):
            yield text[start : start + step]
            await asyncio.sleep(self.slow_seconds / pieces)

    def prompts(self) -> list[str]:
        with self.lock:
            return [str(r["messages"][-1]["content"]) for r in self.requests]


@contextlib.contextmanager
def fake_judge() -> Iterator[FakeJudge]:
    state = FakeJudge()
    app = Starlette(routes=[Route("/v1/chat/completions", state.chat, methods=["POST"])])
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="fake-judge", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake judge did not start")
        time.sleep(0.01)
    state.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(timeout=5)
