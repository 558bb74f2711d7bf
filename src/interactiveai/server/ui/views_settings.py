"""Project settings: members, API keys, model prices, score configs, retention and name; with a JSON twin.

Every member can open the page; only owners/admins (``manage.can_manage``) see the forms and may
post them. A new key's secret is rendered once, in the response to the create form (never in a
URL, never again). Validation errors re-render the page with the message and the typed values.
"""

from __future__ import annotations

import math
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select, update

from interactiveai.server.accounts import ROLES, list_members
from interactiveai.server.clock import now_us, us_to_iso
from interactiveai.server.costs import models as price_models
from interactiveai.server.costs.catalog import default_catalog
from interactiveai.server.costs.patterns import PATTERN_CACHE, InvalidPattern, matches
from interactiveai.server.query.score_configs import get_score_config, list_score_configs
from interactiveai.server.retention import set_retention
from interactiveai.server.storage.schema import projects
from interactiveai.server.tenancy import create_api_key, list_api_keys, revoke_api_key
from interactiveai.server.ui.auth import Access, NotFoundPage, project_access
from interactiveai.server.ui.formatting import iso_time
from interactiveai.server.ui.manage import can_manage, managed_form, notice_from, project_role, redirect_with_notice
from interactiveai.server.ui.pages import json_response, render
from interactiveai.server.writes.errors import InvalidInputError
from interactiveai.server.writes.score_configs import create_score_config, update_score_config

router = APIRouter(include_in_schema=False)
PER_MILLION = 1_000_000
MAX_LIST = 200
_PRICE_LINE = re.compile(r"^\s*([\w.:-]{1,100})\s*[=:]\s*(\S+)\s*$")


def settings_data(request: Request, access: Access, lookup: str = "") -> dict[str, Any]:
    """Everything the page and its JSON twin show (secrets only as their display form)."""
    engine = request.app.state.engine
    pid = access.project.id
    with engine.connect() as conn:
        retention = conn.execute(select(projects.c.retention_days).where(projects.c.id == pid)).scalar()
    definitions, model_total = price_models.list_models(engine, pid, limit=MAX_LIST)
    configs = list_score_configs(engine, pid, limit=MAX_LIST)
    role = project_role(request, access)
    return {
        "project": {"id": pid, "name": access.project.name, "retentionDays": retention},
        "canManage": can_manage(request, access),
        "role": role,
        "canManageOwners": access.user.is_admin or role == "OWNER",
        "members": [
            {"userId": m.user_id, "email": m.email, "name": m.name, "role": m.role, "isAdmin": m.is_admin}
            for m in list_members(engine, pid)
        ],
        "apiKeys": [
            {
                "id": k["id"],
                "publicKey": k["public_key"],
                "displaySecretKey": k["display_secret"],
                "note": k["note"],
                "createdAt": iso_time(k["created_at_us"]),
                "lastUsedAt": iso_time(k["last_used_at_us"]) if k["last_used_at_us"] else None,
            }
            for k in list_api_keys(engine, pid)
        ],
        "models": [
            {
                "id": m.id,
                "modelName": m.model_name,
                "matchPattern": m.match_pattern,
                "startDate": us_to_iso(m.start_date_us),  # any stored value: us_to_iso never fails
                "unit": m.unit,
                "pricesPerMillion": {k: round(v * PER_MILLION, 9) for k, v in sorted(m.prices.items())},
                "prices": m.prices,
            }
            for m in definitions
        ],
        "modelTotal": model_total,
        "scoreConfigs": [
            {
                "id": c.id,
                "name": c.name,
                "dataType": c.data_type,
                "isArchived": c.is_archived,
                "minValue": c.min_value,
                "maxValue": c.max_value,
                "categories": c.categories,
                "description": c.description,
                "createdAt": iso_time(c.created_at_us),
            }
            for c in configs.items
        ],
        "lookup": price_lookup(engine, pid, lookup) if lookup.strip() else None,
    }


