"""InteractiveAI: LLM observability on OpenTelemetry.

Example::

    from interactiveai import observe, get_client, propagate_attributes

    @observe
    def answer(question: str) -> str: ...
"""

from interactiveai.sdk.attributes import Level, MaskFunction, ObservationType, ObservationTypeNoEvent
from interactiveai.sdk.client import InteractiveAI
from interactiveai.sdk.context import ContextPreservingExecutor, run_in_context, wrap_in_context
from interactiveai.sdk.datasets import Dataset, DatasetError, DatasetItem
from interactiveai.sdk.distributed import TraceContext, continue_trace, extract_trace_context, inject_trace_headers
from interactiveai.sdk.experiments import Evaluation, ExperimentItemResult, ExperimentResult
from interactiveai.sdk.ids import create_trace_id
from interactiveai.sdk.observations import (
    InteractiveAIAgent,
    InteractiveAIChain,
    InteractiveAIEmbedding,
    InteractiveAIEvaluator,
    InteractiveAIEvent,
    InteractiveAIGeneration,
    InteractiveAIGuardrail,
    InteractiveAIObservation,
    InteractiveAIRetriever,
    InteractiveAISpan,
    InteractiveAITool,
)
from interactiveai.sdk.observe import observe
from interactiveai.sdk.propagation import propagate_attributes
from interactiveai.sdk.registry import get_client
from interactiveai.sdk.scores import ScoreDataType
from interactiveai.version import __version__

__all__ = [
    "ContextPreservingExecutor",
    "Dataset",
    "DatasetError",
    "DatasetItem",
    "Evaluation",
    "ExperimentItemResult",
    "ExperimentResult",
    "InteractiveAI",
    "InteractiveAIAgent",
    "InteractiveAIChain",
    "InteractiveAIEmbedding",
    "InteractiveAIEvaluator",
    "InteractiveAIEvent",
    "InteractiveAIGeneration",
    "InteractiveAIGuardrail",
    "InteractiveAIObservation",
    "InteractiveAIRetriever",
    "InteractiveAISpan",
    "InteractiveAITool",
    "Level",
    "MaskFunction",
    "ObservationType",
    "ObservationTypeNoEvent",
    "ScoreDataType",
    "TraceContext",
    "__version__",
    "continue_trace",
    "create_trace_id",
    "extract_trace_context",
    "get_client",
    "inject_trace_headers",
    "observe",
    "propagate_attributes",
    "run_in_context",
    "wrap_in_context",
]
