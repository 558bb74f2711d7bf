"""Creating and editing an evaluator in the UI: every field the REST API takes, on one form.

The form is turned into the API's body and checked by the API's own model (``EvaluatorCreate``)
and store (``evals/store.py``), so the UI and the API refuse the same things; each refusal is
shown next to its field. The judge's calls are traced nowhere, in this project, or in another
project where the user may write (``writable_projects``): only those are allowed to the store, and
an evaluator's earlier choice stays on its form (and is kept) though the user may no longer write
there. The prompt's ``{{variables}}`` are listed with their sources (rows built
here from the submitted prompt, so it works without script; ``evaluators.js`` updates them as the
prompt is typed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from interactiveai.server.evals import store
from interactiveai.server.evals.models import OBSERVATION_TYPES, EvaluatorCreate, EvaluatorUpdate
from interactiveai.server.evals.templates import OBSERVATION_FIELDS, TRACE_FIELDS, variables
from interactiveai.server.json_values import renderable
from interactiveai.server.ui.auth import Access, NotFoundPage, ProjectRef, project_access
from interactiveai.server.ui.manage import Forbidden
from interactiveai.server.ui.pages import render
from interactiveai.server.ui.views_evaluators import (
    MAX_LISTED,
    can_edit,
    edit_form,
    evaluator_path,
    evaluators_path,
    first_values,
    json_text,
    validation_errors,
    with_notice,
    writable_projects,
)
from interactiveai.server.writes.errors import InvalidInputError

router = APIRouter(include_in_schema=False)
DATA_TYPES = ("NUMERIC", "BOOLEAN", "CATEGORICAL")
MAPPING_FIELDS = ("var_name", "var_from", "var_key")  # one value per mapping row
SOURCES = [("trace", f) for f in TRACE_FIELDS] + [("observation", f) for f in OBSERVATION_FIELDS]
DEFAULTS = {
    "target": "trace",
    "score_type": "NUMERIC",
    "sampling_percent": "100",
    "delay_seconds": "30",
    "enabled": "1",
}

# the store's refusals name their rule first: where each one is shown
_STORE_FIELDS = (
    ("variable", "variableMapping"),
    ("filter", "filter"),
    ("connection", "connectionId"),
    ("traceProjectId", "traceProjectId"),
    ("observationName", "observationName"),
    ("a CATEGORICAL", "score.categories"),
    ("categories", "score.categories"),
    ("score categories", "score.categories"),
    ("minValue", "score.minValue"),
    ("score minValue", "score.minValue"),
)
# the store names the API key's rule; the form's user may choose among more projects
TRACE_PROJECT_REFUSED = "not a project you may choose: this one, or another where you are an owner, admin or member"


def _lines(text: Any) -> str:
    return str(text or "").replace("\r\n", "\n")  # browsers send a textarea's line ends as CRLF


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _rows(form: dict[str, Any]) -> list[dict[str, str]]:
    """The mapping rows as submitted: variable, source (``trace.input``; empty: implied), metadata key."""
    names, froms, keys = (_as_list(form.get(k, [])) for k in MAPPING_FIELDS)
    rows = []
    for n, name in enumerate(names):
        if name.strip():
            rows.append(
                {
                    "name": name.strip(),
                    "from": froms[n] if n < len(froms) else "",
                    "key": keys[n] if n < len(keys) else "",
                }
            )
    return rows


def body_of(form: dict[str, Any], project_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The API body of the evaluator form, and what could not be read (numbers, JSON)."""
    errors: dict[str, str] = {}
    form = first_values(form, MAPPING_FIELDS)
    target = str(form.get("target", "trace"))
    score_type = str(form.get("score_type", ""))
    score: dict[str, Any] = {"name": str(form.get("score_name", "")), "dataType": score_type}
    if score_type == "NUMERIC":  # the other types' fields are hidden, whatever they still hold
        score["minValue"] = str(form.get("score_min", "")).strip() or None
        score["maxValue"] = str(form.get("score_max", "")).strip() or None
    if score_type == "CATEGORICAL":
        score["categories"] = [c.strip() for c in _lines(form.get("score_categories")).split("\n") if c.strip()] or None
    mapping: dict[str, Any] = {}
    for row in _rows(form):
        if row["from"]:
            source, _, field = row["from"].partition(".")
            mapping[row["name"]] = {"source": source, "field": field, "key": row["key"].strip() or None}
    body: dict[str, Any] = {
        "name": str(form.get("name", "")),
        "enabled": bool(form.get("enabled")),
        "connectionId": str(form.get("connection_id", "")),
        "model": str(form.get("model", "")).strip() or None,
        "prompt": _lines(form.get("prompt")),
        "variableMapping": mapping,
        "target": target,
        "observationName": (str(form.get("observation_name", "")).strip() or None) if target == "observation" else None,
        "observationType": (str(form.get("observation_type", "")) or None) if target == "observation" else None,
        "score": score,
        "traceProjectId": _trace_project(form, project_id),
    }
    delay = str(form.get("delay_seconds", "")).strip()
    if delay:
        body["delaySeconds"] = delay
    try:
        body["samplingRate"] = float(str(form.get("sampling_percent", "100")).strip() or "100") / 100
    except ValueError:
        errors["samplingRate"] = "a percentage from 0 to 100"
    filter_text = _lines(form.get("filter")).strip()
    try:
        body["filter"] = orjson.loads(filter_text) if filter_text else []
    except orjson.JSONDecodeError as exc:
        errors["filter"] = f"not valid JSON: {exc}"
    if "filter" in body and not renderable(body["filter"]):
        errors["filter"] = "nests too deeply"
    return body, errors


