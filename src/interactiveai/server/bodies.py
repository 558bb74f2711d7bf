"""Request bodies: authenticated before they are read, bounded while they stream in (DESIGN §8).

One ASGI middleware (:class:`RequestBodies`) watches every request body as it arrives:

- **Size.** Every body has a cap. A route that reads one names its own (:func:`read_body`:
  ingestion's ``max_body_bytes``, the REST API's ``max_json_body_bytes``, both read only after the
  API key was accepted); any other reader (the web UI's form posts) gets ``max_form_bytes``. A
  ``Content-Length`` over the cap is refused before a byte is read, a counted size as soon as it
  passes the cap: 413.
- **Memory.** A budget of body bytes held at once by the process (``body_budget_bytes``), taken
  when a body starts to be read and given back when its request ends: a body with a
  ``Content-Length`` takes all of it at once, one without takes its chunks as they arrive. What
  would overflow the budget while other requests hold bytes ends the request with 429 and
  ``Retry-After`` (before a byte is read, for a declared length); a request alone is never
  refused by the budget (it still has its cap). Taking declared bodies whole is what keeps the
  server useful under overload: counted chunk by chunk, N concurrent large uploads would all
  grow until each one's next chunk found the budget full, and none would complete.
  A body read for a project (:func:`read_body` names it: the key was checked first) is also held
  to the project's share of the budget (shares.py: ``project_reserve_percent`` of it is kept for
  the projects holding little), so one project's uploads cannot fill it for the others; bodies
  of no project (the UI's forms, the login) are held to the budget alone.
- **Time.** A body must keep arriving: the time spent waiting for it may exceed what it needs at
  :data:`MIN_BODY_RATE` by at most ``body_timeout_seconds``; past that, 408 and the connection
  closes (a slowloris is dropped in seconds, a slow but steady upload is not).
- **Early answers.** A response that starts before its body was read in full (401 before reading,
  413, 429, …) says ``Connection: close``, and before it completes the rest of the body is read
  and thrown away, up to the largest body the server accepts. Closing a socket with unread data
  makes the kernel send a reset, which clients that write the whole body before reading (urllib,
  http.client, the SDK's exporter) report as "connection reset" instead of the status; drained
  first, they read the status. (uvicorn itself would keep the connection and discard the rest
  without any bound, which lets a client hold it for ever.) Bodies larger than that amount are
  not drained: their connection is closed at once.

Only the event loop touches the budget, so it needs no lock. Headers have their own limits, in
the connection layer (connections.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import orjson
from fastapi import FastAPI, HTTPException, Request
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interactiveai.server.settings import Settings
from interactiveai.server.shares import SharedLimit

MIN_BODY_RATE = 8 * 1024
"""Bytes per second a body must average once its grace time (``body_timeout_seconds``) is spent."""

_SCOPE_KEY = "interactiveai.body"
_HEADERS = (b"content-length", b"transfer-encoding", b"expect")
_ERROR_NAMES = {
    400: "InvalidRequestError",
    408: "RequestTimeoutError",
    413: "PayloadTooLargeError",
    429: "TooManyRequestsError",
}


class BodyRejected(HTTPException):
    """A body broke a limit (raised from ``receive`` or :func:`read_body`); answered as is."""

    def __init__(self, status_code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status_code, detail=message, headers=headers)


class BodyBudget(SharedLimit):
    """Request-body bytes held at once by this process, in total and by each project (event loop
    only): :meth:`admit` takes what a request needs, ``own`` being what it holds already."""


@dataclass
class BodyLimits:
    """The limits of one app (from its settings): see the module docstring."""

    budget: BodyBudget
    default_limit: int
    drain_limit: int
    timeout: float
    retry_after: int

    @classmethod
    def from_settings(cls, settings: Settings) -> BodyLimits:
        largest = max(settings.max_body_bytes, settings.max_json_body_bytes, settings.max_form_bytes)
        return cls(
            budget=BodyBudget.with_reserve_percent(settings.body_budget_bytes, settings.project_reserve_percent),
            default_limit=settings.max_form_bytes,
            drain_limit=largest,
            timeout=float(settings.body_timeout_seconds),
            retry_after=settings.retry_after_seconds,
        )


def install_request_limits(app: FastAPI, settings: Settings) -> None:
    """Watch every request body of ``app`` (this module), and give the connection layer the
    same settings (connections.py: uvicorn creates connections before any app code runs)."""
    from interactiveai.server.connections import configure

    configure(settings)
    limits = BodyLimits.from_settings(settings)
    app.state.body_limits = limits
    app.add_middleware(RequestBodies, limits=limits)


class RequestBodies:
    """The ASGI middleware: one :class:`_Guard` per HTTP request."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        guard = _Guard(scope, receive, send, self.limits)
        scope[_SCOPE_KEY] = guard
        try:
            await self.app(scope, guard.receive, guard.send)
        except BodyRejected as exc:
            # escaped every handler (a reader outside FastAPI's routes): answer it here
            if guard.response_started:
                raise
            await guard.answer(exc)
        finally:
            guard.release()


