"""The test receiver itself: validated against the stock OTel protobuf exporter, independent of ours."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from tests.support.otlp_receiver import OtlpReceiver


def test_stock_protobuf_exporter_round_trips() -> None:
    with OtlpReceiver() as receiver:
        provider = TracerProvider(resource=Resource.create({"service.name": "svc", "deployment": "t"}))
        provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=receiver.endpoint)))
        tracer = provider.get_tracer("scope-a", "1.2.3", attributes={"public_key": "pk"})
        with tracer.start_as_current_span("root", kind=SpanKind.SERVER) as root:
            root.set_attribute("s", "héllo ✓")
            root.set_attribute("i", -(2**63))
            root.set_attribute("f", 0.25)
            root.set_attribute("b", False)
            root.set_attribute("arr", ["a", "b"])
            root.add_event("evt", {"n": 3}, timestamp=1_700_000_000_000_000_123)
            with tracer.start_as_current_span("child") as child:
                child.set_status(Status(StatusCode.ERROR, "boom"))
        spans = {span["name"]: span for span in receiver.wait_for_spans(2, timeout=5)}
        provider.shutdown()
    root_span, child_span = spans["root"], spans["child"]
    assert root_span["kind"] == 2  # SPAN_KIND_SERVER
    assert root_span["parent_span_id"] is None
    assert root_span["attributes"] == {"s": "héllo ✓", "i": -(2**63), "f": 0.25, "b": False, "arr": ["a", "b"]}
    assert root_span["events"] == [
        {
            "name": "evt",
            "time_unix_nano": 1_700_000_000_000_000_123,
            "attributes": {"n": 3},
            "dropped_attributes_count": 0,
        }
    ]
    assert root_span["resource_attributes"]["service.name"] == "svc"
    assert root_span["resource_attributes"]["deployment"] == "t"
    assert (root_span["scope_name"], root_span["scope_version"], root_span["scope_attributes"]) == (
        "scope-a",
        "1.2.3",
        {"public_key": "pk"},
    )
    assert child_span["parent_span_id"] == root_span["span_id"]
    assert child_span["trace_id"] == root_span["trace_id"]
    assert len(child_span["trace_id"]) == 32 and len(child_span["span_id"]) == 16
    assert (child_span["status_code"], child_span["status_message"]) == (2, "boom")
    assert root_span["start_time_unix_nano"] <= child_span["start_time_unix_nano"]
    assert child_span["end_time_unix_nano"] <= root_span["end_time_unix_nano"]
    request = receiver.requests[0]
    assert request.path == "/api/public/otel/v1/traces"
    assert request.headers["content-type"] == "application/x-protobuf"
    assert request.headers["Content-Type"] == "application/x-protobuf"  # case-insensitive lookups


def test_down_really_stops_listening_and_ok_reuses_the_port() -> None:
    with OtlpReceiver() as receiver:
        port = receiver.port
        receiver.set_mode("down")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        receiver.set_mode("ok")
        assert receiver.port == port
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_error_modes_answer_as_configured() -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode("429", retry_after=7)
        request = urllib.request.Request(receiver.endpoint, data=b"{}", headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=2)
        assert caught.value.code == 429
        assert caught.value.headers["Retry-After"] == "7"
        receiver.set_mode("ok")
        with urllib.request.urlopen(request, timeout=2) as response:
            assert response.status == 200
        with pytest.raises(ValueError):
            receiver.set_mode("sideways")


def test_undecodable_body_is_a_400_with_the_reason() -> None:
    with OtlpReceiver() as receiver:
        request = urllib.request.Request(
            receiver.endpoint, data=b"\x0a\xff\xff", headers={"Content-Type": "application/x-protobuf"}
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=2)
        assert caught.value.code == 400
        assert receiver.decode_errors


def test_count_only_mode_counts_both_encodings_exactly() -> None:
    from interactiveai.sdk.export import OtlpHttpExporter

    with OtlpReceiver(keep_spans=False) as receiver:
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=receiver.endpoint)))
        provider.add_span_processor(SimpleSpanProcessor(OtlpHttpExporter(receiver.endpoint, headers={}, timeout=5)))
        for i in range(3):
            with provider.get_tracer("t").start_as_current_span(f"s{i}"):
                pass
        receiver.wait_for_spans(3, timeout=5)
        provider.shutdown()
        assert receiver.spans() == []
        assert receiver.span_count() == 3  # each span arrived twice, once per encoding, with the same hex ids
        assert receiver.total_span_count() == 6
