"""The connection layer's header limits (connections.py), on both uvicorn protocols it extends,
each serving a trivial app from a thread on a free port, driven over raw sockets."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from interactiveai.server import connections
from interactiveai.server.connections import H11Limited, HttpToolsLimited, uvicorn_options
from interactiveai.server.settings import load_settings
from tests.support.postgres import free_port


async def hello(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(params=[HttpToolsLimited, H11Limited], ids=["httptools", "h11"])
def port(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(connections._HeaderLimits, "header_timeout", 0.5)
    port = free_port()
    config = uvicorn.Config(hello, host="127.0.0.1", port=port, http=request.param, lifespan="off", log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    yield port
    server.should_exit = True
    thread.join(10)


def exchange(port: int, send: bytes = b"", trickle: bytes = b"") -> tuple[bytes, float]:
    """What the server answers until it closes, and after how long."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    started = time.monotonic()
    try:
        sock.sendall(send)
        for byte in trickle:
            sock.sendall(bytes([byte]))
            time.sleep(0.05)
    except OSError:
        pass
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    finally:
        sock.close()
    return data, time.monotonic() - started


def test_a_request_is_served(port: int) -> None:
    data, _ = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"ok")


def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    data, elapsed = exchange(port)
    assert data == b"" and elapsed < 2


def test_headers_that_never_end_are_408(port: int) -> None:
    data, elapsed = exchange(port, b"GET / HTTP/1.1\r\n", trickle=b"X-Slow: " + b"y" * 100)
    assert data.startswith(b"HTTP/1.1 408 ") and elapsed < 2.5, data


def test_the_deadline_is_per_request_on_a_kept_alive_connection(port: int) -> None:
    request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    for _ in range(3):  # each request in time, together longer than one deadline
        sock.sendall(request)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        time.sleep(0.3)
    sock.close()


def test_headers_still_incomplete_past_the_cap_are_refused(port: int) -> None:
    data, elapsed = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (100 * 1024))
    assert data.startswith((b"HTTP/1.1 431 ", b"HTTP/1.1 400 ")), data[:100]  # h11 caps at 16 KiB: 400
    assert elapsed < 0.4  # at once, not at the deadline


def test_the_settings_reach_the_protocols() -> None:
    before = connections._HeaderLimits.header_timeout
    try:
        options = uvicorn_options(load_settings(header_timeout_seconds=7))
        assert options["http"] is HttpToolsLimited and HttpToolsLimited.header_timeout == 7.0
    finally:
        connections._HeaderLimits.header_timeout = before


def test_protocol_classes_are_asyncio_protocols() -> None:
    assert issubclass(HttpToolsLimited, asyncio.Protocol) and issubclass(H11Limited, asyncio.Protocol)
