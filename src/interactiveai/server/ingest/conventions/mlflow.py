"""MLflow tracing: ``mlflow.spanType`` (a JSON string) and ``mlflow.spanInputs`` / ``mlflow.spanOutputs``."""

from __future__ import annotations

from typing import Any

from interactiveai.server.ingest.conventions.registry import Convention
from interactiveai.server.ingest.conventions.scan import Scan
from interactiveai.server.ingest.fields import TYPES, strip_quotes

_TYPES = {"LLM": "GENERATION", "CHAT_MODEL": "GENERATION", "RERANKER": "RETRIEVER", "PARSER": "SPAN"}


def _type(scan: Scan) -> str | None:
    declared = scan.found.get("mlflow_type")
    if declared is None:
        return None
    upper = strip_quotes(declared).upper()
    mapped = _TYPES.get(upper, upper)
    return mapped if mapped in TYPES else None


def _input(scan: Scan) -> Any:
    return scan.found.get("mlflow_input")


def _output(scan: Scan) -> Any:
    return scan.found.get("mlflow_output")


CONVENTION = Convention(
    name="mlflow",
    rank=50,
    slots={
        "mlflow_type": ("mlflow.spanType",),
        "mlflow_input": ("mlflow.spanInputs",),
        "mlflow_output": ("mlflow.spanOutputs",),
    },
    types=((50, _type, ("mlflow_type",)),),
    inputs=((30, _input, ("mlflow_input",)),),
    outputs=((30, _output, ("mlflow_output",)),),
)
