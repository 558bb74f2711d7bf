"""Shared by the scenario scripts: tracing set up as a user would, and the scenario runner.

Runs inside a library's own virtual environment (only the standard library and what that
environment installs). The exporter is the stock OTLP/HTTP one, configured by the standard
``OTEL_EXPORTER_OTLP_TRACES_*`` variables the test sets. A recording processor notes which
trace ids each scenario produced; the script prints them as JSON on its last line, so the test
finds its traces through our API. ``COMPAT_DUMP_SPANS=<file>`` also writes every finished span
there (JSON lines), which is how the mapping was studied.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

FAKE_BASE_URL = os.environ.get("OPENAI_BASE_URL", "")


class Recorder(SpanProcessor):
    """Notes the trace ids of the spans each scenario finishes (and dumps them when asked)."""

    def __init__(self) -> None:
        self.current = ""
        self.traces: dict[str, list[str]] = {}
        dump = os.environ.get("COMPAT_DUMP_SPANS")
        self._dump = open(dump, "a") if dump else None

    def on_end(self, span: ReadableSpan) -> None:
        context = span.get_span_context()
        if context is None:
            return
        trace_id = format(context.trace_id, "032x")
        seen = self.traces.setdefault(self.current, [])
        if trace_id not in seen:
            seen.append(trace_id)
        if self._dump is not None:
            record = {
                "scenario": self.current,
                "name": span.name,
                "scope": span.instrumentation_scope.name if span.instrumentation_scope else None,
                "trace_id": trace_id,
                "span_id": format(context.span_id, "016x"),
                "parent": format(span.parent.span_id, "016x") if span.parent else None,
                "status": [span.status.status_code.name, span.status.description],
                "attributes": dict(span.attributes or {}),
                "events": [{"name": e.name, "attributes": dict(e.attributes or {})} for e in span.events],
                "resource": dict(span.resource.attributes),
            }
            self._dump.write(json.dumps(record, default=str) + "\n")
            self._dump.flush()

    def shutdown(self) -> None:
        if self._dump is not None:
            self._dump.close()


def resource(service: str) -> Resource:
    return Resource.create({"service.name": service})


def tracer_provider(service: str, recorder: Recorder) -> TracerProvider:
    """The global tracer provider an application sets up: the stock OTLP/HTTP exporter to us."""
    provider = TracerProvider(resource=resource(service))
    provider.add_span_processor(recorder)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def run(scenarios: dict[str, Callable[[], Any]], recorder: Recorder, flush: Callable[[], Any]) -> None:
    """Run the scenarios named on the command line (all by default), flush, print the trace ids.

    A scenario that is meant to fail (a rejected request) catches its own exception; any other
    exception fails the script with its traceback.
    """
    names = sys.argv[1:] or list(scenarios)
    for name in names:
        recorder.current = name
        try:
            scenarios[name]()
        except Exception:
            traceback.print_exc()
            sys.exit(f"scenario {name} raised")
    recorder.current = ""
    flush()
    print(json.dumps({name: recorder.traces.get(name, []) for name in names}))


def expect_failure(call: Callable[[], Any]) -> None:
    """Run a call the fake server rejects (400): the application catches the error, as apps do."""
    try:
        call()
    except Exception as exc:  # the client library's own error class
        if "400" not in str(exc) and "refused" not in str(exc):
            raise
    else:
        raise AssertionError("the failing call did not fail")
