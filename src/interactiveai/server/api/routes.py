"""The public REST API under /api/public: one router module per resource, assembled here.

The models router (/api/public/models) belongs to the costs module and is mounted there.
Every route here refuses a NUL character in its path or query parameters (``common.text_params``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from interactiveai.server.api import (
    annotation_queues,
    comments,
    datasets,
    experiments,
    health,
    ingestion_batch,
    metrics,
    observations,
    observations_v2,
    projects,
    score_configs,
    scores,
    scores_v3,
    sessions,
    trace_deletion,
    traces,
)
from interactiveai.server.api.common import text_params

router = APIRouter(prefix="/api/public", dependencies=[Depends(text_params)])
for _module in (
    health,
    projects,
    traces,
    trace_deletion,
    observations,
    observations_v2,
    sessions,
    scores,
    scores_v3,
    score_configs,
    datasets,
    experiments,
    comments,
    annotation_queues,
    metrics,
    ingestion_batch,
):
    router.include_router(_module.router)
