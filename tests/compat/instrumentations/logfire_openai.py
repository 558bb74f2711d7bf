"""Logfire's OpenAI instrumentation (``logfire.instrument_openai``), sent to us instead of its cloud.

Logfire adds the stock OTLP/HTTP exporter itself when ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is
set (its documented way to use another backend); ``send_to_logfire=False`` keeps it off the network.
"""

from __future__ import annotations

import _scenario
import logfire
import openai_calls

recorder = _scenario.Recorder()
logfire.configure(
    send_to_logfire=False,
    console=False,
    service_name="compat-logfire",
    additional_span_processors=[recorder],
    metrics=False,
)
logfire.instrument_openai()
_scenario.run(openai_calls.scenarios(), recorder, logfire.force_flush)
