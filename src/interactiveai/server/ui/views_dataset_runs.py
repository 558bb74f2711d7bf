"""Experiment runs of a dataset: each run's aggregates on the dataset page, and a comparison of up to
four runs item by item (input, expected output, each run's output, scores, latency, cost, trace),
with what differs from the oldest of them (the baseline) highlighted. One run alone is that run's
page."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from interactiveai.server.query.dataset_runs import RunAnswer, RunSummary, run_answers, run_summaries
from interactiveai.server.query.datasets import (
    DatasetRun,
    get_dataset_by_id,
    get_dataset_runs_by_id,
    list_dataset_items,
    list_dataset_runs,
)
from interactiveai.server.ui.auth import Access, NotFoundPage, project_access
from interactiveai.server.ui.filters import page_number
from interactiveai.server.ui.formatting import fmt_cost, fmt_duration, iso_time, preview
from interactiveai.server.ui.pages import json_response, render

router = APIRouter(include_in_schema=False)
MAX_COMPARED = 4
ITEMS_PER_PAGE = 25
RUNS_LISTED = 50


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def summary_json(summary: RunSummary) -> dict[str, Any]:
    run = summary.run
    return {
        "id": run.id,
        "name": run.name,
        "description": run.description,
        "createdAt": iso_time(run.created_at_us),
        "items": summary.items,
        "tracesFound": summary.traces,
        "errors": summary.errors,
        "avgLatencyMs": None if summary.avg_latency_us is None else round(summary.avg_latency_us / 1000, 3),
        "avgLatencyText": fmt_duration(None if summary.avg_latency_us is None else int(summary.avg_latency_us)),
        "totalCost": summary.total_cost,
        "totalCostText": fmt_cost(summary.total_cost),
        "scores": [
            {"name": s.name, "count": s.count, "mean": s.mean, "categories": s.categories} for s in summary.scores
        ],
    }


def run_summaries_json(request: Request, project_id: str, runs: list[DatasetRun]) -> list[dict[str, Any]]:
    """The dataset page's runs with their aggregates (one query for all of them)."""
    return [summary_json(s) for s in run_summaries(request.app.state.engine, project_id, runs)]


def _answer_json(answer: RunAnswer | None, baseline: RunAnswer | None, expected: Any, project_id: str) -> Any:
    if answer is None:
        return None
    output = _text(answer.output)
    scores = []
    for name, value in answer.scores.items():
        base = baseline.scores.get(name) if baseline is not None and baseline is not answer else None
        trend = None
        if isinstance(value, int | float) and isinstance(base, int | float) and value != base:
            trend = "up" if value > base else "down"
        elif base is not None and value != base:
            trend = "changed"
        scores.append({"name": name, "value": value, "trend": trend})
    differs = baseline is not None and baseline is not answer and output != _text(baseline.output)
    trace_path = f"/project/{project_id}/traces/{quote(answer.trace_id, safe='')}"
    return {
        "traceId": answer.trace_id,
        "tracePath": trace_path if answer.found else None,
        "output": output,
        "outputPreview": preview(output) if answer.found else "",
        "matchesExpected": expected is not None and answer.found and output == _text(expected),
        "differsFromBaseline": differs,
        "level": answer.level,
        "latencyText": fmt_duration(answer.latency_us),
        "latencyMs": None if answer.latency_us is None else answer.latency_us / 1000,
        "cost": answer.total_cost,
        "costText": fmt_cost(answer.total_cost),
        "scores": scores,
        "found": answer.found,
    }


def compare_data(request: Request, access: Access, dataset_id: str) -> dict[str, Any]:
    engine = request.app.state.engine
    pid = access.project.id
    dataset = get_dataset_by_id(engine, pid, dataset_id)
    if dataset is None:
        raise NotFoundPage()
    choices = list_dataset_runs(engine, pid, dataset.id, limit=RUNS_LISTED).items
    wanted = list(dict.fromkeys(request.query_params.getlist("runs")))[:MAX_COMPARED]
    found = {r.id: r for r in get_dataset_runs_by_id(engine, pid, dataset.id, wanted)}
    if len(found) < len(wanted):  # a run of another dataset, or none at all
        raise NotFoundPage()
    runs = sorted((found[i] for i in wanted), key=lambda r: (r.created_at_us, r.id))  # the oldest is the baseline
    page_no = page_number(request.query_params.get("page"))
    items = list_dataset_items(engine, pid, dataset_id=dataset.id, page=page_no, limit=ITEMS_PER_PAGE)
    answers = run_answers(engine, pid, [r.id for r in runs], [i.id for i in items.items])
    rows = []
    for item in items.items:
        per_run = answers.get(item.id, {})
        baseline = per_run.get(runs[0].id) if runs else None
        rows.append(
            {
                "id": item.id,
                "input": _text(item.input),
                "inputPreview": preview(_text(item.input)),
                "expectedOutput": _text(item.expected_output),
                "expectedPreview": preview(_text(item.expected_output)),
                "runs": [_answer_json(per_run.get(r.id), baseline, item.expected_output, pid) for r in runs],
            }
        )
    return {
        "dataset": {"id": dataset.id, "name": dataset.name},
        "runs": [summary_json(s) for s in run_summaries(engine, pid, runs)],
        "choices": [{"id": r.id, "name": r.name, "createdAt": iso_time(r.created_at_us)} for r in choices],
        "items": rows,
        "meta": {"page": page_no, "limit": ITEMS_PER_PAGE, "totalItems": items.total or 0},
    }


@router.get("/project/{project_id}/datasets/{dataset_id}/compare.json")
def compare_json(request: Request, project_id: str, dataset_id: str) -> Response:
    return json_response(request, compare_data(request, project_access(request, project_id), dataset_id))


@router.get("/project/{project_id}/datasets/{dataset_id}/compare")
def compare_page(request: Request, project_id: str, dataset_id: str) -> Response:
    access = project_access(request, project_id)
    data = compare_data(request, access, dataset_id)
    meta = data["meta"]
    base = f"/project/{project_id}/datasets/{quote(dataset_id, safe='')}/compare"
    run_args = [("runs", r["id"]) for r in data["runs"]]

    def page_url(page: int) -> str:
        return f"{base}?{urlencode([*run_args, ('page', page)])}"

    return render(
        request,
        "dataset_compare.html",
        {
            "access": access,
            "section": "datasets",
            "data": data,
            "base": base,
            "selected": {r["id"] for r in data["runs"]},
            "max_compared": MAX_COMPARED,
            "args": {"page": meta["page"]},
            "total_text": f"{meta['totalItems']:,} item{'' if meta['totalItems'] == 1 else 's'}",
            "prev_url": page_url(meta["page"] - 1) if meta["page"] > 1 else None,
            "next_url": page_url(meta["page"] + 1) if meta["page"] * ITEMS_PER_PAGE < meta["totalItems"] else None,
            "json_url": f"{base}.json?{urlencode([*run_args, ('page', meta['page'])])}",
        },
    )


@router.get("/project/{project_id}/datasets/{dataset_id}/runs/{run_id}")
def run_page(request: Request, project_id: str, dataset_id: str, run_id: str) -> Response:
    """A run's page (the link the SDKs print after an experiment): the comparison with that run alone."""
    project_access(request, project_id)
    query = urlencode({"runs": run_id})
    return RedirectResponse(f"/project/{project_id}/datasets/{quote(dataset_id, safe='')}/compare?{query}", 303)
