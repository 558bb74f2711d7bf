"""Pydantic models of the API's JSON shapes: the OpenAPI document and the tests use them.

Field names are the wire names (camelCase), compatible with the reference platform's public
API so existing clients work. Output models forbid extra fields, so a test that validates a
response against its model catches any drift between the serialisers and the documentation.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Meta(_Out):
    page: int
    limit: int
    totalItems: int
    totalPages: int


class Health(_Out):
    status: str
    version: str
    message: str | None = None


class Project(_Out):
    id: str
    name: str
    metadata: dict[str, Any]
    retentionDays: int | None


class Projects(_Out):
    data: list[Project]


class Usage(_Out):
    input: int
    output: int
    total: int
    unit: Literal["TOKENS"]


class Observation(_Out):
    id: str
    traceId: str
    projectId: str
    parentObservationId: str | None
    type: str
    name: str | None
    startTime: str
    endTime: str | None
    completionStartTime: str | None
    level: str
    statusMessage: str | None
    version: str | None
    environment: str
    input: Any
    output: Any
    metadata: dict[str, Any]
    model: str | None
    modelParameters: Any
    modelId: str | None
    usageDetails: dict[str, Any]
    costDetails: dict[str, Any]
    usage: Usage
    inputUsage: int
    outputUsage: int
    totalUsage: int
    promptTokens: int
    completionTokens: int
    totalTokens: int
    inputCost: float | None
    outputCost: float | None
    totalCost: float | None
    calculatedInputCost: float | None
    calculatedOutputCost: float | None
    calculatedTotalCost: float | None
    latency: float | None = Field(description="Seconds from start to end; null while the observation is open.")
    timeToFirstToken: float | None = Field(description="Seconds from start to the first completion token.")
    createdAt: str


class Score(_Out):
    id: str
    projectId: str
    traceId: str | None
    observationId: str | None
    sessionId: str | None
    datasetRunId: str | None
    name: str
    value: float | None
    stringValue: str | None
    dataType: Literal["NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT"]
    source: str
    comment: str | None
    metadata: dict[str, Any]
    configId: str | None
    authorUserId: str | None
    queueId: None = None
    environment: str
    timestamp: str
    createdAt: str
    updatedAt: str


class _TraceBase(_Out):
    id: str
    projectId: str
    timestamp: str
    name: str | None
    input: Any
    output: Any
    userId: str | None
    sessionId: str | None
    release: str | None
    version: str | None
    environment: str
    tags: list[str]
    metadata: dict[str, Any] | None
    public: bool
    bookmarked: bool
    latency: float | None = Field(description="Seconds, first start to last end; -1 when metrics are excluded.")
    totalCost: float = Field(description="USD over all observations; -1 when metrics are excluded.")
    inputCost: float
    outputCost: float
    inputTokens: int
    outputTokens: int
    totalTokens: int
    observationCount: int
    level: str
    levelCounts: dict[str, int]
    htmlPath: str
    externalId: None = None
    createdAt: str
    updatedAt: str


class Trace(_TraceBase):
    observations: list[str] = Field(description="Observation ids, by start time.")
    scores: list[str] = Field(description="Score ids.")


class TraceWithDetails(_TraceBase):
    observations: list[Observation]
    scores: list[Score]


class Traces(_Out):
    data: list[Trace]
    meta: Meta


class Observations(_Out):
    data: list[Observation]
    meta: Meta


class Scores(_Out):
    data: list[Score]
    meta: Meta


class Session(_Out):
    id: str
    projectId: str
    environment: str
    createdAt: str = Field(description="Timestamp of the session's first trace.")
    lastTraceAt: str
    traceCount: int
    userIds: list[str]
    totalCost: float
    inputTokens: int
    outputTokens: int
    totalTokens: int
    durationSeconds: float


class SessionWithTraces(Session):
    traces: list[Trace]
    scores: list[Score]


class Sessions(_Out):
    data: list[Session]
    meta: Meta


class Category(BaseModel):
    label: str
    value: float


class ScoreConfig(_Out):
    id: str
    projectId: str
    name: str
    dataType: Literal["NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT"]
    isArchived: bool
    minValue: float | None
    maxValue: float | None
    categories: list[Category] | None
    description: str | None
    createdAt: str
    updatedAt: str


class ScoreConfigs(_Out):
    data: list[ScoreConfig]
    meta: Meta


class CreatedId(_Out):
    id: str


class CreatedIds(_Out):
    data: list[CreatedId]


class Message(_Out):
    message: str


# --- request bodies: loose types, so the write layer can answer with its own precise messages ----


class ScoreCreate(BaseModel):
    """A score on a trace, an observation (with its trace), a session or a dataset run."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = Field(None, description="Upserts: a score with this id in the project is replaced.")
    traceId: str | None = None
    observationId: str | None = Field(None, description="Requires traceId.")
    sessionId: str | None = None
    datasetRunId: str | None = None
    name: str | None = Field(None, description="Required unless configId is given (the config's name is used).")
    value: bool | float | str = Field(description="Number, boolean (0/1, true/false) or string.")
    dataType: str | None = Field(None, description="NUMERIC, BOOLEAN, CATEGORICAL or TEXT; inferred when absent.")
    comment: str | None = None
    configId: str | None = None
    metadata: Any = None
    environment: str | None = None
    timestamp: str | None = Field(None, description="ISO 8601; defaults to now.")
    source: str | None = Field(None, description="API (default) or ANNOTATION.")


class ScoreConfigCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    dataType: str
    isArchived: bool | None = None
    minValue: float | None = None
    maxValue: float | None = None
    categories: list[dict[str, Any]] | None = None
    description: str | None = None


class ScoreConfigUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    isArchived: bool | None = None
    minValue: float | None = None
    maxValue: float | None = None
    categories: list[dict[str, Any]] | None = None
    description: str | None = None
