"""Dataset items in the web UI: create one on the dataset page, open one to edit, archive, restore
or delete it.

Every change goes through the write layer the REST API uses (``writes.datasets``), so an edit
records a new item version exactly as ``POST /api/public/dataset-items`` with the item's id does,
and a deletion removes the item with its run items while its history stays. Input, expected output
and metadata are typed as JSON and checked here first, so a typo gets a message that says where.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from interactiveai.server.query.datasets import Dataset, DatasetItem, get_dataset_by_id, get_dataset_item
from interactiveai.server.ui.auth import Access, NotFoundPage, project_access
from interactiveai.server.ui.formatting import iso_time
from interactiveai.server.ui.manage import can_manage, managed_form, notice_from, redirect_with_notice
from interactiveai.server.ui.pages import render
from interactiveai.server.writes.datasets import NotFoundError, delete_dataset_item, upsert_dataset_item
from interactiveai.server.writes.errors import InvalidInputError

router = APIRouter(include_in_schema=False)

FIELDS = {
    "input": ("Input", "input"),
    "expected_output": ("Expected output", "expectedOutput"),
    "metadata": ("Metadata", "metadata"),
}
"""Form field → (label, the REST body's key)."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (numbers must be finite)")


def parse_json_field(text: str, label: str) -> Any:
    """A form field's JSON value (None when empty); InvalidInputError naming the field and where
    the text stops being JSON."""
    if not text.strip():
        return None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        hint = (
            ' Text needs double quotes, like "this".' if exc.pos == 0 or exc.msg.startswith("Expecting value") else ""
        )
        raise InvalidInputError(
            f"{label} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.{hint}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise InvalidInputError(f"{label} is not valid JSON: {exc}") from None


def json_field_text(value: Any) -> str:
    """A stored value as the text a person edits (indented JSON; empty for none)."""
    if value is None:
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False)


def body_from_form(form: dict[str, Any], dataset: Dataset) -> dict[str, Any]:
    """The REST body of an item write from the form's JSON fields (InvalidInputError on bad JSON)."""
    body: dict[str, Any] = {"datasetName": dataset.name}
    for field, (label, key) in FIELDS.items():
        body[key] = parse_json_field(str(form.get(field, "")), label)
    return body


def _dataset_and_item(request: Request, access: Access, dataset_id: str, item_id: str) -> tuple[Dataset, DatasetItem]:
    engine = request.app.state.engine
    dataset = get_dataset_by_id(engine, access.project.id, dataset_id)
    item = get_dataset_item(engine, access.project.id, item_id) if dataset else None
    if dataset is None or item is None or item.dataset_id != dataset.id:
        raise NotFoundPage()
    return dataset, item


def _item_page(
    request: Request,
    access: Access,
    dataset: Dataset,
    item: DatasetItem,
    *,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    pid = access.project.id
    values = {f: json_field_text(getattr(item, f)) for f in FIELDS}
    if form is not None:  # what the person typed, kept after an error
        values = {f: str(form.get(f, "")) for f in FIELDS}
    source = None
    if item.source_trace_id:
        source = f"/project/{pid}/traces/{quote(item.source_trace_id, safe='')}"
        if item.source_observation_id:
            source += "?observation=" + quote(item.source_observation_id, safe="")
    return render(
        request,
        "dataset_item.html",
        {
            "access": access,
            "section": "datasets",
            "dataset": dataset,
            "item": item,
            "values": values,
            "version": str(item.updated_at_us),
            "created": iso_time(item.created_at_us),
            "updated": iso_time(item.updated_at_us),
            "source": source,
            "dataset_url": f"/project/{pid}/datasets/{quote(dataset.id, safe='')}",
            "action": f"/project/{pid}/datasets/{quote(dataset.id, safe='')}/items/{quote(item.id, safe='')}",
            "can_manage": can_manage(request, access),
            "notice": notice_from(request),
            "error": error,
        },
        status_code=status,
    )


@router.get("/project/{project_id}/datasets/{dataset_id}/items/{item_id:path}")
def item_page(request: Request, project_id: str, dataset_id: str, item_id: str) -> Response:
    access = project_access(request, project_id)
    dataset, item = _dataset_and_item(request, access, dataset_id, item_id)
    return _item_page(request, access, dataset, item)


@router.post("/project/{project_id}/datasets/{dataset_id}/items/{item_id:path}")
async def change_item(request: Request, project_id: str, dataset_id: str, item_id: str) -> Response:
    """``action``: save (input, expected output, metadata), archive, restore or delete."""
    access, form = await managed_form(request, project_id)
    engine = request.app.state.engine
    dataset, item = _dataset_and_item(request, access, dataset_id, item_id)
    action = str(form.get("action", "save"))
    dataset_url = f"/project/{project_id}/datasets/{quote(dataset.id, safe='')}"
    item_url = f"{dataset_url}/items/{quote(item.id, safe='')}"
    if action == "delete":
        if not delete_dataset_item(engine, project_id, item.id):
            raise NotFoundPage()
        return redirect_with_notice(dataset_url, "dataset-item-deleted", d=item.id[:80])
    if action in ("archive", "restore"):
        body = {"datasetName": dataset.name, "id": item.id, "status": "ARCHIVED" if action == "archive" else "ACTIVE"}
        upsert_dataset_item(engine, project_id, body)
        back = dataset_url if form.get("back") == "dataset" else item_url  # the list's row buttons return to it
        return redirect_with_notice(back, f"dataset-item-{action}d")
    if action != "save":
        return _item_page(request, access, dataset, item, error=f"Unknown action {action[:40]!r}.", status=400)
    if str(form.get("version", "")) != str(item.updated_at_us):
        message = (
            "Someone changed this item since you opened it. Your text is kept below;"
            " save again to replace their version, or reload the page to see it."
        )
        return _item_page(request, access, dataset, item, form=form, error=message, status=409)
    try:
        body = {**body_from_form(form, dataset), "id": item.id}
        upsert_dataset_item(engine, project_id, body)
    except (InvalidInputError, NotFoundError) as exc:
        return _item_page(request, access, dataset, item, form=form, error=str(exc), status=400)
    return redirect_with_notice(item_url, "dataset-item-saved")