def _trace_project(form: dict[str, Any], project_id: str) -> str | None:
    """The chosen project's id (empty: not traced); an older form's checkbox meant this project."""
    if "trace_project" not in form:
        return project_id if form.get("trace_judge") else None
    return str(form.get("trace_project", "")).strip() or None


def checked_body(form: dict[str, Any], project_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The body and every refusal the API's model gives it."""
    body, errors = body_of(form, project_id)
    try:
        EvaluatorCreate.model_validate(body)
    except ValidationError as exc:
        for field, message in validation_errors(exc).items():
            if field == "samplingRate":
                message = "a percentage from 0 to 100"
            errors.setdefault(field, message)
    return body, errors


def store_field(message: str) -> str:
    """Which field a store refusal belongs to (``form`` when none)."""
    for prefix, field in _STORE_FIELDS:
        if message.startswith(prefix):
            return field
    return "form"


def store_refusal(exc: InvalidInputError) -> tuple[str, str]:
    """A store refusal as (field, message) for the form."""
    field = store_field(str(exc))
    return field, TRACE_PROJECT_REFUSED if field == "traceProjectId" else str(exc)


def trace_choices(access: Access, writable: list[ProjectRef], stored: str | None) -> list[dict[str, str]]:
    """The menu of where the judge's calls are traced, after "not traced": this project, the
    user's other writable projects, and the evaluator's stored choice when it is none of those."""
    choices = [{"id": access.project.id, "label": f"This project ({access.project.name})"}]
    names = [ref.name for ref in writable]
    for ref in writable:  # two projects of one name are told apart by their ids
        choices.append({"id": ref.id, "label": ref.name if names.count(ref.name) == 1 else f"{ref.name} · {ref.id}"})
    if stored and all(choice["id"] != stored for choice in choices):
        visible = next((ref.name for ref in access.projects if ref.id == stored), None)
        label = visible if visible is not None else "a project you cannot open"
        choices.append({"id": stored, "label": f"{label} (kept: you may no longer choose it)"})
    return choices


def values_of(evaluator: dict[str, Any]) -> dict[str, Any]:
    """A stored evaluator (its API JSON) as the form's values."""
    score = evaluator["score"]
    # rows stored by hand or an older version may hold anything: such a mapping is shown empty
    mapping = {name: m for name, m in evaluator["variableMapping"].items() if isinstance(m, dict)}
    return {
        "name": evaluator["name"],
        "enabled": "1" if evaluator["enabled"] else "",
        "connection_id": evaluator["connectionId"],
        "model": evaluator["model"] or "",
        "prompt": evaluator["prompt"],
        "var_name": list(mapping),
        "var_from": [f"{m.get('source', 'trace')}.{m.get('field', '')}" for m in mapping.values()],
        "var_key": [m.get("key") or "" for m in mapping.values()],
        "target": evaluator["target"],
        "observation_name": evaluator["observationName"] or "",
        "observation_type": evaluator["observationType"] or "",
        "score_name": score["name"],
        "score_type": score["dataType"],
        "score_min": "" if score.get("minValue") is None else f"{score['minValue']:g}",
        "score_max": "" if score.get("maxValue") is None else f"{score['maxValue']:g}",
        "score_categories": "\n".join(str(c) for c in score.get("categories") or []),
        "sampling_percent": f"{evaluator['samplingRate'] * 100:.10g}",
        "filter": json_text(evaluator["filter"], indent=True) if evaluator["filter"] else "",
        "delay_seconds": f"{evaluator['delaySeconds']:g}",
        "trace_project": evaluator["traceProjectId"] or "",
    }


def mapping_rows(values: dict[str, Any]) -> list[dict[str, Any]]:
    """A row per variable of the prompt (in order), then mapped variables the prompt does not use."""
    given = {row["name"]: row for row in _rows(values)}
    target = str(values.get("target", "trace"))
    own = TRACE_FIELDS if target == "trace" else OBSERVATION_FIELDS
    used = variables(_lines(values.get("prompt")))
    rows = []
    for name in [*used, *(n for n in given if n not in used)]:
        row = given.get(name, {"name": name, "from": "", "key": ""})
        rows.append({**row, "used": name in used, "implied": f"{target}.{name}" if name in own else None})
    return rows


def form_page(
    request: Request,
    access: Access,
    *,
    evaluator: dict[str, Any] | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    engine = request.app.state.engine
    project_id = access.project.id
    connections = [
        store.connection_json(r) for r in store.list_connections(engine, project_id, page=1, limit=MAX_LISTED).items
    ]
    if evaluator is None and not values.get("connection_id") and connections:
        values = {**values, "connection_id": connections[0]["id"]}
    models = {c["id"]: c["model"] for c in connections}
    stored = evaluator["traceProjectId"] if evaluator else None
    return render(
        request,
        "evaluators_form.html",
        {
            "access": access,
            "section": "evaluators",
            "evaluator": evaluator,
            "values": values,
            "default_model": models.get(str(values.get("connection_id", ""))),
            "rows": mapping_rows(values),
            "errors": errors or {},
            "connections": connections,
            "trace_choices": trace_choices(access, writable_projects(request, access), stored),
            "sources": SOURCES,
            "data_types": DATA_TYPES,
            "observation_types": OBSERVATION_TYPES,
            "trace_fields": TRACE_FIELDS,
            "observation_fields": OBSERVATION_FIELDS,
            "can_edit": can_edit(request, access),
            "action": f"{evaluator_path(project_id, evaluator['id'])}/edit"
            if evaluator
            else evaluators_path(project_id),
            "back": evaluator_path(project_id, evaluator["id"]) if evaluator else evaluators_path(project_id),
        },
        status_code=status,
    )


def _stored(request: Request, access: Access, evaluator_id: str) -> dict[str, Any]:
    row = store.get_evaluator(request.app.state.engine, access.project.id, evaluator_id)
    if row is None:
        raise NotFoundPage()
    return store.evaluator_json(row)


@router.get("/project/{project_id}/evaluators/new")
def new_evaluator(request: Request, project_id: str) -> Response:
    access = project_access(request, project_id)
    if not can_edit(request, access):
        raise Forbidden()
    picked = request.query_params.get("connection", "")
    return form_page(request, access, evaluator=None, values={**DEFAULTS, "connection_id": picked})


def _stored_or_refused(errors: dict[str, str], write: Callable[[], Any]) -> Any:
    """``write()``'s result; a store refusal goes into ``errors`` at its field instead (None)."""
    try:
        return write()
    except store.ConflictError as exc:
        errors["name"] = str(exc)
    except InvalidInputError as exc:
        field, message = store_refusal(exc)
        errors[field] = message
    return None


@router.post("/project/{project_id}/evaluators")
async def create_evaluator(request: Request, project_id: str) -> Response:
    access, form = await edit_form(request, project_id)
    body, errors = checked_body(form, project_id)
    if not errors:
        allowed = [ref.id for ref in writable_projects(request, access)]
        engine = request.app.state.engine
        row = _stored_or_refused(
            errors,
            lambda: store.create_evaluator(
                engine, project_id, EvaluatorCreate.model_validate(body), trace_projects=allowed
            ),
        )
        if not errors:
            return with_notice(evaluator_path(project_id, row["id"]), "evaluator-created")
    return form_page(
        request, access, evaluator=None, values=first_values(form, MAPPING_FIELDS), errors=errors, status=400
    )


@router.get("/project/{project_id}/evaluators/{evaluator_id}/edit")
def edit_evaluator(request: Request, project_id: str, evaluator_id: str) -> Response:
    access = project_access(request, project_id)
    evaluator = _stored(request, access, evaluator_id)
    return form_page(request, access, evaluator=evaluator, values=values_of(evaluator))


@router.post("/project/{project_id}/evaluators/{evaluator_id}/edit")
async def save_evaluator(request: Request, project_id: str, evaluator_id: str) -> Response:
    access, form = await edit_form(request, project_id)
    evaluator = _stored(request, access, evaluator_id)
    body, errors = checked_body(form, project_id)
    if not errors:
        allowed = [ref.id for ref in writable_projects(request, access)]  # the store keeps the stored choice too
        engine = request.app.state.engine
        update = EvaluatorUpdate.model_validate(body)
        saved = _stored_or_refused(
            errors, lambda: store.update_evaluator(engine, project_id, evaluator_id, update, trace_projects=allowed)
        )
        if not errors:
            if saved is None:
                raise NotFoundPage()
            return with_notice(evaluator_path(project_id, evaluator_id), "evaluator-saved")
    return form_page(
        request, access, evaluator=evaluator, values=first_values(form, MAPPING_FIELDS), errors=errors, status=400
    )