def price_lookup(engine: Any, project_id: str, name: str) -> dict[str, Any]:
    """Which price applies to a model name now: a project definition (wins), else the catalog."""
    name = name.strip()[:200]
    definitions, _ = price_models.list_models(engine, project_id, limit=MAX_LIST)
    now = now_us()
    applicable = []
    for m in definitions:
        try:
            compiled = PATTERN_CACHE.get(m.match_pattern)
        except InvalidPattern:  # stored around the API, skipped as ingestion skips it
            continue
        if (m.start_date_us is None or m.start_date_us <= now) and matches(compiled, name):
            applicable.append(m)
    applicable.sort(key=lambda m: (m.start_date_us is None, -(m.start_date_us or 0), -m.created_at_us))
    result: dict[str, Any] = {"model": name, "source": None, "matchedModelId": None, "pricesPerMillion": {}}
    if applicable:
        m = applicable[0]
        per_million = {k: round(v * PER_MILLION, 9) for k, v in sorted(m.prices.items())}
        result.update(
            source="project model", matchedModelId=m.id, matchedName=m.model_name, pricesPerMillion=per_million
        )
        return result
    catalog = default_catalog()
    found = catalog.resolve(name)
    if found is not None:
        result.update(
            source="catalog",
            matchedModelId=found.ref,
            matchedName=found.name or found.model_id,
            pricesPerMillion=catalog.prices_per_million(found, now),
        )
    return result


def settings_response(request: Request, access: Access, *, status: int = 200, **extra: Any) -> Response:
    """The settings page, with ``extra`` context: a new key or user password to show once, form errors."""
    lookup = request.query_params.get("lookup", "")
    context = {
        "access": access,
        "section": "settings",
        "data": settings_data(request, access, lookup),
        "lookup": lookup,
        "notice": notice_from(request),
        "errors": {},
        "form": {},
        "new_key": None,
        "new_member": None,
        "new_project": False,
        "roles": ROLES,
        "units": price_models.UNITS,
        **extra,
    }
    return render(request, "settings.html", context, status_code=status)


@router.get("/project/{project_id}/settings")
def settings_page(request: Request, project_id: str) -> Response:
    return settings_response(request, project_access(request, project_id))


@router.get("/project/{project_id}/settings.json")
def settings_json(request: Request, project_id: str) -> Response:
    access = project_access(request, project_id)
    return json_response(request, settings_data(request, access, request.query_params.get("lookup", "")))


def _base(project_id: str) -> str:
    return f"/project/{project_id}/settings"


@router.post("/project/{project_id}/settings/api-keys")
async def create_key(request: Request, project_id: str) -> Response:
    access, form = await managed_form(request, project_id)
    note = str(form.get("note", "")).strip()
    if len(note) > 200:
        return settings_response(
            request, access, status=400, errors={"key": "The note is longer than 200 characters."}, form=form
        )
    created = create_api_key(request.app.state.engine, project_id, note=note or None)
    return settings_response(request, access, new_key=created)  # the only time the secret is ever shown


@router.post("/project/{project_id}/settings/api-keys/{key_id}/revoke")
async def revoke_key(request: Request, project_id: str, key_id: str) -> Response:
    await managed_form(request, project_id)
    if not revoke_api_key(request.app.state.engine, key_id, project_id=project_id):
        raise NotFoundPage()
    verifier = getattr(request.app.state, "api_keys", None)
    if verifier is not None:
        verifier.invalidate()  # refused here at once; other replicas drop it within their cache time (10 s)
    return redirect_with_notice(_base(project_id), "key-revoked")


