"""Filling a dataset in bulk from the UI: a JSON, JSON Lines or CSV file (or pasted text), and the
traces of the trace list (the selected ones, or all matching its filters).

Each record becomes an item through the same write as the REST API (``upsert_dataset_item``), so
the same rules and versions apply. A file is checked whole before anything is written: one bad
record refuses the import with its number and the reason, and nothing is half imported.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import QueryParams, UploadFile

from interactiveai.server.query.datasets import get_dataset_by_id
from interactiveai.server.query.ui_traces import matching_ids
from interactiveai.server.ui.auth import CSRF_FIELD, NotFoundPage, check_csrf, project_access
from interactiveai.server.ui.manage import Forbidden, can_manage, form_list, managed_form, redirect_with_notice
from interactiveai.server.ui.views_datasets import dataset_page_response
from interactiveai.server.ui.views_trace_actions import MAX_SELECTED, _back_to_list, _list_query, list_state
from interactiveai.server.writes.datasets import NotFoundError, create_item_from_trace, upsert_dataset_item
from interactiveai.server.writes.errors import InvalidInputError

router = APIRouter(include_in_schema=False)
MAX_IMPORT_ITEMS = 2_000  # per file; each item is written (and versioned) like an API call
MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_TRACES_TO_DATASET = 1_000
_KEYS = {"input": "input", "expected_output": "expectedOutput", "expectedoutput": "expectedOutput"}
_KEYS.update({"metadata": "metadata", "expected": "expectedOutput", "id": "id"})


def _cell(text: str) -> Any:
    """A CSV cell: a JSON object, array or quoted string is read as JSON; an empty cell is absent;
    anything else is text (so "42" stays the answer "42", not a number)."""
    stripped = text.strip()
    if not stripped:
        return None
    if stripped[:1] in ("{", "[", '"'):
        try:
            return json.loads(stripped)
        except ValueError:
            return text
    return text


def _record(raw: Any, number: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidInputError(f"record {number}: expected an object with input, expected_output, metadata")
    body: dict[str, Any] = {}
    for key, value in raw.items():
        field = _KEYS.get(str(key).strip().lower().replace(" ", "_"))
        if field is None:
            known = "input, expected_output, metadata, id"
            raise InvalidInputError(f"record {number}: unknown field {str(key)[:40]!r} (use {known})")
        body[field] = value
    if body.get("input") is None:
        raise InvalidInputError(f"record {number}: input is required")
    for optional in ("metadata", "expectedOutput", "id"):
        if body.get(optional) in ("", None):
            body.pop(optional, None)
    if "metadata" in body and not isinstance(body["metadata"], dict):
        raise InvalidInputError(f"record {number}: metadata must be a JSON object")
    return body


def parse_records(text: str) -> list[dict[str, Any]]:
    """Items from a JSON array, JSON Lines, or CSV with a header row (``input``, ``expected_output``,
    ``metadata``, optional ``id``). Raises InvalidInputError naming the first bad record."""
    stripped = text.strip()
    if not stripped:
        raise InvalidInputError("the file is empty")
    if stripped[0] == "[":
        try:
            rows = json.loads(stripped)
        except ValueError as exc:
            raise InvalidInputError(f"not valid JSON: {exc}") from None
    elif stripped[0] == "{":
        rows = []
        for number, line in enumerate(stripped.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:
                    raise InvalidInputError(f"line {number} is not valid JSON: {exc}") from None
    else:
        reader = csv.DictReader(io.StringIO(stripped))
        if not reader.fieldnames or "input" not in [f.strip().lower() for f in reader.fieldnames]:
            raise InvalidInputError("a CSV file needs a header row with an input column")
        cells = [{k: _cell(v or "") for k, v in row.items() if k is not None} for row in reader]
        rows = [{k: v for k, v in row.items() if v is not None} for row in cells]
    if len(rows) > MAX_IMPORT_ITEMS:
        raise InvalidInputError(f"at most {MAX_IMPORT_ITEMS:,} items per import (this file has {len(rows):,})")
    return [_record(row, number) for number, row in enumerate(rows, 1)]


async def _import_text(request: Request) -> tuple[Any, str]:
    """The form's CSRF-checked fields and the text to import (the uploaded file, else the pasted text)."""
    form = await request.form(max_part_size=MAX_IMPORT_BYTES)
    token = form.get(CSRF_FIELD)
    check_csrf(request, token if isinstance(token, str) else None)
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_IMPORT_BYTES + 1)
        if len(data) > MAX_IMPORT_BYTES:
            raise InvalidInputError(f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
        try:
            return form, data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInputError("the file must be UTF-8 text") from None
    pasted = form.get("text")
    return form, pasted if isinstance(pasted, str) else ""


@router.post("/project/{project_id}/datasets/{dataset_id}/import")
async def import_items(request: Request, project_id: str, dataset_id: str) -> Response:
    access = project_access(request, project_id)
    engine = request.app.state.engine
    dataset = get_dataset_by_id(engine, project_id, dataset_id)
    if dataset is None:
        raise NotFoundPage()
    try:
        _form, text = await _import_text(request)
        if not can_manage(request, access):
            raise Forbidden()
        records = parse_records(text)
        for record in records:
            upsert_dataset_item(engine, project_id, {**record, "datasetName": dataset.name})
    except InvalidInputError as exc:
        return dataset_page_response(request, access, dataset_id, status=400, import_error=str(exc))
    path = f"/project/{project_id}/datasets/{quote(dataset.id, safe='')}"
    return redirect_with_notice(path, "dataset-imported", n=len(records))


@router.post("/project/{project_id}/datasets/add-traces")
async def add_traces(request: Request, project_id: str) -> Response:
    """The list's selected traces, or all matching its filters (newest first, up to 1,000), as items
    of the chosen dataset: each trace's input and output become an item's input and expected output."""
    _access, form = await managed_form(request, project_id)
    engine = request.app.state.engine
    query = _list_query(str(form.get("list_query", "")))
    if form.get("matching"):
        ids = matching_ids(engine, project_id, list_state(QueryParams(query)).filter, MAX_TRACES_TO_DATASET)
    else:
        ids = [i[:64] for i in form_list(form, "trace_id")][:MAX_SELECTED]
    dataset = get_dataset_by_id(engine, project_id, str(form.get("dataset_id", ""))[:64])
    if dataset is None:
        raise NotFoundPage()
    added = 0
    for trace_id in ids:
        try:
            create_item_from_trace(engine, project_id, dataset.name, trace_id)
            added += 1
        except NotFoundError:
            continue  # deleted since the list was shown
    return _back_to_list(project_id, query, "traces-to-dataset", added)
