"""Trace list and trace detail pages, each with its JSON twin built from the same query calls."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import QueryParams

from interactiveai.server.query import ui_trace_detail as detail
from interactiveai.server.query.datasets import list_datasets
from interactiveai.server.query.filters import ScoreFilter
from interactiveai.server.query.observations import get_observation
from interactiveai.server.query.pagination import MAX_LIMIT
from interactiveai.server.query.scores import list_scores
from interactiveai.server.query.traces import get_trace
from interactiveai.server.query.ui_traces import TracePage, filter_options, list_trace_page, scores_for_traces
from interactiveai.server.ui.auth import Access, NotFoundPage, project_access
from interactiveai.server.ui.filters import COLUMNS, RANGES, ListState
from interactiveai.server.ui.formatting import iso_time, preview
from interactiveai.server.ui.manage import can_manage, notice_from
from interactiveai.server.ui.pages import json_response, render
from interactiveai.server.ui.views_comments import trace_comments_data
from interactiveai.server.ui.views_review import queue_choices
from interactiveai.server.ui.views_scores import annotation_extras
from interactiveai.server.ui.views_trace_actions import list_state, trace_page_extras

router = APIRouter(include_in_schema=False)


def _list(request: Request, project_id: str) -> tuple[Access, ListState, TracePage, dict[str, list[dict[str, Any]]]]:
    access = project_access(request, project_id)
    # the flash notice's parameters are not filters: links and the JSON twin must not carry them
    params = QueryParams([(k, v) for k, v in request.query_params.multi_items() if k not in ("notice", "n", "d")])
    state = list_state(params)
    engine = request.app.state.engine
    page = list_trace_page(
        engine,
        project_id,
        state.filter,
        sort=state.sort,
        descending=state.descending,
        cursor=state.cursor,
        limit=state.limit,
    )
    trace_scores = scores_for_traces(engine, project_id, [r["id"] for r in page.rows])
    return access, state, page, trace_scores


def trace_json(row: dict[str, Any], project_id: str) -> dict[str, Any]:
    """A trace row (list or header) in the JSON twins' camelCase shape."""
    latency = row.get("latency_us")
    data: dict[str, Any] = {
        "id": row["id"],
        "timestamp": iso_time(row["timestamp_us"]),
        "name": row.get("name"),
        "userId": row.get("user_id"),
        "sessionId": row.get("session_id"),
        "environment": row.get("environment"),
        "release": row.get("release"),
        "version": row.get("version"),
        "tags": row.get("tags", []),
        "latency": None if latency is None else latency / 1_000_000,
        "level": row.get("level"),
        "levelCounts": {
            "DEBUG": row.get("debug_count", 0),
            "DEFAULT": row.get("default_count", 0),
            "WARNING": row.get("warning_count", 0),
            "ERROR": row.get("error_count", 0),
        },
        "observationCount": row.get("observation_count"),
        "inputTokens": row.get("input_tokens"),
        "outputTokens": row.get("output_tokens"),
        "totalTokens": row.get("total_tokens"),
        "inputCost": row.get("input_cost"),
        "outputCost": row.get("output_cost"),
        "totalCost": row.get("total_cost"),
        "bookmarked": bool(row.get("bookmarked")),
        "htmlPath": f"/project/{project_id}/traces/{row['id']}",
    }
    if "input_preview" in row:
        data["inputPreview"] = preview(row["input_preview"])
        data["outputPreview"] = preview(row["output_preview"])
    return data


def score_json(score: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": score.get("id"),
        "observationId": score.get("observation_id"),
        "name": score["name"],
        "value": score.get("value"),
        "stringValue": score.get("string_value"),
        "dataType": score.get("data_type"),
        "source": score.get("source"),
        "comment": score.get("comment"),
        "timestamp": iso_time(score["timestamp_us"]) if score.get("timestamp_us") else None,
    }


@router.get("/project/{project_id}")
def project_home(request: Request, project_id: str) -> Response:
    project_access(request, project_id)
    return RedirectResponse(f"/project/{project_id}/traces", status_code=303)


@router.get("/project/{project_id}/traces.json")
def traces_json(request: Request, project_id: str) -> Response:
    _access, state, page, trace_scores = _list(request, project_id)
    data = []
    for row in page.rows:
        item = trace_json(row, project_id)
        item["scores"] = [score_json(s) for s in trace_scores.get(row["id"], [])]
        data.append(item)
    meta = {
        "limit": state.limit,
        "nextCursor": page.next_cursor,
        "prevCursor": page.prev_cursor,
        # exact up to 1,000 matching traces; past that a lower bound (1,001), as the API's meta
        "totalItems": page.total,
        "totalExact": page.total_exact,
    }
    return json_response(request, {"data": data, "meta": meta, "errors": state.errors})


