"""Records → API JSON (camelCase, ISO-8601 times, seconds for durations).

Plain dict builders rather than pydantic instances: the trace detail endpoint serialises
thousands of observations and must stay well inside its latency budget.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from interactiveai.server.clock import us_to_iso
from interactiveai.server.json_values import dumps
from interactiveai.server.query.records import Observation, Score, Session, Trace
from interactiveai.server.query.score_configs import ScoreConfig

TRACE_FIELD_GROUPS = ("core", "io", "scores", "observations", "metrics")
"""``fields`` groups of the trace list; ``core`` is always included."""


def html_path(project_id: str, trace_id: str) -> str:
    return f"/project/{project_id}/traces/{trace_id}"


def trace_json(
    trace: Trace,
    *,
    observations: list[Any] | None = None,
    scores: list[Any] | None = None,
    fields: Collection[str] = TRACE_FIELD_GROUPS,
) -> dict[str, Any]:
    """A trace object. ``observations``/``scores`` are ids (lists) or full objects (detail)."""
    with_io = "io" in fields
    with_metrics = "metrics" in fields
    return {
        "id": trace.id,
        "projectId": trace.project_id,
        "timestamp": us_to_iso(trace.timestamp_us),
        "name": trace.name,
        "input": trace.input if with_io else None,
        "output": trace.output if with_io else None,
        "userId": trace.user_id,
        "sessionId": trace.session_id,
        "release": trace.release,
        "version": trace.version,
        "environment": trace.environment,
        "tags": trace.tags,
        "metadata": trace.metadata if with_io else None,
        "public": trace.public,
        "bookmarked": trace.bookmarked,
        # -1 marks "not requested", as the reference API does for excluded metrics.
        "latency": trace.latency_seconds if with_metrics else -1,
        "totalCost": (trace.total_cost or 0.0) if with_metrics else -1,
        "inputCost": trace.input_cost or 0.0,
        "outputCost": trace.output_cost or 0.0,
        "inputTokens": trace.input_tokens,
        "outputTokens": trace.output_tokens,
        "totalTokens": trace.total_tokens,
        "observationCount": trace.observation_count,
        "level": trace.level,
        "levelCounts": trace.level_counts,
        "observations": (observations or []) if "observations" in fields else [],
        "scores": (scores or []) if "scores" in fields else [],
        "htmlPath": html_path(trace.project_id, trace.id),
        "externalId": None,
        "createdAt": us_to_iso(trace.created_at_us),
        "updatedAt": us_to_iso(trace.updated_at_us),
    }


def observation_json(obs: Observation) -> dict[str, Any]:
    return {
        "id": obs.id,
        "traceId": obs.trace_id,
        "projectId": obs.project_id,
        "parentObservationId": obs.parent_observation_id,
        "type": obs.type,
        "name": obs.name,
        "startTime": us_to_iso(obs.start_time_us),
        "endTime": us_to_iso(obs.end_time_us),
        "completionStartTime": us_to_iso(obs.completion_start_time_us),
        "level": obs.level,
        "statusMessage": obs.status_message,
        "version": obs.version,
        "environment": obs.environment,
        "input": obs.input,
        "output": obs.output,
        "metadata": obs.metadata,
        "model": obs.model,
        "modelParameters": model_parameters_json(obs.model_parameters),
        "modelId": obs.matched_model_id,
        "usageDetails": obs.usage_details,
        "costDetails": obs.cost_details,
        "usage": {"input": obs.input_tokens, "output": obs.output_tokens, "total": obs.total_tokens, "unit": "TOKENS"},
        "inputUsage": obs.input_tokens,
        "outputUsage": obs.output_tokens,
        "totalUsage": obs.total_tokens,
        "promptTokens": obs.input_tokens,
        "completionTokens": obs.output_tokens,
        "totalTokens": obs.total_tokens,
        "inputCost": obs.input_cost,
        "outputCost": obs.output_cost,
        "totalCost": obs.total_cost,
        "calculatedInputCost": obs.input_cost,
        "calculatedOutputCost": obs.output_cost,
        "calculatedTotalCost": obs.total_cost,
        "latency": obs.latency_seconds,
        "timeToFirstToken": obs.time_to_first_token_seconds,
        "createdAt": us_to_iso(obs.created_at_us),
    }


def model_parameters_json(parameters: Any) -> Any:
    """A model's parameters with each value as text (``0.7`` → ``"0.7"``, ``true`` → ``"true"``,
    an object as its JSON), as the reference API returns them: its clients read them as strings."""
    if not isinstance(parameters, dict):
        return parameters
    return {key: value if isinstance(value, str) else dumps(value) for key, value in parameters.items()}


def score_json(score: Score) -> dict[str, Any]:
    return {
        "id": score.id,
        "projectId": score.project_id,
        "traceId": score.trace_id,
        "observationId": score.observation_id,
        "sessionId": score.session_id,
        "datasetRunId": score.dataset_run_id,
        "name": score.name,
        # A categorical score without a config has no numeric value: 0, as the reference answers
        # (its clients require a number there).
        "value": 0.0 if score.value is None and score.data_type == "CATEGORICAL" else score.value,
        "stringValue": score.string_value,
        "dataType": score.data_type,
        "source": score.source,
        "comment": score.comment,
        "metadata": score.metadata,
        "configId": score.config_id,
        "authorUserId": score.author_user_id,
        "queueId": None,
        "environment": score.environment,
        "timestamp": us_to_iso(score.timestamp_us),
        "createdAt": us_to_iso(score.created_at_us),
        "updatedAt": us_to_iso(score.updated_at_us),
    }


def session_json(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "projectId": session.project_id,
        "environment": session.environment,
        "createdAt": us_to_iso(session.created_at_us),
        "lastTraceAt": us_to_iso(session.last_trace_at_us),
        "traceCount": session.trace_count,
        "userIds": session.user_ids,
        "totalCost": session.total_cost or 0.0,
        "inputTokens": session.input_tokens,
        "outputTokens": session.output_tokens,
        "totalTokens": session.total_tokens,
        "durationSeconds": session.duration_seconds,
    }


def score_config_json(config: ScoreConfig) -> dict[str, Any]:
    return {
        "id": config.id,
        "projectId": config.project_id,
        "name": config.name,
        "dataType": config.data_type,
        "isArchived": config.is_archived,
        "minValue": config.min_value,
        "maxValue": config.max_value,
        "categories": config.categories,
        "description": config.description,
        "createdAt": us_to_iso(config.created_at_us),
        "updatedAt": us_to_iso(config.updated_at_us),
    }
