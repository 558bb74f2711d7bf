"""OtlpHttpExporter over real loopback HTTP: connection reuse, retry policy, outcomes, headers."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from interactiveai.sdk.export import ExportOutcome, OtlpHttpExporter
from interactiveai.sdk.export.connection import build_request_head
from tests.support.otlp_receiver import OtlpReceiver


def _spans(n: int = 3) -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    for i in range(n):
        with provider.get_tracer("t").start_as_current_span(f"s{i}"):
            pass
    return list(memory.get_finished_spans())


def test_requests_share_one_kept_alive_connection() -> None:
    with OtlpReceiver() as receiver:
        exporter = OtlpHttpExporter(receiver.endpoint, headers={}, timeout=5)
        for _ in range(5):
            assert exporter.export(_spans()) is SpanExportResult.SUCCESS
        assert len({request.client_port for request in receiver.requests}) == 1
        exporter.shutdown()


def test_a_connection_closed_by_the_server_is_replaced_transparently() -> None:
    with OtlpReceiver() as receiver:
        exporter = OtlpHttpExporter(receiver.endpoint, headers={}, timeout=5)
        assert exporter.export(_spans()) is SpanExportResult.SUCCESS
        receiver.set_mode("down")  # cuts the kept-alive connection
        receiver.set_mode("ok")
        started = time.monotonic()
        outcome = exporter.export_batch(_spans(), deadline=time.monotonic() + 5).outcome
        assert outcome is ExportOutcome.SUCCESS
        assert time.monotonic() - started < 0.5  # no backoff: a stale connection is not a failure
        assert len({request.client_port for request in receiver.requests}) == 2


@pytest.mark.parametrize("status", ["400", "401", "403", "404", "413"])
def test_client_errors_are_final(status: str) -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode(status)
        exporter = OtlpHttpExporter(receiver.endpoint, headers={}, timeout=5)
        assert exporter.export_batch(_spans(), deadline=time.monotonic() + 5).outcome is ExportOutcome.REJECTED
        assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", ["408", "429", "500", "502", "503", "504"])
def test_transient_errors_are_retried_until_the_deadline(status: str) -> None:
    with OtlpReceiver() as receiver:
        receiver.set_mode(status, retry_after=0.1)
        exporter = OtlpHttpExporter(receiver.endpoint, headers={}, timeout=5)
        started = time.monotonic()
        assert exporter.export_batch(_spans(), deadline=started + 1.0).outcome is ExportOutcome.RETRYABLE
        assert time.monotonic() - started <= 1.2  # the deadline bounds retries and backoff
        assert len(receiver.requests) >= 2


def test_retries_succeed_once_the_receiver_recovers() -> None:
    import threading

    with OtlpReceiver() as receiver:
        receiver.set_mode("down")
        exporter = OtlpHttpExporter(receiver.endpoint, headers={}, timeout=5)
        threading.Timer(0.5, receiver.set_mode, args=("ok",)).start()
        assert exporter.export_batch(_spans(), deadline=time.monotonic() + 5).outcome is ExportOutcome.SUCCESS
        assert receiver.span_count() == 3


def test_export_after_shutdown_fails_fast() -> None:
    with OtlpReceiver() as receiver:
        exporter = OtlpHttpExporter(receiver.endpoint, headers={}, timeout=5)
        exporter.shutdown()
        started = time.monotonic()
        assert exporter.export(_spans()) is SpanExportResult.FAILURE
        assert time.monotonic() - started < 0.1
        assert receiver.requests == []


def test_request_head() -> None:
    head = build_request_head("example.com", 443, True, "/api/public/otel/v1/traces", {"Authorization": "Basic x"})
    assert head == b"POST /api/public/otel/v1/traces HTTP/1.1\r\nHost: example.com\r\nAuthorization: Basic x\r\n"
    assert b"Host: [::1]:3000\r\n" in build_request_head("::1", 3000, False, "/v1/traces", {})
    # Headers we compute ourselves cannot be overridden into an inconsistent request.
    assert b"Content-Length" not in build_request_head("h", 80, False, "/", {"Content-Length": "1"})


@pytest.mark.parametrize("headers", [{"X-Evil": "a\r\nInjected: 1"}, {"Bad\nKey": "v"}, {"": "v"}])
def test_header_injection_is_refused_at_construction(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        OtlpHttpExporter("http://127.0.0.1:1/v1/traces", headers=headers, timeout=1)


def test_query_strings_are_kept() -> None:
    with OtlpReceiver() as receiver:
        exporter = OtlpHttpExporter(receiver.endpoint + "?tenant=a", headers={}, timeout=5)
        assert exporter.export(_spans()) is SpanExportResult.SUCCESS
        assert receiver.requests[0].path == "/api/public/otel/v1/traces?tenant=a"


def test_big_batches_are_split_and_oversized_spans_dropped_alone() -> None:
    from interactiveai.sdk.export import ExportProcessor

    with OtlpReceiver() as receiver:
        exporter = OtlpHttpExporter(receiver.endpoint, headers={}, timeout=5, max_request_bytes=3000)
        processor = ExportProcessor(
            exporter, max_queue_size=100, max_export_batch_size=100, schedule_delay=60, export_timeout=5
        )
        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(processor)
        tracer = provider.get_tracer("t")
        for i in range(20):
            with tracer.start_as_current_span(f"s{i}", attributes={"payload": "x" * 500}):
                pass
        with tracer.start_as_current_span("huge", attributes={"payload": "y" * 5000}):
            pass
        assert processor.force_flush(5000) is False  # everything was sent, but one span was dropped
        assert receiver.span_count() == 20
        assert "huge" not in {span["name"] for span in receiver.spans()}
        assert len(receiver.requests) >= 4  # 20 spans of ~700 bytes, at most 3,000 per request
        assert processor.force_flush(5000) is True  # nothing dropped since the previous flush
        assert all(request.status == 200 for request in receiver.requests)
        assert processor.stats.exported == 20
        assert processor.stats.dropped_export_failed == 1
        provider.shutdown()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_https_with_certificate_verification(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    with OtlpReceiver(tls=(str(cert), str(key))) as receiver:
        assert receiver.endpoint.startswith("https://")
        untrusted = OtlpHttpExporter(receiver.endpoint, headers={}, timeout=1)
        assert untrusted.export_batch(_spans(), deadline=time.monotonic() + 0.5).outcome is ExportOutcome.RETRYABLE
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trusted as OpenSSL's default verify path
        trusted = OtlpHttpExporter(receiver.endpoint, headers={}, timeout=5)
        assert trusted.export(_spans()) is SpanExportResult.SUCCESS
        assert receiver.span_count() == 3
