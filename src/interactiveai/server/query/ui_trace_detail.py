"""Trace-detail reads for the web UI: a compact observation table (no payloads) and on-demand payloads.

A trace of 10,000 observations must open instantly, so the detail page gets one row per
observation with only what the tree and the timeline draw (ids, parent, type, name, times, level,
model, cost, tokens), as arrays rather than objects, and the trace header without its payloads.
(The query layer's ``get_trace_detail`` reads every payload.) Inputs, outputs and metadata are
read one observation at a time, with the query layer's ``get_observation``, when selected.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from interactiveai.server.query._db import load_json_list
from interactiveai.server.storage.schema import START_TIME_IN_TRACE, models, observations, observations_of_trace, traces

MAX_OBSERVATIONS = 20_000  # beyond this the page shows a truncation notice

COMPACT_COLUMNS = [
    "id",
    "parent",  # row index of the parent in this list (null: a root, or a parent not in the trace)
    "type",
    "name",
    "start",
    "end",
    "completion_start",
    "level",
    "model",
    "cost",
    "tokens",
    "has_status",
]


def get_trace_header(engine: Engine, project_id: str, trace_id: str) -> dict[str, Any] | None:
    """The trace's own fields and roll-ups, without input/output/metadata."""
    skip = {"input", "output", "metadata"}
    columns = [c for c in traces.c if c.name not in skip]
    query = select(*columns).where(traces.c.project_id == project_id, traces.c.id == trace_id)
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        return None
    header = dict(row)
    header["tags"] = [str(tag) for tag in load_json_list(header.get("tags"))]
    return header


def get_compact_observations(
    engine: Engine, project_id: str, trace_id: str, limit: int = MAX_OBSERVATIONS
) -> tuple[list[list[Any]], int]:
    """Rows in COMPACT_COLUMNS order, by start time; and the total number of observations."""
    query = (
        select(
            observations.c.id,
            observations.c.parent_observation_id,
            observations.c.type,
            observations.c.name,
            observations.c.start_time_us,
            observations.c.end_time_us,
            observations.c.completion_start_time_us,
            observations.c.level,
            observations.c.model,
            observations.c.total_cost,
            observations.c.total_tokens,
            observations.c.status_message.is_not(None),
        )
        .where(observations_of_trace(project_id, trace_id))
        .order_by(START_TIME_IN_TRACE, observations.c.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = [list(r) for r in conn.execute(query)]
        total = len(rows)
        if total >= limit:
            count_query = select(func.count()).where(observations_of_trace(project_id, trace_id))
            total = int(conn.execute(count_query).scalar_one())
    # Parents as row indexes, not 16-hex ids: 10,000 observations weigh ~160 kB less.
    index = {row[0]: i for i, row in enumerate(rows)}
    for row in rows:
        row[1] = index.get(row[1]) if row[1] is not None else None
        row[11] = bool(row[11])
    return rows, total


# What each stored ``cost_source`` (costs/calculator.py) means. The two budget ones: the project's
# name-matching budget (costs/budget.py) was spent when the observation arrived, so its own model
# definitions were not (all) searched for this name; the cost stored then is never recomputed.
COST_SOURCES = {
    "provided": "provided by the client",
    "project_model": "project model",
    "catalog": "catalog",
    "catalog_over_budget": "catalog price (custom model matching deferred: project over its matching budget)",
    "over_budget": "no price (custom model matching deferred: project over its matching budget)",
}


def describe_cost_source(
    engine: Engine, project_id: str, cost_source: str | None, matched_model_id: str | None
) -> dict[str, Any]:
    """Which price an observation's cost came from, in words, with the matched model's name.

    ``project_model`` names the project's definition (it may have been deleted since: then only
    its id is known); ``catalog`` ids are ``provider/model`` refs of the packaged catalog.
    """
    name: str | None = None
    if matched_model_id and cost_source in ("project_model", "provided"):
        query = select(models.c.model_name).where(models.c.project_id == project_id, models.c.id == matched_model_id)
        with engine.connect() as conn:
            name = conn.execute(query).scalar()
    if name is None and matched_model_id and "/" in matched_model_id:
        name = matched_model_id.split("/", 1)[1]
    label = COST_SOURCES.get(cost_source or "", None)
    if cost_source == "project_model":
        label = f"project model {name}" if name else "project model (since deleted)"
    return {
        "source": cost_source,
        "label": label or "no price known",
        "matchedModelId": matched_model_id,
        "matchedModelName": name,
    }
