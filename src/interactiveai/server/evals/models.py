"""The JSON of the evaluator endpoints: request bodies (validated here) and responses.

Wire names are camelCase like the rest of the API. Request bodies are pydantic models whose JSON
Schema is what the OpenAPI document shows; rules no schema can state (a mapped variable the
template does not use, a connection that exists, filter conditions) are checked by
``evals/store.py`` and answered 400 naming the rule, as each operation's description says.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from interactiveai.server.api.filter_param import filter_schema
from interactiveai.server.api.models import Meta
from interactiveai.server.api.schemas import NO_NUL_PATTERN, PY_SPACE, nullable

OBSERVATION_TYPES = (
    "SPAN",
    "GENERATION",
    "AGENT",
    "TOOL",
    "CHAIN",
    "RETRIEVER",
    "EMBEDDING",
    "EVALUATOR",
    "GUARDRAIL",
    "EVENT",
)
JOB_STATUSES = ("pending", "running", "done", "failed")
MAX_PROMPT = 20_000
MAX_DELAY_SECONDS = 86_400.0

# at least one character that is not white space (as Python's str.strip() sees it), and no NUL
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern="^[^\\u0000]*[^\\u0000" + PY_SPACE + "][^\\u0000]*$")
]
Text = Annotated[str, StringConstraints(max_length=2_000, pattern=NO_NUL_PATTERN)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL_PATTERN)]
Url = Annotated[str, StringConstraints(max_length=2_000, pattern=r"^[hH][tT][tT][pP][sS]?://[^\u0000\s]+$")]
VariableName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")]
Finite = Annotated[float, Field(allow_inf_nan=False, ge=-1e300, le=1e300)]


_EVALUATOR_EXAMPLE: dict[str, Any] = {
    "name": "helpfulness",
    "connectionId": "3f0c1a52-7d4e-4b8a-9c21-5e6f7a8b9c0d",
    "prompt": "Question: {{input}}\nAnswer: {{output}}\nHow helpful is the answer?",
    "score": {"name": "helpfulness", "dataType": "NUMERIC", "minValue": 0, "maxValue": 1},
    "samplingRate": 0.25,
    "filter": [{"type": "stringOptions", "column": "name", "operator": "any of", "value": ["qa"]}],
    "delaySeconds": 30,
}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConnectionCreate(_In):
    """A model connection: any OpenAI-compatible chat completions endpoint.

    ``apiKey`` is stored encrypted and never returned (``apiKeyHint`` shows its ends); ``params``
    are added to every request body (``temperature``, ``max_tokens``, …; ``"response_format": null``
    for an endpoint without JSON mode). A name already used in the project is a 409.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "openai",
                    "baseUrl": "https://api.openai.com/v1",
                    "model": "gpt-4o-mini",
                    "apiKey": "sk-proj-example",
                    "params": {"temperature": 0},
                }
            ]
        },
    )

    name: Name
    baseUrl: Url = Field(description="The endpoint's base URL; requests go to `{baseUrl}/chat/completions`.")
    model: Name = Field(description="The default model; an evaluator may name another.")
    apiKey: Text | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class ConnectionUpdate(_In):
    """Fields to change; ``apiKey: null`` removes the key. A name already used is a 409."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"model": "gpt-4o"}]})

    name: Name | None = None
    baseUrl: Url | None = None
    model: Name | None = None
    apiKey: Text | None = None
    params: dict[str, Any] | None = None


class Connection(_Out):
    id: str
    projectId: str
    name: str
    baseUrl: str
    model: str
    apiKeyHint: str | None
    params: dict[str, Any]
    createdAt: str
    updatedAt: str


class Connections(_Out):
    data: list[Connection]
    meta: Meta


class Variable(_In):
    """Where a template variable's value comes from: a field of the trace, or of an observation
    (``source: observation``): the trace's first observation (by start time) of
    ``observationName`` and/or ``observationType``, or without them the evaluator's target
    observation. ``key`` picks one key of ``metadata``. A trace without the named observation
    fails its evaluation, saying so."""

    source: Literal["trace", "observation"] = "trace"
    field: Literal[
        "input", "output", "metadata", "name", "tags", "userId", "sessionId", "environment", "release", "type", "model"
    ]
    key: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)] | None = None
    observationName: Name | None = None
    observationType: Literal[OBSERVATION_TYPES] | None = None  # type: ignore[valid-type]


class ScoreSpec(_In):
    """The score the judge gives: NUMERIC (optionally within minValue-maxValue), BOOLEAN, or
    CATEGORICAL (one of ``categories``)."""

    name: Name
    dataType: Literal["NUMERIC", "BOOLEAN", "CATEGORICAL"]
    minValue: Finite | None = None
    maxValue: Finite | None = None
    categories: list[Name] | None = Field(None, min_length=1, max_length=100)


class EvaluatorCreate(_In):
    """An evaluator: which traces, what to ask the judge, and the score it writes.

    Also answered 400, naming the rule: a ``{{variable}}`` of the prompt without a mapping (a
    variable named like a field of the target, `input`, `output`, `metadata`, `name`, maps to it
    by itself); an observation variable of a trace target that names no observation
    (``observationName``/``observationType``); a connection that does not exist; a
    filter condition that the trace list's `filter` refuses; minValue not below maxValue; a
    CATEGORICAL score without categories, or categories on another type; ``traceProjectId`` other
    than the key's own project. A name already used in the project is a 409.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EVALUATOR_EXAMPLE]})

    name: Name
    enabled: bool = True
    connectionId: Id
    model: Name | None = None
    prompt: Annotated[str, StringConstraints(min_length=1, max_length=MAX_PROMPT, pattern=NO_NUL_PATTERN)]
    variableMapping: dict[VariableName, Variable] = Field(default_factory=dict, max_length=50)
    target: Literal["trace", "observation"] = "trace"
    observationName: Name | None = None
    observationType: Literal[OBSERVATION_TYPES] | None = None  # type: ignore[valid-type]
    score: ScoreSpec
    samplingRate: float = Field(1.0, ge=0.0, le=1.0, allow_inf_nan=False)
    filter: Annotated[list[dict[str, Any]], WithJsonSchema(filter_schema("traces"))] = Field(
        default_factory=list, max_length=50, description="Conditions on the trace, as the trace list's `filter`."
    )
    delaySeconds: float = Field(30.0, ge=0.0, le=MAX_DELAY_SECONDS, allow_inf_nan=False)
    traceProjectId: Id | None = Field(None, description="Where the judge's calls are traced; null: nowhere.")


