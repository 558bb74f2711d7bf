"""Pydantic shapes of the metrics endpoints, for the OpenAPI document and the tests."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from interactiveai.server.api.models import Meta


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DailyUsage(_Out):
    model: str | None
    inputUsage: int
    outputUsage: int
    totalUsage: int
    countObservations: int
    countTraces: int
    totalCost: float


class DailyMetric(_Out):
    date: str = Field(description="The UTC day, YYYY-MM-DD.")
    countTraces: int
    countObservations: int = Field(description="Observations of the day's traces.")
    totalCost: float = Field(description="USD, the day's traces.")
    usage: list[DailyUsage] = Field(description="Per model, observations that started that day.")


class DailyMetrics(_Out):
    data: list[DailyMetric]
    meta: Meta


class MetricsResult(_Out):
    data: list[dict[str, Any]] = Field(
        description='One row per group: dimensions by field name, "time_dimension" (ISO) when asked, and '
        '"<aggregation>_<measure>" per metric. Latency and timeToFirstToken in milliseconds, costs in USD.'
    )
