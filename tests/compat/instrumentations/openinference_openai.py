"""OpenInference's OpenAI instrumentation (``openinference-instrumentation-openai``, Arize Phoenix)."""

from __future__ import annotations

import _scenario
import openai_calls
from openinference.instrumentation.openai import OpenAIInstrumentor

recorder = _scenario.Recorder()
provider = _scenario.tracer_provider("compat-openinference", recorder)
OpenAIInstrumentor().instrument(tracer_provider=provider)
_scenario.run(openai_calls.scenarios(), recorder, provider.force_flush)