class EvaluatorUpdate(_In):
    """Fields to change (the rules of creation apply to the result)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"enabled": False, "samplingRate": 0.5}]})

    name: Name | None = None
    enabled: bool | None = None
    connectionId: Id | None = None
    model: Name | None = None
    prompt: Annotated[str, StringConstraints(min_length=1, max_length=MAX_PROMPT, pattern=NO_NUL_PATTERN)] | None = None
    variableMapping: dict[VariableName, Variable] | None = Field(None, max_length=50)
    target: Literal["trace", "observation"] | None = None
    observationName: Name | None = None
    observationType: Literal[OBSERVATION_TYPES] | None = None  # type: ignore[valid-type]
    score: ScoreSpec | None = None
    samplingRate: float | None = Field(None, ge=0.0, le=1.0, allow_inf_nan=False)
    filter: Annotated[list[dict[str, Any]] | None, WithJsonSchema(nullable(filter_schema("traces")))] = Field(
        None, max_length=50
    )
    delaySeconds: float | None = Field(None, ge=0.0, le=MAX_DELAY_SECONDS, allow_inf_nan=False)
    traceProjectId: Id | None = None


class Evaluator(_Out):
    id: str
    projectId: str
    name: str
    enabled: bool
    connectionId: str
    model: str | None
    prompt: str
    variableMapping: dict[str, dict[str, Any]]
    target: str
    observationName: str | None
    observationType: str | None
    score: dict[str, Any]
    samplingRate: float
    filter: list[dict[str, Any]]
    delaySeconds: float
    traceProjectId: str | None
    createdAt: str
    updatedAt: str


class Evaluators(_Out):
    data: list[Evaluator]
    meta: Meta


class EvaluatorJob(_Out):
    id: str
    projectId: str
    evaluatorId: str
    traceId: str
    observationId: str | None
    status: Literal["pending", "running", "done", "failed"]
    attempts: int
    error: str | None
    scoreId: str | None
    model: str | None
    latencyMs: int | None
    inputTokens: int | None
    outputTokens: int | None
    totalTokens: int | None
    cost: float | None
    judgeTraceId: str | None
    createdAt: str
    updatedAt: str
    finishedAt: str | None


class EvaluatorJobs(_Out):
    data: list[EvaluatorJob]
    meta: Meta


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON Schema with its nested models written in place: a request body's schema
    sits inside the OpenAPI document, where ``#/$defs/…`` would point at the document's root."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                rest = {k: v for k, v in node.items() if k != "$ref"}
                return {**inline(defs[ref.removeprefix("#/$defs/")]), **inline(rest)}
            result = {key: inline(value) for key, value in node.items()}
            if "patternProperties" in result:  # keys are validated: one that does not match is refused
                result.setdefault("additionalProperties", False)
            return result
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    result: dict[str, Any] = inline(schema)
    return result