class _Guard:
    """Counts, caps and times one request's body; drains it behind an early response."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, limits: BodyLimits) -> None:
        self._receive = receive
        self._send = send
        self.limits = limits
        headers = {k.lower(): v for k, v in scope.get("headers", ()) if k.lower() in _HEADERS}
        self.declared = _content_length(headers.get(b"content-length"))
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        self.expects_continue = headers.get(b"expect", b"").lower() == b"100-continue"
        self.complete = not chunked and not self.declared  # no body at all, or an empty one
        self.limit = limits.default_limit
        self.project_id: str | None = None  # whose share of the budget the body takes (read_body)
        self.received = 0  # bytes of body seen (read or drained)
        self.held = 0  # bytes taken from the budget
        self.waited = 0.0  # seconds spent waiting for the body
        self.asked = False  # has anyone called receive()? (no 100 Continue went out before)
        self.rejection: BodyRejected | None = None
        self.response_started = False
        self.closing = False  # the response says Connection: close; drain before completing it
        self.replaced = False  # the app's response is dropped for ours (``answer``)

    # -- reading ---------------------------------------------------------------------------

    def set_limit(self, limit: int, project_id: str | None = None) -> None:
        """This request's cap and project (a route that reads its body says them before reading)."""
        self.limit = limit
        if project_id is not None and not self.held:
            self.project_id = project_id
        if self.declared is not None and self.declared > limit:
            raise self._reject(413, f"request body of {self.declared} bytes exceeds the limit of {limit} bytes")

    async def receive(self) -> Message:
        if self.complete:
            return await self._receive()  # body done: only a disconnect is left to hear about
        if self.rejection is not None:
            raise self.rejection
        if not self.asked:
            self.asked = True
            self.set_limit(self.limit)
            self._hold(self.declared or 0)  # a declared body is admitted (or refused) whole
        message = await self._timed_receive()
        if message["type"] == "http.request":
            if self.received > self.limit:
                raise self._reject(413, f"request body exceeds the limit of {self.limit} bytes")
            self._hold(self.received - self.held)
        return message

    def _hold(self, size: int) -> None:
        if size <= 0:
            return
        budget = self.limits.budget
        verdict = budget.admit(size, self.project_id, self.held)
        if verdict is not None:
            message = (
                budget.share_message(self.project_id, "the request body budget", "bytes")
                if verdict == "project" and self.project_id is not None
                else f"the server is holding {budget.held} bytes of request bodies, its limit is {budget.limit}"
            )
            raise self._reject(429, f"{message}; retry later", {"Retry-After": str(self.limits.retry_after)})
        self.held += size

    async def _timed_receive(self) -> Message:
        """The next message, within the body's time allowance (else 408); counts what arrives."""
        allowance = self.limits.timeout + self.received / MIN_BODY_RATE - self.waited
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(max(allowance, 0.0)):
                message = await self._receive()
        except TimeoutError:
            raise self._reject(
                408, f"the request body stopped arriving (more than {self.limits.timeout:g} s behind)"
            ) from None
        finally:
            self.waited += loop.time() - started
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if not message.get("more_body", False):
                self.complete = True
        else:
            self.complete = True  # disconnected: nothing more will come
        return message

    def _reject(self, status: int, message: str, headers: dict[str, str] | None = None) -> BodyRejected:
        self.rejection = BodyRejected(status, message, headers)
        return self.rejection

    def release(self) -> None:
        self.limits.budget.give_back(self.held, self.project_id)
        self.held = 0

    # -- answering -------------------------------------------------------------------------

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if self.rejection is not None and not self.response_started:
                # whatever the app made of our exception, the client gets the limit's own answer
                self.replaced = True
                await self.answer(self.rejection)
                return
            self.response_started = True
            if not self.complete:
                self.closing = True
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await self._send(message)
        elif message["type"] == "http.response.body" and self.replaced:
            return
        elif message["type"] == "http.response.body" and self.closing and not message.get("more_body", False):
            await self._send({**message, "more_body": True})
            await self._drain()
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            await self._send(message)

    async def answer(self, rejection: BodyRejected) -> None:
        """Send ``rejection`` as the response: ``{"message", "error"}`` JSON, like every API error."""
        self.response_started = True
        status = rejection.status_code
        content = orjson.dumps({"message": rejection.detail, "error": _ERROR_NAMES.get(status, "Error")})
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
            *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (rejection.headers or {}).items()),
        ]
        if not self.complete or status == 408:
            self.closing = True
            headers.append((b"connection", b"close"))
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        await self._send({"type": "http.response.body", "body": content, "more_body": self.closing})
        if self.closing:
            await self._drain()
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _drain(self) -> None:
        """Read and discard the rest of the body, if it is not too large or too slow (see module)."""
        if self.complete or (self.rejection is not None and self.rejection.status_code == 408):
            return
        if self.expects_continue and not self.asked:
            return  # no "100 Continue" went out: the client has not sent the body
        if self.declared is not None and self.declared - self.received > self.limits.drain_limit:
            return
        start = self.received
        while not self.complete and self.received - start <= self.limits.drain_limit:
            try:
                await self._timed_receive()
            except BodyRejected:
                return


