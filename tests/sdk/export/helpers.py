"""Shared builders for export tests: a real TracerProvider wired to our processor and exporter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.trace import Tracer

from interactiveai.sdk.export import ExportProcessor, OtlpHttpExporter

PUBLIC_KEY = "pk-test-1"


def make_pipeline(
    endpoint: str,
    *,
    max_queue_size: int | None = None,
    max_queue_bytes: int = 64 * 1024 * 1024,
    max_export_batch_size: int = 512,
    schedule_delay: float = 0.05,
    export_timeout: float = 2.0,
    compression: str = "gzip",
    should_export: Callable[[ReadableSpan], bool] | None = None,
    sample_rate: float = 1.0,
    resource: dict[str, Any] | None = None,
) -> tuple[TracerProvider, ExportProcessor, Tracer]:
    """A provider with only our processor, and a tracer of our scope for PUBLIC_KEY."""
    exporter = OtlpHttpExporter(
        endpoint, headers={"Authorization": "Basic dGVzdA=="}, timeout=export_timeout, compression=compression
    )
    processor = ExportProcessor(
        exporter,
        max_queue_size=max_queue_size,
        max_queue_bytes=max_queue_bytes,
        max_export_batch_size=max_export_batch_size,
        schedule_delay=schedule_delay,
        export_timeout=export_timeout,
        should_export=should_export,
        sample_rate=sample_rate,
    )
    provider = TracerProvider(
        resource=Resource.create(resource or {"service.name": "export-tests"}), shutdown_on_exit=False
    )
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("interactiveai-sdk", "0.1.0", attributes={"public_key": PUBLIC_KEY})
    return provider, processor, tracer


def end_spans(tracer: Tracer, n: int, prefix: str = "span") -> None:
    """End ``n`` small root spans named ``{prefix}-{i}``."""
    for i in range(n):
        with tracer.start_as_current_span(f"{prefix}-{i}", attributes={"i": i, "kind": "test"}):
            pass


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes; returns its last value."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True
