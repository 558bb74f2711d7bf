"""The Scores page (filtered list with a per-name summary, and its JSON twin) and annotation:
the trace page's "Annotate" form, which stores an ANNOTATION score authored by the logged-in user.

Filters live in the URL: ``name``, ``source``, ``type`` (data type), ``range`` (the trace list's
presets, or ``from``/``to``), ``trace``, ``session``; ``page`` pages through 50 rows at a time.
Owners, admins and members may annotate; viewers may not (``manage.ANNOTATOR_ROLES``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import QueryParams

from interactiveai.server.clock import now_us, parse_iso_to_us
from interactiveai.server.json_values import bound_key
from interactiveai.server.query.filters import ScoreFilter
from interactiveai.server.query.observations import get_observation
from interactiveai.server.query.score_configs import ScoreConfig, get_score_config, list_score_configs
from interactiveai.server.query.scores import list_scores
from interactiveai.server.query.ui_scores import config_names, score_names, score_summary
from interactiveai.server.query.ui_trace_detail import get_trace_header
from interactiveai.server.ui.auth import Access, NotFoundPage, project_access
from interactiveai.server.ui.filters import DEFAULT_RANGE, RANGES, page_number
from interactiveai.server.ui.formatting import iso_time, score_text
from interactiveai.server.ui.manage import can_annotate, managed_form, redirect_with_notice
from interactiveai.server.ui.pages import json_response, render
from interactiveai.server.writes.errors import InvalidInputError
from interactiveai.server.writes.scores import DATA_TYPES, upsert_scores

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
SOURCES = ("API", "ANNOTATION", "EVAL")
_KEYS = ("name", "source", "type", "range", "from", "to", "trace", "session")


@dataclass
class ScoreListState:
    filter: ScoreFilter
    range: str
    page: int = 1
    args: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def url(self, path: str, **overrides: str | int | None) -> str:
        params = {**self.args, **{k: str(v) for k, v in overrides.items() if v is not None}}
        return path + ("?" + urlencode(params) if params else "")


def _time(text: str, label: str, errors: list[str]) -> int | None:
    if not text.strip():
        return None
    try:
        return parse_iso_to_us(text.strip())
    except ValueError:
        errors.append(f"{label}: not a date and time")
        return None


def parse_score_state(params: QueryParams, *, now: int | None = None) -> ScoreListState:
    errors: list[str] = []
    # names and ids bounded as ingestion stores them: a long one still finds its scores
    args = {k: bound_key(params[k].strip()) for k in _KEYS if params.get(k, "").strip()}
    source = args.get("source", "").upper()
    if source and source not in SOURCES:
        errors.append(f"unknown source {source!r}")
        source = ""
    data_type = args.get("type", "").upper()
    if data_type and data_type not in DATA_TYPES:
        errors.append(f"unknown data type {data_type!r}")
        data_type = ""
    range_key = args.get("range") or DEFAULT_RANGE
    from_us = to_us = None
    if range_key == "custom" or (("from" in args or "to" in args) and "range" not in args):
        range_key = "custom"
        from_us = _time(args.get("from", ""), "from", errors)
        to_us = _time(args.get("to", ""), "to", errors)
    else:
        if range_key not in RANGES:
            errors.append(f"unknown time range {range_key!r}")
            range_key = DEFAULT_RANGE
        seconds = RANGES[range_key]
        if seconds is not None:
            from_us = (now if now is not None else now_us()) - seconds * 1_000_000
    page = page_number(params.get("page"))
    filt = ScoreFilter(
        name=args.get("name"),
        trace_id=args.get("trace"),
        session_id=args.get("session"),
        sources=[source] if source else [],
        data_types=[data_type] if data_type else [],
        from_us=from_us,
        to_us=to_us,
    )
    return ScoreListState(filter=filt, range=range_key, page=page, args=args, errors=errors)


def target_path(project_id: str, score: Any) -> str | None:
    if score.trace_id:
        path = f"/project/{project_id}/traces/{quote(score.trace_id, safe='')}"
        return path + (f"?observation={quote(score.observation_id, safe='')}" if score.observation_id else "")
    if score.session_id:
        return f"/project/{project_id}/sessions/{quote(score.session_id, safe='')}"
    return None


def _comment_preview(comment: str | None) -> str:
    text = " ".join((comment or "").split())
    return text if len(text) <= 120 else text[:119] + "…"


def scores_data(request: Request, access: Access) -> tuple[ScoreListState, dict[str, Any]]:
    """The page's data and its JSON twin's body, from the same query calls."""
    engine = request.app.state.engine
    pid = access.project.id
    state = parse_score_state(request.query_params)
    page = list_scores(engine, pid, state.filter, page=state.page, limit=PAGE_SIZE)
    configs = config_names(engine, pid, [s.config_id or "" for s in page.items])
    rows = []
    for s in page.items:
        rows.append(
            {
                "id": s.id,
                "timestamp": iso_time(s.timestamp_us),
                "name": s.name,
                "value": s.value,
                "stringValue": s.string_value,
                "displayValue": score_text(asdict(s)),
                "dataType": s.data_type,
                "source": s.source,
                "comment": s.comment,
                "commentPreview": _comment_preview(s.comment),
                "configId": s.config_id,
                "configName": configs.get(s.config_id or ""),
                "traceId": s.trace_id,
                "observationId": s.observation_id,
                "sessionId": s.session_id,
                "datasetRunId": s.dataset_run_id,
                "authorUserId": s.author_user_id,
                "environment": s.environment,
                "targetPath": target_path(pid, s),
            }
        )
    summary = [s.as_json() for s in score_summary(engine, pid, state.filter)]
    meta = {"page": state.page, "limit": PAGE_SIZE, "totalItems": page.total or 0, "totalExact": page.total_exact}
    return state, {"data": rows, "summary": summary, "meta": meta, "errors": state.errors}


@router.get("/project/{project_id}/scores.json")
def scores_json(request: Request, project_id: str) -> Response:
    _state, body = scores_data(request, project_access(request, project_id))
    return json_response(request, body)


@router.get("/project/{project_id}/scores")
def scores_page(request: Request, project_id: str) -> Response:
    access = project_access(request, project_id)
    state, body = scores_data(request, access)
    base = f"/project/{project_id}/scores"
    meta = body["meta"]
    names = score_names(request.app.state.engine, project_id)
    if state.filter.name and state.filter.name not in names:
        names.append(state.filter.name)  # a selected name must stay selectable
    return render(
        request,
        "scores.html",
        {
            "access": access,
            "section": "scores",
            "state": state,
            "args": {**state.args, "page": state.page, "range": state.range},
            "base": base,
            "rows": body["data"],
            "summary": body["summary"],
            "total": meta["totalItems"],
            "total_exact": meta["totalExact"],
            "any_config": any(r["configId"] for r in body["data"]),
            "configs_url": f"/project/{project_id}/settings#score-configs",
            "names": names,
            "sources": SOURCES,
            "data_types": DATA_TYPES,
            "ranges": list(RANGES),
            "json_url": state.url(base + ".json", page=state.page if state.page > 1 else None),
            "prev_url": state.url(base, page=state.page - 1) if state.page > 1 else None,
            "next_url": state.url(base, page=state.page + 1) if state.page * PAGE_SIZE < meta["totalItems"] else None,
        },
    )


# --- annotation ---------------------------------------------------------------------------------


def config_hint(config: ScoreConfig) -> str:
    if config.data_type == "NUMERIC":
        low = "−∞" if config.min_value is None else f"{config.min_value:g}"
        high = "∞" if config.max_value is None else f"{config.max_value:g}"
        return f"numeric {low}…{high}"
    if config.data_type == "CATEGORICAL":
        return "one of " + ", ".join(str(c.get("label")) for c in (config.categories or []))
    return config.data_type.lower()


def annotation_extras(request: Request, access: Access) -> dict[str, Any]:
    """What the trace page needs for its Annotate form: may the user annotate, and the live configs."""
    allowed = can_annotate(request, access)
    configs = list_score_configs(request.app.state.engine, access.project.id, limit=200, include_archived=False)
    options = [{"id": c.id, "name": c.name, "hint": config_hint(c)} for c in configs.items] if allowed else []
    return {"can_annotate": allowed, "score_configs": options, "data_types": DATA_TYPES}


def _form_value(text: str, data_type: str | None) -> Any:
    """The typed value of the form's text for ``data_type`` (None: guess, a number if it reads as one)."""
    if text == "":
        raise InvalidInputError("Enter a value.")
    if data_type in (None, "NUMERIC"):
        try:
            number = float(text)
        except ValueError:
            if data_type == "NUMERIC":
                raise InvalidInputError(f"{text!r} is not a number.") from None
            return text
        if not math.isfinite(number):
            raise InvalidInputError("The value must be a finite number.")
        return number
    if data_type == "BOOLEAN" and text in ("0", "1"):
        return int(text)
    return text