def _content_length(value: bytes | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None  # the HTTP layer rejects malformed lengths itself


def _guard(request: Request) -> _Guard | None:
    guard = request.scope.get(_SCOPE_KEY)
    return guard if isinstance(guard, _Guard) else None


def body_size(request: Request) -> int:
    """Bytes of the request's body received so far (all of it once the body was read)."""
    guard = _guard(request)
    return guard.received if guard is not None else 0


async def read_body(request: Request, limit: int, project_id: str | None = None) -> bytes:
    """The whole body, at most ``limit`` bytes (413 beyond, declared or counted); counted against
    the process's budget as it arrives (429), within ``project_id``'s share of it when given (the
    project whose key was accepted), and timed (408) by :class:`RequestBodies`.

    Call it only once the request is authorised: that is the point of reading bodies here and
    not in FastAPI's ``Body()`` parameters, which are read before any dependency runs.
    """
    guard = _guard(request)
    if guard is not None:
        guard.set_limit(limit, project_id)
    else:
        declared = _content_length((request.headers.get("content-length") or "").encode() or None)
        if declared is not None and declared > limit:
            raise BodyRejected(413, f"request body of {declared} bytes exceeds the limit of {limit} bytes")
    parts: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyRejected(413, f"request body exceeds the limit of {limit} bytes")
            parts.append(chunk)
    except ClientDisconnect:
        raise BodyRejected(400, "the client closed the connection before the body was complete") from None
    return b"".join(parts)
