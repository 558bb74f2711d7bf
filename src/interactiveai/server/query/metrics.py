"""Dashboard metrics: volume, cost, tokens, latency percentiles, errors, users and scores of a window."""

from __future__ import annotations

from interactiveai.server.query.metrics_exact import (
    LATENCY_FRACTIONS,
    Dashboard,
    LatencyPoint,
    ModelPoint,
    ModelUsage,
    ScoreSummary,
    Summary,
    UserCost,
    VolumePoint,
    dashboard,
    environments,
    generation_latency,
    latency_series,
    model_series,
    model_usage,
    score_summary,
    summary,
    top_users,
    volume_series,
)

__all__ = [
    "LATENCY_FRACTIONS",
    "Dashboard",
    "LatencyPoint",
    "ModelPoint",
    "ModelUsage",
    "ScoreSummary",
    "Summary",
    "UserCost",
    "VolumePoint",
    "dashboard",
    "environments",
    "generation_latency",
    "latency_series",
    "model_series",
    "model_usage",
    "score_summary",
    "summary",
    "top_users",
    "volume_series",
]
