"""Request bodies and connections on a real server (an ``interactiveai server`` subprocess) with
real clients: early answers reach them as statuses, memory stays bounded while bodies stream in,
and slow clients are dropped in seconds (bodies.py, connections.py).

Memory is the server process's resident set, read from ``/proc/<pid>/status``.
"""

from __future__ import annotations

import base64
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import requests
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from interactiveai.sdk.export.connection import HttpConnection, build_request_head
from tests.support.live_server import LiveServer, live_server

MiB = 1024 * 1024
LIMITS = {
    "INTERACTIVEAI_MAX_JSON_BODY_BYTES": str(1 * MiB),
    "INTERACTIVEAI_BODY_BUDGET_BYTES": str(8 * MiB),
    "INTERACTIVEAI_HEADER_TIMEOUT_SECONDS": "1",
    "INTERACTIVEAI_BODY_TIMEOUT_SECONDS": "1",
}
PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("bodies"), extra_env=LIMITS) as live:
        yield live


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class PeakRss:
    """Samples a process's resident set in the background; ``growth`` is the peak over the start."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start = self.peak = rss(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss(self.pid))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss(self.pid))

    @property
    def growth(self) -> int:
        return self.peak - self.start


def port_of(server: LiveServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def connect(server: LiveServer, timeout: float = 10) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port_of(server)), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def request_head(path: str, headers: dict[str, str], length: int | None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: localhost", *(f"{k}: {v}" for k, v in headers.items())]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(sock: socket.socket) -> tuple[bytes, bool]:
    """Everything the server sends until it closes (or stops for 5 s); and whether it closed."""
    data = b""
    sock.settimeout(5)
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        return data, False
    except ConnectionResetError:
        pass
    return data, True


# -- early answers reach the client ------------------------------------------------------------

Post = Callable[[str, str, dict[str, str], bytes], int]


def with_httpx(url: str, path: str, headers: dict[str, str], body: bytes) -> int:
    return httpx.post(url + path, content=body, headers=headers, timeout=30).status_code


def with_requests(url: str, path: str, headers: dict[str, str], body: bytes) -> int:
    return requests.post(url + path, data=body, headers=headers, timeout=30).status_code


def with_urllib(url: str, path: str, headers: dict[str, str], body: bytes) -> int:
    # urllib sends "Connection: close" and writes the whole body before it reads the answer
    try:
        with urllib.request.urlopen(urllib.request.Request(url + path, data=body, headers=headers), timeout=30) as r:
            return int(r.status)
    except urllib.error.HTTPError as error:
        return error.code


def with_sdk_connection(close: bool) -> Post:
    """The SDK exporter's connection: the request in one ``sendall``, then the reply."""

    def post(url: str, path: str, headers: dict[str, str], body: bytes) -> int:
        host, port = url.removeprefix("http://").split(":")
        head = build_request_head(host, int(port), False, path, headers)
        if close:
            head += b"Connection: close\r\n"
        connection = HttpConnection(host, int(port), ssl_context=None, timeout=30)
        try:
            return connection.post(head, body, 30)[0]
        finally:
            connection.close()

    return post


CLIENTS: dict[str, Post] = {
    "httpx": with_httpx,
    "requests": with_requests,
    "urllib": with_urllib,
    "sdk": with_sdk_connection(close=False),
    "sdk-close": with_sdk_connection(close=True),
}
BIG = b"[" * (6 * MiB)  # under the largest accepted body (20 MiB), so drained behind an early answer


@pytest.mark.parametrize("client", list(CLIENTS))
def test_answers_decided_before_reading_reach_every_client(server: LiveServer, client: str) -> None:
    post = CLIENTS[client]
    assert post(server.url, "/api/public/scores", JSON, BIG) == 401  # no key: the body is never read
    assert post(server.url, "/v1/traces", PROTOBUF, BIG) == 401
    assert post(server.url, "/api/public/scores", {**server.auth_header, **JSON}, BIG) == 413  # over 1 MiB
    # and the server goes on serving on new connections
    assert post(server.url, "/api/public/scores", {**server.auth_header, **JSON}, b"{") == 400


