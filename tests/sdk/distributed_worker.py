"""A service process for the cross-process tracing test (run with ``python -m``).

``upstream HOST``: starts a trace with baggage attributes and prints the outgoing headers.
``downstream HOST HEADERS_JSON``: continues the trace from those headers.
Each exports its spans with the real exporter to HOST (a loopback OTLP receiver), and also prints
them as JSON lines (``{"span": ...}``) on stdout.
"""

from __future__ import annotations

import json
import sys

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from interactiveai import InteractiveAI, continue_trace, inject_trace_headers, observe, propagate_attributes


def main() -> None:
    role, host = sys.argv[1], sys.argv[2]
    provider = TracerProvider()
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    client = InteractiveAI(
        public_key=f"pk-{role}",
        secret_key="sk",
        host=host,
        tracer_provider=provider,
    )

    if role == "upstream":
        with client.start_as_current_span(name="gateway"):
            with propagate_attributes(user_id="user-42", session_id="sess-9", tags=["edge"], as_baggage=True):
                with client.start_as_current_span(name="call-downstream"):
                    print(json.dumps({"headers": inject_trace_headers()}), flush=True)
    else:
        headers = json.loads(sys.argv[3])

        @observe(as_type="agent")
        def handle() -> str:
            @observe
            def lookup() -> str:
                return "found"

            return lookup()

        with continue_trace(headers):
            handle()

    if not client.shutdown(timeout=5):
        sys.exit(3)
    for span in memory.get_finished_spans():
        attrs = dict(span.attributes or {})
        record = {
            "name": span.name,
            "trace_id": format(span.context.trace_id, "032x"),
            "span_id": format(span.context.span_id, "016x"),
            "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
            "attributes": {k: list(v) if isinstance(v, tuple) else v for k, v in attrs.items()},
        }
        print(json.dumps({"span": record}), flush=True)


if __name__ == "__main__":
    main()
