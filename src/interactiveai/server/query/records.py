"""The plain records query functions return, and the row → record mappers.

Times are integer microseconds (UTC) like the storage; JSON columns are parsed. Costs keep
``None`` for "unknown" (no price and none provided), distinct from a real 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from interactiveai.server.query._db import load_json, load_json_list, load_json_object, record_from_row

LEVELS = ("DEBUG", "DEFAULT", "WARNING", "ERROR")
"""Levels from least to most severe; a trace's level is the worst of its observations."""


@dataclass(frozen=True, slots=True)
class Trace:
    id: str
    project_id: str
    timestamp_us: int
    end_time_us: int | None
    name: str | None
    user_id: str | None
    session_id: str | None
    environment: str
    release: str | None
    version: str | None
    tags: list[str]
    metadata: dict[str, Any]
    input: Any
    output: Any
    public: bool
    bookmarked: bool
    latency_us: int | None
    observation_count: int
    level: str
    level_counts: dict[str, int]
    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_cost: float | None
    output_cost: float | None
    total_cost: float | None
    root_observation_id: str | None
    created_at_us: int
    updated_at_us: int
    io_loaded: bool = True  # False when the list was asked not to read input/output/metadata

    @property
    def latency_seconds(self) -> float | None:
        return None if self.latency_us is None else self.latency_us / 1_000_000


@dataclass(frozen=True, slots=True)
class Observation:
    id: str
    trace_id: str
    project_id: str
    parent_observation_id: str | None
    type: str
    name: str | None
    start_time_us: int
    end_time_us: int | None
    completion_start_time_us: int | None
    level: str
    status_message: str | None
    version: str | None
    environment: str
    input: Any
    output: Any
    metadata: dict[str, Any]
    model: str | None
    model_parameters: Any
    usage_details: dict[str, Any]
    cost_details: dict[str, Any]
    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_cost: float | None
    output_cost: float | None
    total_cost: float | None
    cost_source: str | None
    matched_model_id: str | None
    service_name: str | None
    scope_name: str | None
    created_at_us: int

    @property
    def latency_seconds(self) -> float | None:
        if self.end_time_us is None:
            return None
        return max(self.end_time_us - self.start_time_us, 0) / 1_000_000

    @property
    def time_to_first_token_seconds(self) -> float | None:
        if self.completion_start_time_us is None:
            return None
        return max(self.completion_start_time_us - self.start_time_us, 0) / 1_000_000


@dataclass(frozen=True, slots=True)
class Score:
    id: str
    project_id: str
    trace_id: str | None
    observation_id: str | None
    session_id: str | None
    dataset_run_id: str | None
    name: str
    value: float | None
    string_value: str | None
    data_type: str
    source: str
    comment: str | None
    metadata: dict[str, Any]
    config_id: str | None
    author_user_id: str | None
    environment: str
    timestamp_us: int
    created_at_us: int
    updated_at_us: int


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    project_id: str
    environment: str
    created_at_us: int  # timestamp of the first trace
    last_trace_at_us: int
    end_time_us: int  # latest trace end (or start when the end is unknown)
    trace_count: int
    user_ids: list[str]
    input_tokens: int
    output_tokens: int
    total_tokens: int
    total_cost: float | None

    @property
    def duration_seconds(self) -> float:
        return max(self.end_time_us - self.created_at_us, 0) / 1_000_000


@dataclass(frozen=True, slots=True)
class User:
    id: str
    first_seen_us: int
    last_seen_us: int
    trace_count: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    total_cost: float | None


@dataclass(frozen=True, slots=True)
class TraceDetail:
    """One trace with everything under it: observations by start time and its scores."""

    trace: Trace
    observations: list[Observation] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)


# Traces and observations are mapped field by field, not with record_from_row: they are the hot
# path (a list maps up to 1,000 rows), where naming each field is about a quarter faster.


def trace_from_row(row: Mapping[Any, Any], *, with_io: bool = True) -> Trace:
    return Trace(
        id=row["id"],
        project_id=row["project_id"],
        timestamp_us=row["timestamp_us"],
        end_time_us=row["end_time_us"],
        name=row["name"],
        user_id=row["user_id"],
        session_id=row["session_id"],
        environment=row["environment"],
        release=row["release"],
        version=row["version"],
        tags=[str(t) for t in load_json_list(row["tags"])],
        metadata=load_json_object(row["metadata"]) if with_io else {},
        input=load_json(row["input"]) if with_io else None,
        output=load_json(row["output"]) if with_io else None,
        public=bool(row["public"]),
        bookmarked=bool(row["bookmarked"]),
        latency_us=row["latency_us"],
        observation_count=row["observation_count"],
        level=row["level"],
        level_counts={
            "DEBUG": row["debug_count"],
            "DEFAULT": row["default_count"],
            "WARNING": row["warning_count"],
            "ERROR": row["error_count"],
        },
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        total_tokens=row["total_tokens"],
        input_cost=row["input_cost"],
        output_cost=row["output_cost"],
        total_cost=row["total_cost"],
        root_observation_id=row["root_observation_id"],
        created_at_us=row["created_at_us"],
        updated_at_us=row["updated_at_us"],
        io_loaded=with_io,
    )


def observation_from_row(row: Mapping[Any, Any]) -> Observation:
    return Observation(
        id=row["id"],
        trace_id=row["trace_id"],
        project_id=row["project_id"],
        parent_observation_id=row["parent_observation_id"],
        type=row["type"],
        name=row["name"],
        start_time_us=row["start_time_us"],
        end_time_us=row["end_time_us"],
        completion_start_time_us=row["completion_start_time_us"],
        level=row["level"],
        status_message=row["status_message"],
        version=row["version"],
        environment=row["environment"],
        input=load_json(row["input"]),
        output=load_json(row["output"]),
        metadata=load_json_object(row["metadata"]),
        model=row["model"],
        model_parameters=load_json(row["model_parameters"]),
        usage_details=load_json_object(row["usage_details"]),
        cost_details=load_json_object(row["cost_details"]),
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        total_tokens=row["total_tokens"],
        input_cost=row["input_cost"],
        output_cost=row["output_cost"],
        total_cost=row["total_cost"],
        cost_source=row["cost_source"],
        matched_model_id=row["matched_model_id"],
        service_name=row["service_name"],
        scope_name=row["scope_name"],
        created_at_us=row["created_at_us"],
    )


def score_from_row(row: Mapping[Any, Any]) -> Score:
    return record_from_row(Score, row, metadata=load_json_object(row["metadata"]), value=finite(row["value"]))


def finite(value: float | None) -> float | None:
    """A stored float as readers can write it: NaN and infinities (rows of older versions; the API
    refuses them) read as None, like a missing value, since JSON has no such numbers."""
    return value if value is None or math.isfinite(value) else None