def big_spans(megabytes: int) -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("bodies")
    for index in range(megabytes):
        with tracer.start_as_current_span(f"span-{index}") as span:
            span.set_attribute("payload", "x" * MiB)
    provider.shutdown()
    return list(memory.get_finished_spans())


def test_the_otel_exporter_sees_a_401_for_a_large_export(server: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    exporter = OTLPSpanExporter(endpoint=server.url + "/v1/traces", timeout=10)
    with caplog.at_level(logging.ERROR):
        exporter.export(big_spans(5))
    exporter.shutdown()
    assert "batch code: 401" in caplog.text, caplog.text


@pytest.fixture
def full_budget(server: LiveServer) -> Iterator[socket.socket]:
    """A request admitted with a declared 7 MiB body (of the 8 MiB budget), still sending."""
    holder = connect(server)
    holder.sendall(request_head("/v1/traces", {**server.auth_header, **PROTOBUF}, 7 * MiB) + b"\n" * MiB)
    time.sleep(0.5)  # its key checked, its body admitted
    yield holder
    holder.close()


def test_a_full_budget_is_429_and_clients_see_it(
    server: LiveServer, full_budget: socket.socket, caplog: pytest.LogCaptureFixture
) -> None:
    body = b"\n" * (4 * MiB)
    headers = {**server.auth_header, **PROTOBUF}
    for name in ("urllib", "sdk", "sdk-close", "requests"):
        assert CLIENTS[name](server.url, "/v1/traces", headers, body) == 429, name
    response = httpx.post(server.url + "/v1/traces", content=body, headers=headers, timeout=30)
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert response.json()["error"] == "TooManyRequestsError"

    auth = {"Authorization": server.auth_header["Authorization"]}
    exporter = OTLPSpanExporter(endpoint=server.url + "/v1/traces", headers=auth, timeout=2)
    with caplog.at_level(logging.WARNING):
        exporter.export(big_spans(4))
    exporter.shutdown()
    assert "Transient error Too Many Requests" in caplog.text, caplog.text  # and it retried after 1 s

    full_budget.close()
    time.sleep(0.3)
    assert CLIENTS["sdk"](server.url, "/v1/traces", headers, b"\n" * MiB) == 400  # admitted, invalid OTLP


# -- memory while bodies stream in ---------------------------------------------------------------


def slow_upload(server: LiveServer, path: str, headers: dict[str, str], size: int, results: list[bytes]) -> None:
    """Sends ``size`` bytes in 64 KiB pieces, 10 ms apart (about 6 MB/s); records the status line."""
    sock = connect(server, timeout=30)
    try:
        sock.sendall(request_head(path, headers, size))
        for _ in range(size // (64 * 1024)):
            sock.sendall(b"\n" * (64 * 1024))
            time.sleep(0.01)
    except OSError:
        pass  # the server answered early and closed: its answer is still readable
    response, _ = read_response(sock)
    sock.close()
    results.append(response.split(b"\r\n", 1)[0])


def test_concurrent_slow_bodies_stay_within_the_budget(tmp_path: Path) -> None:
    with live_server(tmp_path, extra_env=LIMITS) as live:
        headers = {**live.auth_header, **PROTOBUF}
        slow_upload(live, "/v1/traces", headers, MiB, [])  # warm up
        results: list[bytes] = []
        uploads = [
            threading.Thread(target=slow_upload, args=(live, path, {**live.auth_header, **kind}, 6 * MiB, results))
            for path, kind in [("/v1/traces", PROTOBUF), ("/api/public/otel/v1/traces", PROTOBUF)] * 8
        ]
        with PeakRss(live.process.pid) as memory:
            for upload in uploads:
                upload.start()
            for upload in uploads:
                upload.join()
        statuses = Counter(line.decode() for line in results)
        # 16 bodies of 6 MiB arrive at once: without the budget the process grows by ~190 MiB
        assert memory.growth < 32 * MiB, (memory.growth / MiB, statuses)
        assert statuses["HTTP/1.1 429 Too Many Requests"] >= 10, statuses
        assert statuses["HTTP/1.1 400 Bad Request"] >= 1, statuses  # admitted whole, read, refused as OTLP
        assert sum(statuses.values()) == 16, statuses  # every client got an answer


def test_a_huge_body_without_a_key_is_401_with_bounded_memory(server: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(200):
            yield b"[" * MiB

    with PeakRss(server.process.pid) as memory:
        undeclared = httpx.post(server.url + "/api/public/scores", content=chunks(), headers=JSON, timeout=30)
        sock = connect(server)
        sock.sendall(request_head("/api/public/dataset-items", JSON, 200 * MiB) + b"[" * MiB)
        declared, closed = read_response(sock)
        sock.close()
    assert undeclared.status_code == 401
    assert declared.startswith(b"HTTP/1.1 401 ") and closed
    assert memory.growth < 16 * MiB, memory.growth / MiB


# -- slow clients --------------------------------------------------------------------------------


def test_an_idle_connection_is_closed(server: LiveServer) -> None:
    sock = connect(server)
    started = time.monotonic()
    data, closed = read_response(sock)
    assert closed and data == b"" and time.monotonic() - started < 3


def test_headers_sent_a_byte_at_a_time_are_408(server: LiveServer) -> None:
    sock = connect(server)
    started = time.monotonic()
    sock.sendall(b"POST /api/public/scores HTTP/1.1\r\nHost: x\r\n")
    try:
        for byte in b"X-Slow: " + b"y" * 100:
            sock.sendall(bytes([byte]))
            time.sleep(0.1)
    except OSError:
        pass
    data, closed = read_response(sock)
    assert data.startswith(b"HTTP/1.1 408 ") and closed, data
    assert time.monotonic() - started < 4


def test_oversized_headers_are_431(server: LiveServer) -> None:
    sock = connect(server)
    try:
        sock.sendall(b"GET /api/public/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (200 * 1024))
    except OSError:
        pass
    data, closed = read_response(sock)
    assert data.startswith(b"HTTP/1.1 431 ") and closed, data[:200]


def test_a_body_sent_a_byte_at_a_time_is_408(server: LiveServer) -> None:
    sock = connect(server)
    started = time.monotonic()
    sock.sendall(request_head("/api/public/scores", {**server.auth_header, **JSON}, 10_000) + b"[" * 10)
    try:
        for _ in range(50):
            sock.sendall(b"[")
            time.sleep(0.1)
    except OSError:
        pass
    data, closed = read_response(sock)
    assert data.startswith(b"HTTP/1.1 408 ") and b"RequestTimeoutError" in data and closed, data
    assert time.monotonic() - started < 4


def test_a_steady_slow_body_is_read(server: LiveServer) -> None:
    # 48 KiB over ~2.4 s, twice the required pace, well past the 1 s grace: not cut off
    sock = connect(server)
    body = b'"' + b"x" * (48 * 1024 - 2) + b'"'
    sock.sendall(request_head("/api/public/scores", {**server.auth_header, **JSON}, len(body)))
    for start in range(0, len(body), 2048):
        sock.sendall(body[start : start + 2048])
        time.sleep(0.1)
    data, _ = read_response(sock)
    sock.close()
    assert data.startswith(b"HTTP/1.1 400 "), data[:300]  # a string is not a score: read, then refused


def test_the_key_is_checked_before_a_slow_body(server: LiveServer) -> None:
    # no key: answered at once, however slowly the body would come
    sock = connect(server)
    wrong = "Basic " + base64.b64encode(b"pk-nobody:sk-nobody").decode()
    sock.sendall(request_head("/api/public/scores", {"Authorization": wrong, **JSON}, 10_000) + b"[")
    sock.settimeout(2)
    assert sock.recv(65536).startswith(b"HTTP/1.1 401 ")
    sock.close()
