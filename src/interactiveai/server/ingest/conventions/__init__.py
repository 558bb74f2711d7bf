"""Span attributes of every supported convention → one observation row and its trace facts.

One module per convention, each declaring the attributes it reads and its rules (``registry``);
``catalog`` lists them. Ours (``interactiveai.*``, ``ours``), the peer SDK's (``langfuse.*``,
``langfuse_sdk``), keys shared by many (``generic``), OTel GenAI (``gen_ai``), OpenInference
(``openinference``), OpenLLMetry (``openllmetry``), LiteLLM's callback (``litellm``), Logfire (``logfire``), Pydantic AI
(``pydantic_ai``), the Vercel AI SDK (``vercel``) and MLflow (``mlflow``). ``mapping`` reads a
span with the conventions of its instrumentation scope; ``trace_facts`` what it says of its trace.
"""

from interactiveai.server.ingest.conventions.mapping import map_span

__all__ = ["map_span"]
