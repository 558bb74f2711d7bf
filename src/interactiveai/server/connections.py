"""The HTTP/1.1 connection layer: uvicorn's protocols, with the header limits they lack (DESIGN §8).

uvicorn closes a kept-alive connection that stays idle, but it sets no deadline on a request's
headers: a connection that sends nothing, or a header a byte at a time, is held for ever. With
httptools there is no cap on their size either (a 200 MB header line grew the process by as
much). The protocols here add both to uvicorn's httptools protocol (the one it picks when
httptools is installed, as uvicorn[standard] does) and the header deadline to its h11 one:

- a request line and headers must be complete within ``header_timeout_seconds`` of the
  connection opening (for its first request) or of the request's first byte; otherwise the
  connection is closed, after a 408 when a request had begun;
- what is buffered of them while they are incomplete may not pass :data:`MAX_HEADER_BYTES`
  (431, then close): a header block that completes within one read of the socket is taken whole
  (memory stays bounded by the read size). h11 has its own cap (16 KiB, a 400).

Bodies are the ASGI layer's job (bodies.py). ``interactiveai server`` runs uvicorn with
:func:`uvicorn_options`; the settings reach the protocol classes through :func:`configure`, which
the app factory calls (in every worker process too), since uvicorn makes the protocol objects.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from interactiveai.server.settings import Settings

MAX_HEADER_BYTES = 64 * 1024


def _response(status: int, reason: str, message: str) -> bytes:
    body = message.encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


class _HeaderLimits:
    """Mixed into a uvicorn protocol: the header deadline and size (see the module docstring)."""

    header_timeout: ClassVar[float] = 5.0

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    _deadline: asyncio.TimerHandle | None = None
    _request_begun = False  # bytes of a request arrived, its headers are not complete
    _header_bytes = 0

    def _start_deadline(self, begun: bool) -> None:
        if begun:
            self._request_begun = True
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _headers_complete(self) -> None:
        self._request_begun = False
        self._header_bytes = 0
        self._stop_deadline()

    def _stop_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _count_header_bytes(self, size: int) -> bool:
        """Count bytes of incomplete headers; False (and the connection refused) past the cap."""
        self._header_bytes += size
        if self._header_bytes <= MAX_HEADER_BYTES:
            return True
        self._refuse(_response(431, "Request Header Fields Too Large", "request headers are too large"))
        return False

    def _headers_too_slow(self) -> None:
        self._deadline = None
        if self._request_begun:
            message = f"request headers not complete within {self.header_timeout:g} s"
            self._refuse(_response(408, "Request Timeout", message))
        else:
            self._refuse(b"")  # a connection that never sent a request: close it quietly

    def _refuse(self, response: bytes) -> None:
        self._stop_deadline()
        if self.transport.is_closing():
            return
        if response:
            self.transport.write(response)
        self.transport.close()


class HttpToolsLimited(_HeaderLimits, HttpToolsProtocol):
    """uvicorn's httptools protocol with the header limits."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_deadline(begun=False)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._request_begun and not self.transport.is_closing():
            self._count_header_bytes(len(data))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_deadline(begun=True)

    def on_headers_complete(self) -> None:
        self._headers_complete()
        super().on_headers_complete()


class H11Limited(_HeaderLimits, H11Protocol):
    """uvicorn's h11 protocol with the header deadline (h11 caps their size itself)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_deadline(begun=False)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self.conn.their_state is h11.IDLE:
            self._start_deadline(begun=True)  # part of a request line or headers is buffered
        else:
            self._headers_complete()


def configure(settings: Settings) -> None:
    """Give the protocol classes this process's settings."""
    _HeaderLimits.header_timeout = float(settings.header_timeout_seconds)


def protocol_class() -> type[asyncio.Protocol]:
    """httptools, which uvicorn's ``http="auto"`` picks (uvicorn[standard] installs it), with the limits."""
    return HttpToolsLimited


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What ``interactiveai server`` passes to ``uvicorn.run`` besides the app, host and port."""
    configure(settings)
    return {"http": protocol_class()}
