"""The body middleware (bodies.py), driven message by message: a scripted client says exactly what
arrives when, and the log shows what the server read and answered, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from interactiveai.server.bodies import MIN_BODY_RATE, BodyBudget, BodyLimits, RequestBodies, read_body

Script = Sequence[bytes | float]  # body chunks, and pauses (seconds) between them


class Client:
    """One request: its headers and a script of body chunks; logs what the app pulls and sends."""

    def __init__(self, script: Script = (), headers: dict[str, str] | None = None, declared: bool = True) -> None:
        self.script = list(script)
        size = sum(len(part) for part in script if isinstance(part, bytes))
        self.headers = dict(headers or {})
        if declared:
            self.headers.setdefault("content-length", str(size))
        else:
            self.headers["transfer-encoding"] = "chunked"
        self.pulled = 0
        self.log: list[str] = []
        self.sent: list[Message] = []

    @property
    def scope(self) -> Scope:
        headers = [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
        return {"type": "http", "method": "POST", "path": "/", "headers": headers, "query_string": b""}

    async def receive(self) -> Message:
        while self.script and isinstance(self.script[0], float):
            await asyncio.sleep(self.script.pop(0))  # type: ignore[arg-type]
        if not self.script:
            await asyncio.Event().wait()  # a client that sends nothing more
        chunk = self.script.pop(0)
        assert isinstance(chunk, bytes)
        self.pulled += len(chunk)
        self.log.append(f"pull {len(chunk)}")
        more = any(isinstance(part, bytes) for part in self.script)
        return {"type": "http.request", "body": chunk, "more_body": more}

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        if message["type"] == "http.response.start":
            self.log.append(f"start {message['status']}")
        else:
            self.log.append("end" if not message.get("more_body") else "body")

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def response_headers(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.sent[0]["headers"]}

    @property
    def json(self) -> Any:
        return orjson.loads(b"".join(m.get("body", b"") for m in self.sent[1:]))


def limits(budget: int = 10_000, default: int = 1_000, drain: int = 5_000, timeout: float = 1.0) -> BodyLimits:
    return BodyLimits(BodyBudget(budget), default_limit=default, drain_limit=drain, timeout=timeout, retry_after=3)


async def early(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers 401 without reading the body (as a failed key check does)."""
    await send({"type": "http.response.start", "status": 401, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"no", "more_body": False})


