"""OpenTelemetry's own OpenAI instrumentation (``opentelemetry-instrumentation-openai-v2``), with
the latest GenAI conventions and message content on the spans, as its documentation describes."""

from __future__ import annotations

import _scenario
import openai_calls
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

recorder = _scenario.Recorder()
provider = _scenario.tracer_provider("compat-otel-genai", recorder)
OpenAIInstrumentor().instrument()
_scenario.run(openai_calls.scenarios(), recorder, provider.force_flush)
