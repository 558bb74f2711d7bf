"""A real OTLP/HTTP traces receiver on loopback, for tests of anything that exports spans.

It decodes what real exporters send (protobuf or OTLP/JSON, gzip or plain) into plain dicts, and can
misbehave on demand (down, slow, 5xx, 429, garbage) so fault tests exercise real sockets::

    with OtlpReceiver() as receiver:
        exporter = OTLPSpanExporter(endpoint=receiver.endpoint)
        ...
        spans = receiver.wait_for_spans(3, timeout=5)
        receiver.set_mode("down")   # really stops listening: connections are refused
        receiver.set_mode("ok")     # listens again on the same port

``spans()`` returns each (trace_id, span_id) once, like the server's idempotent ingestion: a retried
request does not double the count. ``all_spans()`` keeps duplicates.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2

__all__ = ["MODES", "OtlpReceiver", "ReceivedRequest", "decode_json_request", "decode_protobuf_request"]

MODES = ("ok", "down", "slow", "500", "503", "429", "400", "garbage", "malformed")
"""``garbage``: 200 with a body that is not OTLP (the spans are recorded: the status said accepted).
``malformed``: bytes that are not HTTP at all, then the connection is closed (nothing recorded).
Any other 3-digit status string also works; 429 and 503 carry ``Retry-After``."""

_KIND_NAMES = {"SPAN_KIND_UNSPECIFIED": 0, "SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2, "SPAN_KIND_CLIENT": 3}
_KIND_NAMES |= {"SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5}
_STATUS_NAMES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}


class _Headers(dict[str, str]):
    """Request headers; lookups ignore case (keys are stored lower-case)."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


@dataclass
class ReceivedRequest:
    """One POST the receiver answered (whatever the answer was)."""

    path: str
    headers: _Headers
    body_size: int
    status: int
    spans: list[dict[str, Any]] = field(default_factory=list)
    received_at: float = field(default_factory=time.monotonic)
    """``time.monotonic()`` when the answer was decided (after the "slow" sleep)."""
    client_port: int = 0
    """The client's source port: requests on one kept-alive connection share it."""


# -- decoding: protobuf -------------------------------------------------------------------------


def _pb_value(value: common_pb2.AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_pb_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _pb_value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind)


def _pb_attributes(attributes: Any) -> dict[str, Any]:
    return {kv.key: _pb_value(kv.value) for kv in attributes}


def decode_protobuf_request(body: bytes) -> list[dict[str, Any]]:
    """Decode an ``ExportTraceServiceRequest`` (protobuf) into span dicts."""
    request = trace_service_pb2.ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans: list[dict[str, Any]] = []
    for resource_spans in request.resource_spans:
        resource_attributes = _pb_attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            for span in scope_spans.spans:
                spans.append(
                    {
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex() or None,
                        "trace_state": span.trace_state,
                        "flags": span.flags,
                        "name": span.name,
                        "kind": span.kind,
                        "start_time_unix_nano": span.start_time_unix_nano,
                        "end_time_unix_nano": span.end_time_unix_nano,
                        "attributes": _pb_attributes(span.attributes),
                        "dropped_attributes_count": span.dropped_attributes_count,
                        "events": [
                            {
                                "name": event.name,
                                "time_unix_nano": event.time_unix_nano,
                                "attributes": _pb_attributes(event.attributes),
                                "dropped_attributes_count": event.dropped_attributes_count,
                            }
                            for event in span.events
                        ],
                        "dropped_events_count": span.dropped_events_count,
                        "links": [
                            {
                                "trace_id": link.trace_id.hex(),
                                "span_id": link.span_id.hex(),
                                "trace_state": link.trace_state,
                                "attributes": _pb_attributes(link.attributes),
                                "dropped_attributes_count": link.dropped_attributes_count,
                            }
                            for link in span.links
                        ],
                        "dropped_links_count": span.dropped_links_count,
                        "status_code": span.status.code,
                        "status_message": span.status.message,
                        "resource_attributes": resource_attributes,
                        "scope_name": scope.name,
                        "scope_version": scope.version,
                        "scope_attributes": _pb_attributes(scope.attributes),
                    }
                )
    return spans


