"""Pydantic models of the trace, observation and session endpoints' JSON: the OpenAPI document and the tests use them.

Wire names are camelCase (see ``api/models.py``); output models forbid extra fields, so a test
that validates a response catches drift between the serialisers and the documentation.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from interactiveai.server.api.models import Meta
from interactiveai.server.api.scores_models import Score


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
