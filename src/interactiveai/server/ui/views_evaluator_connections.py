"""Model connections in the UI: add, edit and delete the OpenAI-compatible endpoints judges call.

The API key is write-only: the form never carries it back (the page shows the stored hint, its
first and last characters); an empty key field keeps the stored key, "remove" deletes it. The
body is checked by the REST API's own models and ``evals/store.py``; a connection that evaluators
use is not deleted (the store refuses, as the API answers 409), and the page says which use it.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from interactiveai.server.evals import store
from interactiveai.server.evals.models import ConnectionCreate, ConnectionUpdate
from interactiveai.server.json_values import renderable
from interactiveai.server.ui.auth import Access, NotFoundPage, project_access
from interactiveai.server.ui.manage import Forbidden
from interactiveai.server.ui.pages import json_response, render
from interactiveai.server.ui.views_evaluators import (
    MAX_LISTED,
    can_edit,
    connection_path,
    edit_form,
    evaluator_path,
    evaluators_path,
    first_values,
    json_text,
    notice,
    validation_errors,
    with_notice,
)
from interactiveai.server.writes.errors import InvalidInputError

router = APIRouter(include_in_schema=False)


def _connection(request: Request, access: Access, connection_id: str) -> dict[str, Any]:
    row = store.get_connection(request.app.state.engine, access.project.id, connection_id)
    if row is None:
        raise NotFoundPage()
    return store.connection_json(row)


def _users(request: Request, project_id: str, connection_id: str) -> list[dict[str, str]]:
    """The evaluators that call this connection (of the first ``MAX_LISTED``)."""
    listed = store.list_evaluators(request.app.state.engine, project_id, page=1, limit=MAX_LISTED)
    return [
        {"id": row["id"], "name": row["name"], "path": evaluator_path(project_id, row["id"])}
        for row in listed.items
        if row["connection_id"] == connection_id
    ]


def _form_page(
    request: Request,
    access: Access,
    *,
    connection: dict[str, Any] | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    project_id = access.project.id
    return render(
        request,
        "llm_connection_form.html",
        {
            "access": access,
            "section": "evaluators",
            "connection": connection,
            "values": {k: v for k, v in values.items() if k != "api_key"},  # the key is never sent back
            "errors": errors or {},
            "used_by": _users(request, project_id, connection["id"]) if connection else [],
            "can_edit": can_edit(request, access),
            "notice": notice(request),
            "action": connection_path(project_id, connection["id"])
            if connection
            else f"/project/{project_id}/llm-connections",
            "back": evaluators_path(project_id) + "#connections",
        },
        status_code=status,
    )


def _values_of(connection: dict[str, Any]) -> dict[str, Any]:
    params = connection["params"]
    return {
        "name": connection["name"],
        "base_url": connection["baseUrl"],
        "model": connection["model"],
        "params": json_text(params, indent=True) if params else "",
    }


def _body(form: dict[str, Any], *, editing: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """The API body of the form (only what the form can say), and errors found reading it."""
    errors: dict[str, str] = {}
    form = first_values(form)
    body: dict[str, Any] = {
        "name": str(form.get("name", "")),
        "baseUrl": str(form.get("base_url", "")).strip(),
        "model": str(form.get("model", "")).strip(),
    }
    params_text = str(form.get("params", "")).strip()
    try:
        body["params"] = orjson.loads(params_text) if params_text else {}
    except orjson.JSONDecodeError as exc:
        errors["params"] = f"not valid JSON: {exc}"
    if "params" in body and not isinstance(body["params"], dict):
        errors["params"] = 'must be a JSON object, e.g. {"temperature": 0}'
    elif "params" in body and not renderable(body["params"]):
        errors["params"] = "nests too deeply"
    api_key = str(form.get("api_key", "")).strip()  # pasted keys often carry a trailing newline
    if api_key:
        body["apiKey"] = api_key
    elif editing and form.get("remove_key"):
        body["apiKey"] = None
    return body, errors


def _checked(model: type[BaseModel], body: dict[str, Any], errors: dict[str, str]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        errors.update({k: v for k, v in validation_errors(exc).items() if k not in errors})
        return None


@router.get("/project/{project_id}/llm-connections")
def connections_list(request: Request, project_id: str) -> Response:
    project_access(request, project_id)
    return RedirectResponse(evaluators_path(project_id) + "#connections", status_code=303)


@router.get("/project/{project_id}/llm-connections/new")
def new_connection(request: Request, project_id: str) -> Response:
    access = project_access(request, project_id)
    if not can_edit(request, access):
        raise Forbidden()
    return _form_page(request, access, connection=None, values={})


@router.post("/project/{project_id}/llm-connections")
async def create_connection(request: Request, project_id: str) -> Response:
    access, form = await edit_form(request, project_id)
    body, errors = _body(form, editing=False)
    checked = _checked(ConnectionCreate, body, errors)
    if checked is not None and not errors:
        try:
            store.create_connection(request.app.state.engine, request.app.state.secret_box, project_id, checked)
        except store.ConflictError as exc:
            errors["name"] = str(exc)
        except InvalidInputError as exc:
            errors["form"] = str(exc)
        else:
            return with_notice(evaluators_path(project_id), "connection-created")
    return _form_page(request, access, connection=None, values=first_values(form), errors=errors, status=400)


@router.get("/project/{project_id}/llm-connections/{connection_id}.json")
def connection_json(request: Request, project_id: str, connection_id: str) -> Response:
    access = project_access(request, project_id)
    connection = _connection(request, access, connection_id)
    return json_response(request, {**connection, "usedBy": _users(request, project_id, connection_id)})


@router.get("/project/{project_id}/llm-connections/{connection_id}")
def connection_page(request: Request, project_id: str, connection_id: str) -> Response:
    access = project_access(request, project_id)
    connection = _connection(request, access, connection_id)
    return _form_page(request, access, connection=connection, values=_values_of(connection))


@router.post("/project/{project_id}/llm-connections/{connection_id}")
async def save_connection(request: Request, project_id: str, connection_id: str) -> Response:
    access, form = await edit_form(request, project_id)
    connection = _connection(request, access, connection_id)
    body, errors = _body(form, editing=True)
    checked = _checked(ConnectionUpdate, body, errors)
    if checked is not None and not errors:
        engine, box = request.app.state.engine, request.app.state.secret_box
        try:
            saved = store.update_connection(engine, box, project_id, connection_id, checked)
        except store.ConflictError as exc:
            errors["name"] = str(exc)
        except InvalidInputError as exc:
            errors["form"] = str(exc)
        else:
            if saved is None:
                raise NotFoundPage()
            return with_notice(connection_path(project_id, connection_id), "connection-saved")
    return _form_page(request, access, connection=connection, values=first_values(form), errors=errors, status=400)


@router.post("/project/{project_id}/llm-connections/{connection_id}/delete")
async def delete_connection(request: Request, project_id: str, connection_id: str) -> Response:
    access, _form = await edit_form(request, project_id)
    connection = _connection(request, access, connection_id)
    try:
        deleted = store.delete_connection(request.app.state.engine, project_id, connection_id)
    except store.ConflictError as exc:
        errors = {"delete": f"Not deleted: {exc}. Delete them or point them at another connection first."}
        return _form_page(
            request, access, connection=connection, values=_values_of(connection), errors=errors, status=409
        )
    if not deleted:
        raise NotFoundPage()
    return with_notice(evaluators_path(project_id), "connection-deleted")
