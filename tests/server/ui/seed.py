"""Seed traces, observations and scores straight into the schema (rows as ingestion would write them)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Engine, insert

from interactiveai.server.rollups.dirty import mark_dirty
from interactiveai.server.storage.schema import observations, scores, trace_tags, traces

__test__ = False

LEVEL_ORDER = {"DEBUG": 0, "DEFAULT": 1, "WARNING": 2, "ERROR": 3}


def tid(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def oid(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:16]


def obs(
    obs_id: str,
    *,
    parent: str | None = None,
    type: str = "SPAN",
    name: str = "step",
    start: int = 0,
    end: int | None = 1000,
    level: str = "DEFAULT",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": obs_id,
        "parent": parent,
        "type": type,
        "name": name,
        "start": start,
        "end": end,
        "level": level,
        **extra,
    }


def _text(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def add_trace(
    engine: Engine,
    project_id: str,
    trace_id: str,
    *,
    timestamp_us: int,
    name: str | None = "trace",
    user_id: str | None = None,
    session_id: str | None = None,
    environment: str = "default",
    tags: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    input: Any = None,
    output: Any = None,
    release: str | None = None,
    version: str | None = None,
    observations_: list[dict[str, Any]] | None = None,
    trace_scores: list[dict[str, Any]] | None = None,
) -> str:
    """Insert a trace with its observations, computing the roll-ups the way ingestion does."""
    obs_list = observations_ if observations_ is not None else [obs(oid(trace_id + "root"), name=name or "root")]
    tags = sorted(set(tags or []))
    counts = {lv: 0 for lv in LEVEL_ORDER}
    worst = "DEBUG"
    totals = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    costs: dict[str, float | None] = {"input_cost": None, "output_cost": None, "total_cost": None}
    end_max = timestamp_us
    obs_rows = []
    for o in obs_list:
        level = o["level"]
        counts[level] += 1
        if LEVEL_ORDER[level] > LEVEL_ORDER[worst]:
            worst = level
        usage = o.get("usage", {})
        cost = o.get("cost", {})
        in_t, out_t = int(usage.get("input", 0)), int(usage.get("output", 0))
        total_t = int(usage.get("total", in_t + out_t))
        totals["input_tokens"] += in_t
        totals["output_tokens"] += out_t
        totals["total_tokens"] += total_t
        obs_cost = {
            "input_cost": cost.get("input"),
            "output_cost": cost.get("output"),
            "total_cost": cost.get("total", (cost.get("input") or 0) + (cost.get("output") or 0)) if cost else None,
        }
        for key, value in obs_cost.items():
            if value is not None:
                costs[key] = (costs[key] or 0.0) + value
        start = timestamp_us + o["start"]
        end = None if o["end"] is None else timestamp_us + o["end"]
        end_max = max(end_max, end or start)
        obs_rows.append(
            {
                "project_id": project_id,
                "trace_id": trace_id,
                "id": o["id"],
                "parent_observation_id": o["parent"],
                "type": o["type"],
                "name": o["name"],
                "start_time_us": start,
                "end_time_us": end,
                "completion_start_time_us": None if o.get("ttft") is None else start + o["ttft"],
                "level": level,
                "status_message": o.get("status"),
                "environment": environment,
                "input": _text(o.get("input")),
                "output": _text(o.get("output")),
                "metadata": json.dumps(o.get("metadata", {})),
                "model": o.get("model"),
                "model_parameters": _text(o.get("params")),
                "usage_details": json.dumps(usage),
                "cost_details": json.dumps(cost),
                "input_tokens": in_t,
                "output_tokens": out_t,
                "total_tokens": total_t,
                **obs_cost,
                "cost_source": "provided" if cost else None,
                "created_at_us": timestamp_us,
                "trace_created_at_us": timestamp_us,  # the trace row's created_at_us below
            }
        )
    with engine.begin() as conn:
        conn.execute(
            insert(traces).values(
                project_id=project_id,
                id=trace_id,
                timestamp_us=timestamp_us,
                end_time_us=end_max,
                name=name,
                user_id=user_id,
                session_id=session_id,
                environment=environment,
                release=release,
                version=version,
                tags=json.dumps(tags),
                metadata=json.dumps(metadata or {}),
                input=_text(input),
                output=_text(output),
                root_observation_id=obs_list[0]["id"] if obs_list else None,
                latency_us=end_max - timestamp_us,
                observation_count=len(obs_list),
                level=worst,
                debug_count=counts["DEBUG"],
                default_count=counts["DEFAULT"],
                warning_count=counts["WARNING"],
                error_count=counts["ERROR"],
                **totals,
                **costs,
                created_at_us=timestamp_us,
                updated_at_us=timestamp_us,
            )
        )
        if tags:
            conn.execute(
                insert(trace_tags),
                [
                    {"project_id": project_id, "tag": t, "trace_id": trace_id, "trace_created_at_us": timestamp_us}
                    for t in tags
                ],
            )
        for start in range(0, len(obs_rows), 2000):
            conn.execute(insert(observations), obs_rows[start : start + 2000])
        # as ingestion does: the hours these rows touch are recomputed by the roll-ups, whose
        # readers otherwise take a whole clean hour (one not marked) as holding nothing
        mark_dirty(conn, [(project_id, timestamp_us), *((project_id, o["start_time_us"]) for o in obs_rows)])
        for i, s in enumerate(trace_scores or []):
            conn.execute(
                insert(scores).values(
                    project_id=project_id,
                    id=s.get("id", f"{trace_id[:8]}-score-{i}"),
                    trace_id=trace_id,
                    observation_id=s.get("observation_id"),
                    name=s["name"],
                    value=s.get("value"),
                    string_value=s.get("string_value"),
                    data_type=s.get("data_type", "NUMERIC"),
                    source=s.get("source", "API"),
                    comment=s.get("comment"),
                    timestamp_us=timestamp_us,
                    created_at_us=timestamp_us,
                    updated_at_us=timestamp_us,
                )
            )
    return trace_id


def chat_trace(engine: Engine, project_id: str, seed: str, timestamp_us: int, **kwargs: Any) -> str:
    """A realistic trace: an agent span, a retriever, a generation with chat messages, a tool call."""
    trace_id = tid(seed)
    root, retr, gen, tool = (oid(seed + s) for s in ("root", "retr", "gen", "tool"))
    question = kwargs.pop("question", "What is the capital of France?")
    answer = kwargs.pop("answer", "The capital of France is Paris.")
    messages = [
        {"role": "system", "content": "You are a helpful geography assistant."},
        {"role": "user", "content": question},
    ]
    observations_ = [
        obs(
            root,
            type="AGENT",
            name="answer-question",
            start=0,
            end=1_450_000,
            input={"question": question},
            output={"answer": answer},
        ),
        obs(
            retr,
            parent=root,
            type="RETRIEVER",
            name="search-docs",
            start=20_000,
            end=220_000,
            input={"query": question},
            output=[{"doc": "France facts", "score": 0.92}],
        ),
        obs(
            gen,
            parent=root,
            type="GENERATION",
            name="chat-completion",
            start=250_000,
            end=1_300_000,
            ttft=400_000,
            model="gpt-4o-mini",
            params={"temperature": 0.2, "max_tokens": 256},
            input=messages,
            output={"role": "assistant", "content": answer},
            usage={"input": 120, "output": 18, "total": 138},
            cost={"input": 0.000018, "output": 0.0000108},
        ),
        obs(
            tool,
            parent=root,
            type="TOOL",
            name="lookup-population",
            start=1_310_000,
            end=1_440_000,
            input={"city": "Paris"},
            output={"population": 2102650},
        ),
    ]
    return add_trace(
        engine,
        project_id,
        trace_id,
        timestamp_us=timestamp_us,
        name=kwargs.pop("name", "qa-pipeline"),
        input={"question": question},
        output={"answer": answer},
        observations_=observations_,
        **kwargs,
    )