@router.post("/project/{project_id}/traces/{trace_id}/scores")
async def annotate(request: Request, project_id: str, trace_id: str) -> Response:
    access, form = await managed_form(request, project_id, annotate=True)
    engine = request.app.state.engine
    header = get_trace_header(engine, project_id, trace_id)
    if header is None:
        raise NotFoundPage()
    observation_id = str(form.get("observation_id", "")).strip()[:64] or None
    if observation_id and get_observation(engine, project_id, observation_id, trace_id=trace_id) is None:
        raise NotFoundPage()
    config_id = str(form.get("config_id", "")).strip()[:64]
    raw_type = str(form.get("data_type", "")).strip().upper()
    comment = str(form.get("comment", "")).strip()
    item: dict[str, Any] = {"traceId": trace_id, "source": "ANNOTATION", "environment": header.get("environment")}
    try:
        if config_id:
            config = get_score_config(engine, project_id, config_id)
            if config is None:
                raise InvalidInputError("That score config does not exist in this project.")
            item["configId"] = config_id
            item["value"] = _form_value(str(form.get("value", "")).strip(), config.data_type)
        else:
            item["name"] = str(form.get("name", "")).strip()
            if not item["name"]:
                raise InvalidInputError("Pick a score config or enter a name.")
            data_type = raw_type if raw_type in DATA_TYPES else None
            if data_type:
                item["dataType"] = data_type
            item["value"] = _form_value(str(form.get("value", "")).strip(), data_type)
        if observation_id:
            item["observationId"] = observation_id
        if comment:
            item["comment"] = comment[:5000]
        upsert_scores(engine, project_id, [item], author_user_id=access.user.id)
    except InvalidInputError as exc:
        return render(
            request,
            "message.html",
            {"access": access, "section": "traces", "title": "Score not saved", "message": str(exc)},
            status_code=400,
        )
    params = {"observation": observation_id} if observation_id else {}
    return redirect_with_notice(f"/project/{project_id}/traces/{trace_id}", "score-added", **params)
