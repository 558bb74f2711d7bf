"""The SDK's export path: filter, sample, queue and send ended spans as OTLP/HTTP.

``ExportProcessor`` (an OTel ``SpanProcessor``, in ``processor``) owns the memory-bounded buffer
(``buffer``) and the encoding and sending threads (``workers``), and counts (``stats``);
``OtlpHttpExporter`` (an OTel ``SpanExporter``) speaks OTLP/JSON over HTTP; ``make_export_filter``
decides which spans leave the process; ``is_trace_sampled`` is the trace-id ratio rule shared with
the score path.
"""

from __future__ import annotations

from interactiveai.sdk.export.exporter import ExportOutcome, OtlpHttpExporter
from interactiveai.sdk.export.filters import SDK_SCOPE_NAME, make_export_filter
from interactiveai.sdk.export.processor import ExportProcessor, ExportStats
from interactiveai.sdk.export.sampling import is_trace_sampled

__all__ = [
    "SDK_SCOPE_NAME",
    "ExportOutcome",
    "ExportProcessor",
    "ExportStats",
    "OtlpHttpExporter",
    "is_trace_sampled",
    "make_export_filter",
]