# -- decoding: OTLP/JSON ------------------------------------------------------------------------


def _json_id(value: Any, size: int) -> str | None:
    """OTLP/JSON ids are hex; protojson-strict senders use base64. Accept both, return hex."""
    if not value:
        return None
    text = str(value)
    if len(text) == size * 2:
        try:
            bytes.fromhex(text)
            return text.lower()
        except ValueError:
            pass
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"bad id {text!r}") from exc
    if len(raw) != size:
        raise ValueError(f"bad id {text!r}")
    return raw.hex()


def _json_value(value: dict[str, Any]) -> Any:
    if not value:
        return None
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])  # float("NaN"), float("Infinity") as protojson spells them
    if "arrayValue" in value:
        return [_json_value(item) for item in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return _json_attributes(value["kvlistValue"].get("values", []))
    if "bytesValue" in value:
        return base64.b64decode(value["bytesValue"])
    raise ValueError(f"unknown AnyValue {value!r}")


def _json_attributes(attributes: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {kv["key"]: _json_value(kv.get("value", {})) for kv in attributes or []}


def _json_enum(value: Any, names: dict[str, int]) -> int:
    return names[value] if isinstance(value, str) else int(value or 0)


def decode_json_request(body: bytes) -> list[dict[str, Any]]:
    """Decode an OTLP/JSON ``ExportTraceServiceRequest`` into span dicts (same shape as protobuf)."""
    request = json.loads(body)
    if not isinstance(request, dict):
        raise ValueError("OTLP/JSON body must be an object")
    spans: list[dict[str, Any]] = []
    for resource_spans in request.get("resourceSpans", []):
        resource_attributes = _json_attributes(resource_spans.get("resource", {}).get("attributes"))
        for scope_spans in resource_spans.get("scopeSpans", []):
            scope = scope_spans.get("scope", {})
            for span in scope_spans.get("spans", []):
                status = span.get("status", {})
                spans.append(
                    {
                        "trace_id": _json_id(span.get("traceId"), 16),
                        "span_id": _json_id(span.get("spanId"), 8),
                        "parent_span_id": _json_id(span.get("parentSpanId"), 8),
                        "trace_state": span.get("traceState", ""),
                        "flags": int(span.get("flags", 0)),
                        "name": span.get("name", ""),
                        "kind": _json_enum(span.get("kind"), _KIND_NAMES),
                        "start_time_unix_nano": int(span.get("startTimeUnixNano", 0)),
                        "end_time_unix_nano": int(span.get("endTimeUnixNano", 0)),
                        "attributes": _json_attributes(span.get("attributes")),
                        "dropped_attributes_count": int(span.get("droppedAttributesCount", 0)),
                        "events": [
                            {
                                "name": event.get("name", ""),
                                "time_unix_nano": int(event.get("timeUnixNano", 0)),
                                "attributes": _json_attributes(event.get("attributes")),
                                "dropped_attributes_count": int(event.get("droppedAttributesCount", 0)),
                            }
                            for event in span.get("events", [])
                        ],
                        "dropped_events_count": int(span.get("droppedEventsCount", 0)),
                        "links": [
                            {
                                "trace_id": _json_id(link.get("traceId"), 16),
                                "span_id": _json_id(link.get("spanId"), 8),
                                "trace_state": link.get("traceState", ""),
                                "attributes": _json_attributes(link.get("attributes")),
                                "dropped_attributes_count": int(link.get("droppedAttributesCount", 0)),
                            }
                            for link in span.get("links", [])
                        ],
                        "dropped_links_count": int(span.get("droppedLinksCount", 0)),
                        "status_code": _json_enum(status.get("code"), _STATUS_NAMES),
                        "status_message": status.get("message", ""),
                        "resource_attributes": resource_attributes,
                        "scope_name": scope.get("name", ""),
                        "scope_version": scope.get("version", ""),
                        "scope_attributes": _json_attributes(scope.get("attributes")),
                    }
                )
    return spans


def count_protobuf_request(body: bytes) -> list[tuple[str, str]]:
    """Only the (trace_id, span_id) of each span: for load tests, where full decoding would be the bottleneck."""
    request = trace_service_pb2.ExportTraceServiceRequest()
    request.ParseFromString(body)
    return [
        (span.trace_id.hex(), span.span_id.hex())
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]


def count_json_request(body: bytes) -> list[tuple[str, str]]:
    """Only the (trace_id, span_id) of each span of an OTLP/JSON request (ids as sent)."""
    request = json.loads(body)
    return [
        (span["traceId"], span["spanId"])
        for resource_spans in request["resourceSpans"]
        for scope_spans in resource_spans["scopeSpans"]
        for span in scope_spans["spans"]
    ]


# -- the server ---------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # "down" then "ok" rebinds the same port at once
    receiver: OtlpReceiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connections cut by "down" mode or by a client timeout are expected; stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as exporters use it
    # The reply goes out as head then body; with Nagle on, the body would wait for the client's
    # delayed ACK of the head (~40 ms per request), which is the receiver's slowness, not the sender's.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on the test console."""

    def setup(self) -> None:
        super().setup()
        self.server.receiver._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.receiver._track(self.connection, add=False)

    def do_POST(self) -> None:
        receiver = self.server.receiver
        mode, delay, retry_after = receiver._mode, receiver._delay, receiver._retry_after
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = _Headers({key.lower(): value for key, value in self.headers.items()})
        if mode == "slow":
            time.sleep(delay)
        if mode == "malformed":
            self.wfile.write(b"\x00\x01 this is not HTTP \xff\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
            self._record(ReceivedRequest(self.path, headers, len(body), 0))
            return
        if mode.isdigit():
            extra = {"Retry-After": f"{retry_after:g}"} if mode in ("429", "503") else {}
            self._record(ReceivedRequest(self.path, headers, len(body), int(mode)))
            self._reply(int(mode), b'{"message": "test receiver error mode"}', "application/json", extra)
            return
        if not self.path.split("?")[0].endswith("/v1/traces"):
            self._record(ReceivedRequest(self.path, headers, len(body), 404))
            self._reply(404, b"not found", "text/plain")
            return
        content_type = headers.get("content-type", "").split(";")[0].strip()
        try:
            if headers.get("content-encoding", "").lower() == "gzip":
                body = gzip.decompress(body)
            elif headers.get("content-encoding", "").lower() == "deflate":
                body = zlib.decompress(body)
            ids: list[tuple[str, str]] | None = None
            if content_type == "application/x-protobuf":
                if receiver.keep_spans:
                    spans = decode_protobuf_request(body)
                else:
                    spans, ids = [], count_protobuf_request(body)
            elif content_type == "application/json":
                if receiver.keep_spans:
                    spans = decode_json_request(body)
                else:
                    spans, ids = [], count_json_request(body)
            else:
                self._record(ReceivedRequest(self.path, headers, length, 415))
                self._reply(415, b"unsupported content type", "text/plain")
                return
        except Exception as exc:  # a decoding bug in an exporter must show up in the test
            receiver.decode_errors.append(repr(exc))
            self._record(ReceivedRequest(self.path, headers, length, 400))
            self._reply(400, f"cannot decode: {exc!r}".encode(), "text/plain")
            return
        self._record(ReceivedRequest(self.path, headers, length, 200, spans), ids)
        if mode == "garbage":
            self._reply(200, b"\xff\xfe<html>not an OTLP response", "application/x-protobuf")
        elif content_type == "application/json":
            self._reply(200, b"{}", "application/json")
        else:
            self._reply(200, trace_service_pb2.ExportTraceServiceResponse().SerializeToString(), content_type)

    def _record(self, request: ReceivedRequest, ids: list[tuple[str, str]] | None = None) -> None:
        request.client_port = self.client_address[1]
        self.server.receiver._record(request, ids)

    def _reply(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


class OtlpReceiver:
    """A loopback OTLP/HTTP receiver running in a thread; use it as a context manager.

    Args:
        path: The path ``endpoint`` points at; any path ending in ``/v1/traces`` is accepted.
        port: 0 picks a free port (kept across "down"/"ok").
        keep_spans: False decodes only span ids, for load tests: ``span_count()`` and
            ``wait_for_spans()`` still count exactly, ``spans()`` stays empty.
        tls: ``(certfile, keyfile)`` to serve HTTPS (``endpoint`` then starts with ``https``).
    """

    __test__ = False

    def __init__(
        self,
        *,
        path: str = "/api/public/otel/v1/traces",
        port: int = 0,
        keep_spans: bool = True,
        tls: tuple[str, str] | None = None,
    ) -> None:
        self.path = path
        self._tls = tls
        self.port = port
        self.keep_spans = keep_spans
        self.requests: list[ReceivedRequest] = []
        self.decode_errors: list[str] = []
        self._spans: list[dict[str, Any]] = []
        self._span_ids: set[tuple[str | None, str | None]] = set()
        self._span_total = 0
        self._changed = threading.Condition()
        self._mode = "ok"
        self._delay = 2.0
        self._retry_after = 1.0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    # -- lifecycle --

    def __enter__(self) -> OtlpReceiver:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Listen (on ``port``, or on a free one the first time)."""
        if self._server is not None:
            return
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.receiver = self
        if self._tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self._tls)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and cut every open connection (clients see refused/reset, as with a dead server)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(5)

    @property
    def endpoint(self) -> str:
        """Full URL of the traces endpoint."""
        return f"{self.base_url}{self.path}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: the SDK's ``host`` setting for this receiver."""
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    def set_mode(self, mode: str, *, delay: float | None = None, retry_after: float | None = None) -> None:
        """Switch behaviour: see ``MODES``. ``delay`` is the "slow" sleep; ``retry_after`` for 429/503."""
        if mode not in MODES and not (mode.isdigit() and len(mode) == 3):
            raise ValueError(f"unknown mode {mode!r}; one of {MODES} or a 3-digit status")
        if delay is not None:
            self._delay = delay
        if retry_after is not None:
            self._retry_after = retry_after
        self._mode = mode
        if mode == "down":
            self.stop()
        else:
            self.start()

    @property
    def mode(self) -> str:
        return self._mode

    # -- results --

    def _track(self, connection: socket.socket, *, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _record(self, request: ReceivedRequest, ids: list[tuple[str, str]] | None = None) -> None:
        if ids is None:
            ids = [(span["trace_id"], span["span_id"]) for span in request.spans]
        with self._changed:
            self.requests.append(request)
            self._spans.extend(request.spans)
            self._span_ids.update(ids)
            self._span_total += len(ids)
            self._changed.notify_all()

    def all_spans(self) -> list[dict[str, Any]]:
        """Every span received, duplicates (retried requests) included, in arrival order."""
        with self._changed:
            return list(self._spans)

    def spans(self) -> list[dict[str, Any]]:
        """Every distinct (trace_id, span_id) received, first copy, in arrival order."""
        return list(self._unique())

    def _unique(self) -> Iterator[dict[str, Any]]:
        seen: set[tuple[str | None, str | None]] = set()
        for span in self.all_spans():
            key = (span["trace_id"], span["span_id"])
            if key not in seen:
                seen.add(key)
                yield span

    def span_count(self) -> int:
        """Number of distinct (trace_id, span_id) received so far."""
        with self._changed:
            return len(self._span_ids)

    def total_span_count(self) -> int:
        """Number of spans received so far, duplicates (retried requests) included."""
        with self._changed:
            return self._span_total

    def wait_for_spans(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until at least ``n`` distinct spans arrived; return them. Raises ``TimeoutError``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.span_count() < n:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"received {self.span_count()} of {n} spans in {timeout}s")
                self._changed.wait(remaining)
        return self.spans()

    def clear(self) -> None:
        """Forget received requests and spans."""
        with self._changed:
            self.requests.clear()
            self._spans.clear()
            self._span_ids.clear()
            self._span_total = 0