@router.get("/project/{project_id}/traces")
def traces_page(request: Request, project_id: str) -> Response:
    access, state, page, trace_scores = _list(request, project_id)
    base = f"/project/{project_id}/traces"
    options = _cached_options(request, project_id, state)
    # a selected value missing from the recent sample must stay selectable, or Apply would drop it
    options["environments"] = sorted(set(options["environments"]) | set(state.filter.environments))
    if state.filter.score is not None and state.filter.score.name not in options["scores"]:
        options["scores"] = sorted([*options["scores"], state.filter.score.name])
    return render(
        request,
        "traces.html",
        {
            "access": access,
            "section": "traces",
            "state": state,
            "base": base,
            "rows": page.rows,
            "total": page.total,
            "total_exact": page.total_exact,
            "scores": trace_scores,
            "next_url": state.url(base, cursor=page.next_cursor) if page.next_cursor else None,
            "prev_url": state.url(base, cursor=page.prev_cursor) if page.prev_cursor else None,
            "json_url": state.url(base + ".json", cursor=state.cursor),
            "columns": COLUMNS,
            "ranges": list(RANGES),
            "options": options,
            "notice": notice_from(request),
            "can_manage": can_manage(request, access),
            "queue_choices": queue_choices(request, project_id) if can_manage(request, access) else [],
            "dataset_choices": dataset_choices(request, project_id) if can_manage(request, access) else [],
        },
    )


def dataset_choices(request: Request, project_id: str) -> list[dict[str, str]]:
    """The project's datasets for the list's "Add to dataset" (the newest 100)."""
    return [{"id": d.id, "name": d.name} for d in list_datasets(request.app.state.engine, project_id, limit=100).items]


_OPTIONS_TTL = 30.0  # seconds; suggestions may lag new names/tags by this much


def _cached_options(request: Request, project_id: str, state: ListState) -> dict[str, list[str]]:
    """Filter suggestions, cached per project and time-range preset (they cost a 2,000-row read)."""
    key = (project_id, state.range if state.range != "custom" else f"custom:{state.filter.from_us}")
    now = time.monotonic()
    options_cache: dict[tuple[str, str], tuple[float, dict[str, list[str]]]] = request.app.state.ui_options_cache
    hit = options_cache.get(key)
    if hit is not None and now - hit[0] < _OPTIONS_TTL:
        return {k: list(v) for k, v in hit[1].items()}
    options = filter_options(request.app.state.engine, project_id, state.filter.from_us)
    if len(options_cache) > 1000:
        options_cache.clear()
    options_cache[key] = (now, options)
    return {k: list(v) for k, v in options.items()}


def _detail_data(request: Request, project_id: str, trace_id: str) -> tuple[Access, dict[str, Any]]:
    access = project_access(request, project_id)
    engine = request.app.state.engine
    header = detail.get_trace_header(engine, project_id, trace_id)
    if header is None:
        raise NotFoundPage()
    rows, total = detail.get_compact_observations(engine, project_id, trace_id)
    base_us = header["timestamp_us"]
    for row in rows:  # times relative to the trace start: shorter JSON, and what the timeline draws
        row[4] = row[4] - base_us
        row[5] = None if row[5] is None else row[5] - base_us
        row[6] = None if row[6] is None else row[6] - base_us
    found = list_scores(engine, project_id, ScoreFilter(trace_id=trace_id), limit=MAX_LIMIT, with_total=False)
    scores = sorted((score_json(asdict(s)) for s in found.items), key=lambda s: s["timestamp"] or "")
    data = {
        "trace": {**trace_json(header, project_id), "endTime": iso_time(header.get("end_time_us"))},
        "baseTimeUs": base_us,
        "durationUs": header.get("latency_us") or 0,
        "scores": scores,
        "comments": trace_comments_data(request, access, trace_id, [row[0] for row in rows]),
        "observations": {"columns": detail.COMPACT_COLUMNS, "rows": rows},
        "observationTotal": total,
        "truncated": total > len(rows),
        "payloadUrl": f"/project/{project_id}/traces/{trace_id}/observations/",
        "traceIoUrl": f"/project/{project_id}/traces/{trace_id}/io.json",
    }
    return access, data


@router.get("/project/{project_id}/traces/{trace_id}.json")
def trace_detail_json(request: Request, project_id: str, trace_id: str) -> Response:
    _access, data = _detail_data(request, project_id, trace_id)
    return json_response(request, data)


@router.get("/project/{project_id}/traces/{trace_id}/io.json")
def trace_io_json(request: Request, project_id: str, trace_id: str) -> Response:
    project_access(request, project_id)
    trace = get_trace(request.app.state.engine, project_id, trace_id)
    if trace is None:
        raise NotFoundPage()
    return json_response(request, {"input": trace.input, "output": trace.output, "metadata": trace.metadata})


@router.get("/project/{project_id}/traces/{trace_id}/observations/{observation_id}.json")
def observation_json(request: Request, project_id: str, trace_id: str, observation_id: str) -> Response:
    project_access(request, project_id)
    found = get_observation(request.app.state.engine, project_id, observation_id, trace_id=trace_id)
    if found is None:
        raise NotFoundPage()
    obs = asdict(found)
    obs.pop("project_id", None)
    for key in ("start_time_us", "end_time_us", "completion_start_time_us", "created_at_us"):
        obs[key.removesuffix("_us")] = iso_time(obs.pop(key))
    obs["cost_source_info"] = detail.describe_cost_source(
        request.app.state.engine, project_id, found.cost_source, found.matched_model_id
    )
    return json_response(request, obs)


@router.get("/project/{project_id}/traces/{trace_id}")
def trace_detail_page(request: Request, project_id: str, trace_id: str) -> Response:
    access, data = _detail_data(request, project_id, trace_id)
    header = data["trace"]
    return render(
        request,
        "trace.html",
        {
            "access": access,
            "section": "traces",
            "trace": header,
            "data": data,
            "trace_scores": [s for s in data["scores"] if not s["observationId"]],
            "selected": request.query_params.get("observation") or "",
            **trace_page_extras(request, access, trace_id),
            **annotation_extras(request, access),
        },
    )
