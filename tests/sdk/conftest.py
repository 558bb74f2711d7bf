"""SDK test fixtures: a private TracerProvider with an in-memory exporter, clean registry and env,
and a real loopback HTTP server that records requests (for scores, projects and auth)."""

from __future__ import annotations

import gzip
import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from interactiveai import InteractiveAI
from interactiveai.sdk import registry


@pytest.fixture(autouse=True)
def _clean_sdk_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No INTERACTIVEAI_* from the outside; no client survives a test, nor comes in from a test of
    another directory run earlier in the same worker process."""
    for name in list(os.environ):
        if name.startswith("INTERACTIVEAI_"):
            monkeypatch.delenv(name)
    _drop_all_clients()
    yield
    _drop_all_clients()


def _drop_all_clients() -> None:
    for client in list(registry._live):
        client.shutdown(timeout=1.0)
    with registry._lock:
        registry._clients.clear()
        registry._live.clear()
        registry._env_fallback = None
        registry._warned.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dead_host() -> str:
    """A loopback URL nobody listens on: connections are refused at once."""
    return f"http://127.0.0.1:{free_port()}"


@dataclass
class Memory:
    provider: TracerProvider
    exporter: InMemorySpanExporter

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def span(self, name: str) -> ReadableSpan:
        found = [s for s in self.spans() if s.name == name]
        assert len(found) == 1, f"expected one span {name!r}, got {[s.name for s in self.spans()]}"
        return found[0]

    def attrs(self, name: str) -> dict[str, Any]:
        return dict(self.span(name).attributes or {})


@pytest.fixture
def memory() -> Iterator[Memory]:
    provider = TracerProvider(shutdown_on_exit=False)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield Memory(provider, exporter)
    provider.shutdown()


@pytest.fixture
def exported() -> InMemorySpanExporter:
    """What the clients' own export processors sent (after filtering and sampling)."""
    return InMemorySpanExporter()


@pytest.fixture
def make_client(memory: Memory, dead_host: str, exported: InMemorySpanExporter) -> Callable[..., InteractiveAI]:
    """Clients on the private provider; their export path ends in ``exported`` unless overridden."""

    def make(**kwargs: Any) -> InteractiveAI:
        options: dict[str, Any] = {
            "public_key": "pk-test",
            "secret_key": "sk-test",
            "host": dead_host,
            "tracer_provider": memory.provider,
            "flush_interval": 0.05,
            "timeout": 1.0,
            "span_exporter": exported,
        }
        options.update(kwargs)
        return InteractiveAI(**options)

    return make


@pytest.fixture
def client(make_client: Callable[..., InteractiveAI]) -> InteractiveAI:
    return make_client()


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        data = gzip.decompress(self.body) if self.headers.get("content-encoding") == "gzip" else self.body
        return json.loads(data)


@dataclass
class RecordingServer:
    """A real HTTP server on 127.0.0.1; ``responses`` maps a path to a queue of (status, body)."""

    url: str
    requests: list[Recorded] = field(default_factory=list)
    responses: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    default: dict[str, tuple[int, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reply(self, path: str) -> tuple[int, Any]:
        with self.lock:
            queue = self.responses.get(path)
            if queue:
                return queue.pop(0)
            return self.default.get(path, (200, {}))

    def to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]


@pytest.fixture
def http_server() -> Iterator[RecordingServer]:
    state = RecordingServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?")[0]
            with state.lock:
                headers = {k.lower(): v for k, v in self.headers.items()}
                state.requests.append(Recorded(self.command, path, headers, body))
            status, payload = state.reply(path)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