def reader(limit: int | None) -> Any:
    """Reads the whole body (with ``read_body`` and ``limit``, or as a form parser would), answers its size."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if limit is not None:
            size = len(await read_body(request, limit))
        else:
            size = sum([len(chunk) async for chunk in request.stream()])
        content = str(size).encode()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(content))]}
        )
        await send({"type": "http.response.body", "body": content, "more_body": False})

    return app


async def run(app: Any, client: Client, body_limits: BodyLimits) -> Client:
    await RequestBodies(app, body_limits)(client.scope, client.receive, client.send)
    return client


async def test_an_early_answer_closes_after_draining_the_body() -> None:
    client = await run(early, Client([b"a" * 1000, b"b" * 1000, b"c" * 500]), limits())
    assert client.status == 401 and client.response_headers["connection"] == "close"
    # the whole body is read (and dropped) before the response completes: then the close is clean
    assert client.log == ["start 401", "body", "pull 1000", "pull 1000", "pull 500", "end"]


async def test_a_body_larger_than_the_drain_limit_is_not_drained() -> None:
    client = await run(early, Client([b"a" * 6000]), limits(drain=5_000))
    assert client.status == 401 and client.response_headers["connection"] == "close"
    assert client.pulled == 0  # its Content-Length says draining cannot help: close at once


async def test_an_undeclared_body_is_drained_up_to_the_limit() -> None:
    client = await run(early, Client([b"a" * 1000] * 20, declared=False), limits(drain=5_000))
    assert client.status == 401 and 5_000 <= client.pulled <= 6_000


async def test_a_client_waiting_for_100_continue_is_not_asked_for_its_body() -> None:
    client = await run(early, Client([b"a" * 1000], headers={"expect": "100-continue"}), limits())
    assert client.status == 401 and client.pulled == 0


async def test_a_request_without_a_body_keeps_its_connection() -> None:
    client = await run(early, Client([]), limits())
    assert client.status == 401 and "connection" not in client.response_headers


async def test_bodies_within_their_cap_are_read() -> None:
    client = await run(reader(3_000), Client([b"a" * 1000] * 3), limits(default=10))
    assert client.status == 200 and client.json == 3_000
    assert "connection" not in client.response_headers


async def test_a_declared_size_over_the_cap_is_refused_before_reading() -> None:
    client = await run(reader(2_000), Client([b"a" * 1000] * 3), limits())
    assert client.status == 413 and client.json["error"] == "PayloadTooLargeError"
    assert "3000 bytes exceeds the limit of 2000" in client.json["message"]
    assert client.log[0] == "start 413"  # nothing read before the answer (then drained)


async def test_a_counted_size_over_the_cap_is_refused_as_it_passes() -> None:
    client = await run(reader(2_500), Client([b"a" * 1000] * 4, declared=False), limits())
    assert client.status == 413 and "limit of 2500" in client.json["message"]
    assert client.log[:4] == ["pull 1000", "pull 1000", "pull 1000", "start 413"]


async def test_readers_that_name_no_cap_get_the_default() -> None:
    # a UI form post: Starlette's parser reads through the same guard
    client = await run(reader(None), Client([b"a" * 600] * 2, declared=False), limits(default=1_000))
    assert client.status == 413 and "limit of 1000" in client.json["message"]
    client = await run(reader(None), Client([b"a" * 600] * 2), limits(default=1_000))
    assert client.status == 413 and client.pulled == 1200  # declared: refused unread, then drained


async def test_a_declared_body_is_admitted_or_refused_whole_before_reading() -> None:
    body_limits = limits(budget=2_500)
    first = Client([b"a" * 1000, 0.3, b"a" * 1000])
    second = Client([0.05, b"b" * 1000])  # would fit in what the first has not sent yet
    first_done, second_done = await asyncio.gather(
        run(reader(5_000), first, body_limits), run(reader(5_000), second, body_limits)
    )
    assert second_done.status == 429 and second_done.response_headers["retry-after"] == "3"
    assert second_done.json["error"] == "TooManyRequestsError" and "request bodies" in second_done.json["message"]
    assert second_done.log[0] == "start 429"  # refused before a byte was read (then drained)
    assert first_done.status == 200 and first_done.json == 2_000  # admitted whole: it completes
    assert body_limits.budget.held == 0  # every byte given back when its request ended


async def test_an_undeclared_body_is_counted_as_it_arrives() -> None:
    body_limits = limits(budget=2_500, drain=0)
    slow = Client([b"a" * 1000, b"a" * 1000, 0.3, b"a" * 1000], declared=False)
    fast = Client([0.05, b"b" * 1000, b"b" * 1000], declared=False)
    slow_done, fast_done = await asyncio.gather(
        run(reader(5_000), slow, body_limits), run(reader(5_000), fast, body_limits)
    )
    assert fast_done.status == 429 and fast_done.log[:2] == ["pull 1000", "start 429"]
    assert slow_done.status == 200 and slow_done.json == 3_000
    assert body_limits.budget.held == 0


async def test_a_request_alone_is_never_refused_by_the_budget() -> None:
    body_limits = limits(budget=1_000)
    client = await run(reader(5_000), Client([b"a" * 1000] * 3), body_limits)
    assert client.status == 200 and body_limits.budget.held == 0


def test_budget_accounting() -> None:
    budget = BodyBudget(100)
    assert budget.admit(80, own=0) is None and budget.admit(50, own=80) is None  # the only holder may pass
    assert budget.admit(1, own=0) == "server"  # another request may not
    budget.give_back(130)
    assert budget.held == 0 and budget.admit(100, own=0) is None


async def test_a_stalled_body_is_408_and_the_connection_closes() -> None:
    client = Client([b"a" * 100, 5.0, b"a" * 100])
    started = asyncio.get_running_loop().time()
    await run(reader(5_000), client, limits(timeout=0.3))
    assert asyncio.get_running_loop().time() - started < 2
    assert client.status == 408 and client.json["error"] == "RequestTimeoutError"
    assert client.response_headers["connection"] == "close"
    assert client.pulled == 100  # a slow client is not drained


async def test_a_trickle_is_408_however_regular() -> None:
    trickle: list[bytes | float] = []
    for _ in range(40):
        trickle += [b"x", 0.05]  # 20 bytes a second
    client = await run(reader(5_000), Client(trickle), limits(timeout=0.5))
    assert client.status == 408 and client.pulled < 15


async def test_a_steady_body_may_take_longer_than_the_grace_time() -> None:
    chunk = MIN_BODY_RATE // 5  # twice the minimum pace: one chunk each 0.1 s
    steady: list[bytes | float] = []
    for _ in range(8):
        steady += [b"x" * chunk, 0.1]
    client = await run(reader(10**6), Client(steady[:-1]), limits(timeout=0.3))
    assert client.status == 200 and client.json == 8 * chunk


@pytest.mark.parametrize("status", [401, 413, 429])
async def test_statuses_decided_before_reading_keep_their_headers(status: int) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-length", b"0"), (b"retry-after", b"7"), (b"connection", b"keep-alive")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    client = await run(app, Client([b"a" * 100]), limits())
    assert client.status == status and client.response_headers["retry-after"] == "7"
    assert client.response_headers["connection"] == "close"  # replaces the app's keep-alive
