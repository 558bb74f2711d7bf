"""Seed rows straight into the schema (what ingestion will write), for query and API tests.

Helpers take keyword overrides so each test states only what it is about. Like every writer, each
marks the hour it changed dirty for the roll-ups (``rollups/dirty.py``), so the metrics read it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, insert, select

from interactiveai.server.rollups.dirty import mark_dirty
from interactiveai.server.storage.schema import observations, scores, trace_tags, traces

__test__ = False

T0 = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z in µs
SECOND = 1_000_000


def trace_id(n: int) -> str:
    return f"{n:032x}"


def obs_id(n: int) -> str:
    return f"{n:016x}"


def add_trace(engine: Engine, project_id: str, tid: str, **values: Any) -> dict[str, Any]:
    ts = values.pop("timestamp_us", T0)
    latency_us = values.pop("latency_us", SECOND)
    tags = sorted(set(values.pop("tags", [])))
    row: dict[str, Any] = {
        "project_id": project_id,
        "id": tid,
        "timestamp_us": ts,
        "end_time_us": ts + latency_us if latency_us is not None else None,
        "latency_us": latency_us,
        "name": "trace",
        "environment": "default",
        "tags": json.dumps(tags),
        "metadata": "{}",
        "created_at_us": ts,
        "updated_at_us": ts,
    }
    for key in ("input", "output", "metadata"):
        if key in values and not isinstance(values[key], str | type(None)):
            values[key] = json.dumps(values[key])
    row.update(values)
    with engine.begin() as conn:
        conn.execute(insert(traces).values(**row))
        mark_dirty(conn, [(project_id, row["timestamp_us"])])
        for tag in tags:
            conn.execute(
                insert(trace_tags).values(
                    project_id=project_id, tag=tag, trace_id=tid, trace_created_at_us=row["created_at_us"]
                )
            )
    return row


def add_observation(engine: Engine, project_id: str, tid: str, oid: str, **values: Any) -> dict[str, Any]:
    start = values.pop("start_time_us", T0)
    row: dict[str, Any] = {
        "project_id": project_id,
        "trace_id": tid,
        "id": oid,
        "type": "SPAN",
        "name": "span",
        "start_time_us": start,
        "end_time_us": start + SECOND // 2,
        "level": "DEFAULT",
        "environment": "default",
        "metadata": "{}",
        "usage_details": "{}",
        "cost_details": "{}",
        "created_at_us": start,
    }
    for key in ("input", "output", "metadata", "model_parameters", "usage_details", "cost_details"):
        if key in values and not isinstance(values[key], str | type(None)):
            values[key] = json.dumps(values[key])
    row.update(values)
    with engine.begin() as conn:
        if "trace_created_at_us" not in row:  # part of the key: the trace row's creation time
            created = select(traces.c.created_at_us).where(traces.c.project_id == project_id, traces.c.id == tid)
            row["trace_created_at_us"] = conn.execute(created).scalar() or 0
        conn.execute(insert(observations).values(**row))
        mark_dirty(conn, [(project_id, row["start_time_us"])])
    return row


def add_score(engine: Engine, project_id: str, sid: str, **values: Any) -> dict[str, Any]:
    ts = values.pop("timestamp_us", T0)
    row: dict[str, Any] = {
        "project_id": project_id,
        "id": sid,
        "name": "quality",
        "value": 1.0,
        "data_type": "NUMERIC",
        "source": "API",
        "metadata": "{}",
        "environment": "default",
        "timestamp_us": ts,
        "created_at_us": ts,
        "updated_at_us": ts,
    }
    if "metadata" in values and not isinstance(values["metadata"], str):
        values["metadata"] = json.dumps(values["metadata"])
    row.update(values)
    with engine.begin() as conn:
        conn.execute(insert(scores).values(**row))
        mark_dirty(conn, [(project_id, row["timestamp_us"])])
    return row
