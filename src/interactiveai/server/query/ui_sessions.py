"""The session replay of the web UI: a session's aggregates and its traces as conversation turns.

The query layer's ``sessions.get_session`` reads every trace row of the session with its full
payloads; the replay needs at most ``limit`` turns and only the first ``TURN_CHARS`` characters of
each input and output, so it reads exactly that (``substr`` in SQL) through the
``(project_id, session_id, timestamp_us)`` index.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from interactiveai.server.storage.schema import traces

TURN_CHARS = 20_000  # the replay shows at most this much of each trace's input and output


def _aggregates() -> list[Any]:
    return [
        func.count().label("trace_count"),
        func.min(traces.c.timestamp_us).label("first_us"),
        func.max(func.coalesce(traces.c.end_time_us, traces.c.timestamp_us)).label("last_us"),
        func.sum(traces.c.input_tokens).label("input_tokens"),
        func.sum(traces.c.output_tokens).label("output_tokens"),
        func.sum(traces.c.total_tokens).label("total_tokens"),
        func.sum(traces.c.input_cost).label("input_cost"),
        func.sum(traces.c.output_cost).label("output_cost"),
        func.sum(traces.c.total_cost).label("total_cost"),
        func.sum(traces.c.error_count).label("error_count"),
        func.sum(traces.c.warning_count).label("warning_count"),
    ]


def session_replay(engine: Engine, project_id: str, session_id: str, limit: int = 500) -> dict[str, Any] | None:
    """A session's aggregates and its first ``limit`` traces in time order, with payload prefixes."""
    where = [traces.c.project_id == project_id, traces.c.session_id == session_id]
    with engine.connect() as conn:
        summary = conn.execute(select(*_aggregates()).where(*where)).mappings().first()
        if summary is None or not summary["trace_count"]:
            return None
        rows = conn.execute(
            select(
                traces.c.id,
                traces.c.timestamp_us,
                traces.c.name,
                traces.c.user_id,
                traces.c.level,
                traces.c.latency_us,
                traces.c.total_tokens,
                traces.c.total_cost,
                traces.c.observation_count,
                func.substr(traces.c.input, 1, TURN_CHARS).label("input"),
                func.substr(traces.c.output, 1, TURN_CHARS).label("output"),
                func.length(traces.c.input).label("input_length"),
                func.length(traces.c.output).label("output_length"),
            )
            .where(*where)
            .order_by(traces.c.timestamp_us, traces.c.id)
            .limit(limit)
        ).mappings()
        trace_rows = [dict(r) for r in rows]
    # PostgreSQL sums BIGINTs into NUMERIC (Decimal): plain ints and floats for the callers.
    data: dict[str, Any] = {
        k: (None if v is None else float(v) if k.endswith("_cost") else int(v)) for k, v in summary.items()
    }
    data["session_id"] = session_id
    data["duration_us"] = data["last_us"] - data["first_us"]
    data["traces"] = trace_rows
    data["truncated"] = data["trace_count"] > len(trace_rows)
    data["users"] = sorted({r["user_id"] for r in trace_rows if r["user_id"]})
    return data
