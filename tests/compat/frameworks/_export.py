"""Shared by the Python scenario scripts, inside a compatibility environment (not our venv).

It sets up tracing the way a user following the OpenTelemetry documentation does: a
``TracerProvider`` whose batch processor feeds the stock OTLP/HTTP exporter, configured by the
standard ``OTEL_EXPORTER_OTLP_*`` variables the test passes (our server's URL and key). Beside it,
a recorder keeps every span as the library made it, so a test can say exactly which attributes
the library sent when our mapping shows something else, and which traces each scenario made.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def span_record(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    parent = span.parent
    return {
        "name": span.name,
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "parent_id": format(parent.span_id, "016x") if parent else None,
        "scope": span.instrumentation_scope.name if span.instrumentation_scope else None,
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": {"code": span.status.status_code.name, "description": span.status.description},
        "attributes": {key: _plain(value) for key, value in (span.attributes or {}).items()},
        "events": [
            {"name": event.name, "attributes": {k: _plain(v) for k, v in (event.attributes or {}).items()}}
            for event in span.events
        ],
    }


class Recorder(SpanExporter):
    """Keeps every finished span (a SimpleSpanProcessor calls it as each span ends)."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


class CheckedExporter(SpanExporter):
    """The stock exporter, remembering failures: a batch our server refused must fail the scenario."""

    def __init__(self) -> None:
        self.inner = OTLPSpanExporter()  # endpoint and headers from OTEL_EXPORTER_OTLP_*
        self.failures = 0
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self.inner.export(spans)
        if result is SpanExportResult.SUCCESS:
            self.exported += len(spans)
        else:
            self.failures += 1
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()


class Session:
    """A tracer provider exporting to our server, and the spans of each named scenario."""

    def __init__(self, service_name: str, library_provider: bool = False) -> None:
        """``library_provider``: the library builds its tracer provider and exporter itself from its
        own settings (LiteLLM's callback) and registers it; the recorder joins it then."""
        self.recorder = Recorder()
        self.exporter: CheckedExporter | None = None
        self.scenarios: dict[str, list[str]] = {}
        self.errors: dict[str, str] = {}
        self._seen: set[str] = set()
        self._claimed = 0  # spans recorded at the last claim
        if library_provider:
            register = trace.set_tracer_provider

            def register_and_record(provider: Any) -> None:
                register(provider)
                provider.add_span_processor(SimpleSpanProcessor(self.recorder))

            trace.set_tracer_provider = register_and_record
            return
        provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        self.exporter = CheckedExporter()
        provider.add_span_processor(BatchSpanProcessor(self.exporter))
        provider.add_span_processor(SimpleSpanProcessor(self.recorder))
        trace.set_tracer_provider(provider)

    @property
    def provider(self) -> TracerProvider:
        provider = trace.get_tracer_provider()
        assert isinstance(provider, TracerProvider), provider
        return provider

    @contextlib.contextmanager
    def scenario(self, name: str, expect_error: bool = False) -> Iterator[None]:
        """The traces first seen while the block runs belong to scenario ``name``."""
        try:
            yield
        except Exception as error:  # a failing call is a scenario of its own
            if not expect_error:
                raise
            self.errors[name] = f"{type(error).__name__}: {error}"
        else:
            if expect_error:
                raise AssertionError(f"scenario {name} should have failed")
        self.claim(name)

    def settle(self, new: int, timeout: float = 10.0) -> None:
        """Wait until ``new`` spans were recorded since the last claim, then until no other one comes
        for a moment: libraries that log from a background thread end their spans after the call."""
        count = self._claimed + new
        deadline = time.monotonic() + timeout
        last = -1
        while time.monotonic() < deadline:
            now = len(self.recorder.spans)
            if now >= count and now == last:
                return
            last = now
            time.sleep(0.2)
        raise AssertionError(f"{len(self.recorder.spans)} spans recorded, expected at least {count}")

    def claim(self, name: str) -> None:
        """Assign the traces first seen since the last claim to ``name``."""
        new = []
        self._claimed = len(self.recorder.spans)
        for span in self.recorder.spans:
            trace_id = format(span.get_span_context().trace_id, "032x")
            if trace_id not in self._seen:
                self._seen.add(trace_id)
                new.append(trace_id)
        self.scenarios.setdefault(name, []).extend(new)

    def finish(self) -> None:
        """Export everything (each export answered only once stored), then write the record."""
        if not self.provider.force_flush(30_000):
            raise SystemExit("the OTLP exporter did not flush in time")
        self.provider.shutdown()
        if self.exporter is not None and self.exporter.failures:
            raise SystemExit(f"{self.exporter.failures} OTLP exports failed")
        write_record(self.scenarios, self.errors, [span_record(span) for span in self.recorder.spans])


def write_record(scenarios: dict[str, list[str]], errors: dict[str, str], spans: list[dict[str, Any]]) -> None:
    record = {"scenarios": scenarios, "errors": errors, "spans": spans}
    with open(os.environ["COMPAT_RECORD"], "w") as file:
        json.dump(record, file, indent=1, default=str)
    print(f"{len(spans)} spans in {len(scenarios)} scenarios", file=sys.stderr)


def openai_base_url() -> str:
    return os.environ["COMPAT_OPENAI_BASE_URL"]
