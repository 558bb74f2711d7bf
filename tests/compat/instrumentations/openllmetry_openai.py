"""OpenLLMetry's OpenAI instrumentation (``opentelemetry-instrumentation-openai``, Traceloop)."""

from __future__ import annotations

import _scenario
import openai_calls
from opentelemetry.instrumentation.openai import OpenAIInstrumentor

recorder = _scenario.Recorder()
provider = _scenario.tracer_provider("compat-openllmetry", recorder)
OpenAIInstrumentor().instrument()
_scenario.run(openai_calls.scenarios(), recorder, provider.force_flush)