def _per_unit(text: Any, label: str) -> float | None:
    text = str(text or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise price_models.ModelValidationError(f"{label} must be a number (USD per million units)") from None
    if not math.isfinite(value) or value < 0:
        raise price_models.ModelValidationError(f"{label} must be a finite, non-negative number")
    return value / PER_MILLION


def _model_fields(form: dict[str, Any]) -> dict[str, Any]:
    prices: dict[str, float] = {}
    for label, key in (("Input price", "input"), ("Output price", "output"), ("Total price", "total")):
        value = _per_unit(form.get(f"{key}_price"), label)
        if value is not None:
            prices[key] = value
    for line in str(form.get("other_prices", "")).splitlines():
        if not line.strip():
            continue
        match = _PRICE_LINE.match(line)
        if match is None:
            raise price_models.ModelValidationError(
                f"Other prices: write one 'usage_key = price' per line, not {line!r}"
            )
        value = _per_unit(match.group(2), f"The price of {match.group(1)}")
        assert value is not None
        prices[match.group(1)] = value
    if not prices:
        raise price_models.ModelValidationError("Give at least one price")
    start_text = str(form.get("start_date", "")).strip()
    return {
        "model_name": str(form.get("model_name", "")),
        "match_pattern": str(form.get("match_pattern", "")),
        "unit": str(form.get("unit", "")) or None,
        "start_date_us": price_models.parse_start_date(start_text) if start_text else None,
        "prices": prices,
    }


@router.post("/project/{project_id}/settings/models")
async def create_model_definition(request: Request, project_id: str) -> Response:
    access, form = await managed_form(request, project_id)
    try:
        price_models.create_model(request.app.state.engine, project_id, **_model_fields(form))
    except (price_models.ModelValidationError, price_models.ModelConflictError) as exc:
        return settings_response(request, access, status=400, errors={"model": str(exc)}, form=form)
    return redirect_with_notice(_base(project_id), "model-created")


@router.post("/project/{project_id}/settings/models/{model_id}/delete")
async def delete_model_definition(request: Request, project_id: str, model_id: str) -> Response:
    await managed_form(request, project_id)
    if not price_models.delete_model(request.app.state.engine, project_id, model_id):
        raise NotFoundPage()
    return redirect_with_notice(_base(project_id), "model-deleted")


def _number(text: Any, label: str) -> float | None:
    text = str(text or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInputError(f"{label} must be a number") from None


def _categories(text: Any) -> list[dict[str, Any]]:
    """'label = value' per line, or just labels (numbered 0, 1, …)."""
    result = []
    for i, line in enumerate(line for line in str(text or "").splitlines() if line.strip()):
        label, sep, value = line.partition("=")
        result.append(
            {"label": label.strip(), "value": _number(value, f"The value of {label.strip()!r}") if sep else i}
        )
    return result


@router.post("/project/{project_id}/settings/score-configs")
async def create_config(request: Request, project_id: str) -> Response:
    access, form = await managed_form(request, project_id)
    data_type = str(form.get("data_type", "")).upper()
    try:
        body: dict[str, Any] = {
            "name": str(form.get("name", "")).strip(),
            "dataType": data_type,
            "description": str(form.get("description", "")).strip() or None,
        }
        if data_type == "NUMERIC":
            body["minValue"] = _number(form.get("min_value"), "Minimum")
            body["maxValue"] = _number(form.get("max_value"), "Maximum")
        if data_type == "CATEGORICAL":
            body["categories"] = _categories(form.get("categories"))
        create_score_config(request.app.state.engine, project_id, body)
    except InvalidInputError as exc:
        return settings_response(request, access, status=400, errors={"config": str(exc)}, form=form)
    return redirect_with_notice(_base(project_id), "config-created")


@router.post("/project/{project_id}/settings/score-configs/{config_id}/archive")
async def archive_config(request: Request, project_id: str, config_id: str) -> Response:
    _access, form = await managed_form(request, project_id)
    engine = request.app.state.engine
    if get_score_config(engine, project_id, config_id) is None:
        raise NotFoundPage()
    archive = form.get("archive", "yes") != "no"
    update_score_config(engine, project_id, config_id, {"isArchived": archive})
    return redirect_with_notice(_base(project_id), "config-archived" if archive else "config-restored")


@router.post("/project/{project_id}/settings/retention")
async def save_retention(request: Request, project_id: str) -> Response:
    access, form = await managed_form(request, project_id)
    text = str(form.get("retention_days", "")).strip()
    days: int | None = None
    if form.get("mode") != "forever":
        if not text.isdigit() or not 1 <= int(text) <= 100_000:
            error = "Retention must be a whole number of days from 1 to 100000, or choose 'keep forever'."
            return settings_response(request, access, status=400, errors={"retention": error}, form=form)
        days = int(text)
    set_retention(request.app.state.engine, project_id, days)
    return redirect_with_notice(_base(project_id), "retention-saved")


@router.post("/project/{project_id}/settings/name")
async def save_name(request: Request, project_id: str) -> Response:
    access, form = await managed_form(request, project_id)
    name = str(form.get("name", "")).strip()
    if not name or len(name) > 200:
        error = "The project name must be 1 to 200 characters."
        return settings_response(request, access, status=400, errors={"name": error}, form=form)
    with request.app.state.engine.begin() as conn:
        conn.execute(update(projects).where(projects.c.id == project_id).values(name=name))
    return redirect_with_notice(_base(project_id), "name-saved")
