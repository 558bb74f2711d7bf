"""Project model definitions: create, list, get, delete — for the REST API, the CLI and the UI.

A definition says "model names matching this regex cost these prices (USD per unit, per usage
type) from this start date on", and wins over the catalog for its project. Every function is
scoped by ``project_id``: a definition of another project is invisible (not found), never an error
that would reveal it exists. Each change invalidates the cost calculators of this process at once;
other replicas pick it up within their cache TTL.

Only definitions of the project are stored and listed. The catalog (genai-prices) is packaged
data, not rows: ``catalog.Catalog.resolve`` tells which catalog model a name maps to.

``create_model`` is the one gate for the API, the CLI and the settings page: whatever it stores,
every reader can show (names are text PostgreSQL and the CLI's tab-separated lines can hold, the
start date is a time every reader can format, prices are finite and bounded so costs stay finite),
and a refused definition stores nothing. Readers still tolerate rows written around it.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from interactiveai.server.clock import MAX_US, now_us, parse_iso_to_us
from interactiveai.server.costs.calculator import notify_models_changed
from interactiveai.server.costs.patterns import InvalidPattern, validate_pattern
from interactiveai.server.costs.pricing import MAX_PRICE, stored_prices, usable_price
from interactiveai.server.storage.schema import models, projects

UNITS = ("TOKENS", "CHARACTERS", "MILLISECONDS", "SECONDS", "REQUESTS", "IMAGES")
TOKENIZERS = ("openai", "claude")
MAX_NAME = 200  # the model_name column's size
MAX_PRICES = 50
MAX_USAGE_TYPE = 100
MAX_DEFINITIONS = 1_000
"""Definitions per project: each new model name ingested is matched against all of them."""

# A usage type names a usage key (input, output_reasoning_tokens, …; a client may send its own):
# the characters such keys are made of, nothing a reader would have to escape.
_USAGE_TYPE = re.compile(rf"[A-Za-z0-9_.:-]{{1,{MAX_USAGE_TYPE}}}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ModelValidationError(ValueError):
    """The definition is invalid; the message is meant for the user (a 400 answer)."""


class ModelConflictError(ValueError):
    """A definition with the same name, unit and start date already exists in the project (409)."""


@dataclass(frozen=True)
class ModelDefinition:
    id: str
    project_id: str
    model_name: str
    match_pattern: str
    start_date_us: int | None
    unit: str
    prices: dict[str, float]
    tokenizer_id: str | None
    created_at_us: int
    updated_at_us: int

    @property
    def input_price(self) -> float | None:
        return self.prices.get("input")

    @property
    def output_price(self) -> float | None:
        return self.prices.get("output")

    @property
    def total_price(self) -> float | None:
        return self.prices.get("total")


def create_model(
    engine: Engine,
    project_id: str,
    *,
    model_name: str,
    match_pattern: str,
    start_date_us: int | None = None,
    unit: str | None = None,
    prices: Mapping[str, Any] | None = None,
    input_price: float | None = None,
    output_price: float | None = None,
    total_price: float | None = None,
    tokenizer_id: str | None = None,
) -> ModelDefinition:
    """Validate and store a definition; raises ModelValidationError or ModelConflictError.

    Nothing is stored unless every field is valid (and the answer built from the row cannot fail).
    """
    name = _name(model_name)
    try:
        validate_pattern(match_pattern)
    except InvalidPattern as exc:
        raise ModelValidationError(str(exc)) from None
    unit = _choice("unit", unit or "TOKENS", UNITS, upper=True)
    if tokenizer_id is not None:
        tokenizer_id = _choice("tokenizerId", tokenizer_id, TOKENIZERS)
    _check_start_date(start_date_us)
    if total_price is not None and (input_price is not None or output_price is not None):
        raise ModelValidationError("totalPrice cannot be set together with inputPrice or outputPrice")
    all_prices = _merge_prices(prices, input=input_price, output=output_price, total=total_price)

    row = {
        "project_id": project_id,
        "id": "model-" + secrets.token_hex(12),
        "model_name": name,
        "match_pattern": match_pattern,
        "start_date_us": start_date_us,
        "unit": unit,
        "prices": json.dumps(all_prices, sort_keys=True),
        "tokenizer_id": tokenizer_id,
        "created_at_us": now_us(),
        "updated_at_us": now_us(),
    }
    conflict = ModelConflictError(
        f"a model definition named {name!r} with unit {unit} and this startDate already exists; delete it first"
    )
    try:
        with engine.begin() as conn:
            if conn.execute(select(projects.c.id).where(projects.c.id == project_id)).first() is None:
                raise ModelValidationError(f"there is no project {project_id!r}")  # the CLI names it
            scoped = models.c.project_id == project_id
            count = conn.execute(select(func.count()).select_from(models).where(scoped)).scalar_one()
            if count >= MAX_DEFINITIONS:
                raise ModelValidationError(
                    f"this project already has {MAX_DEFINITIONS} model definitions, the most it may have;"
                    " delete some first"
                )
            # The unique constraint does not catch a second definition without a start date (NULLs
            # are distinct in SQL), so that case is checked here, in the same transaction.
            same = and_(scoped, models.c.model_name == name, models.c.unit == unit)
            same = and_(
                same,
                models.c.start_date_us.is_(None) if start_date_us is None else models.c.start_date_us == start_date_us,
            )
            if conn.execute(select(models.c.id).where(same).limit(1)).first() is not None:
                raise conflict
            conn.execute(insert(models).values(**row))
    except IntegrityError:
        raise conflict from None
    notify_models_changed(project_id)
    return _definition(row)


def parse_start_date(text: str) -> int:
    """A startDate given as text (ISO 8601 date or date-time; no offset means UTC), in microseconds."""
    if not isinstance(text, str):
        raise ModelValidationError("startDate must be a string: an ISO 8601 date or date-time")
    try:
        start_date_us = parse_iso_to_us(text)
    except ValueError as exc:
        raise ModelValidationError(f"startDate must be a date (YYYY-MM-DD) or an ISO 8601 date-time: {exc}") from None
    _check_start_date(start_date_us)
    return start_date_us


def _check_start_date(start_date_us: int | None) -> None:
    if start_date_us is None:
        return
    if isinstance(start_date_us, bool) or not isinstance(start_date_us, int):
        raise ModelValidationError("startDate must be a time")
    if not 0 <= start_date_us <= MAX_US:
        raise ModelValidationError("startDate must be from 1970-01-01 to 9999-12-31 (UTC)")


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ModelValidationError("modelName must not be empty")
    name = value.strip()
    if len(name) > MAX_NAME:
        raise ModelValidationError(f"modelName is longer than {MAX_NAME} characters")
    if _CONTROL.search(name):
        raise ModelValidationError("modelName must not contain control characters (NUL, tab, newline, …)")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ModelValidationError("modelName must be valid Unicode text (it has an unpaired surrogate)") from None
    return name


def _choice(field: str, value: Any, allowed: tuple[str, ...], *, upper: bool = False) -> str:
    if isinstance(value, str):
        text = value.strip().upper() if upper else value.strip()
        if text in allowed:
            return text
    raise ModelValidationError(f"{field} must be one of {', '.join(allowed)}" + ("" if upper else " or null"))


def _merge_prices(prices: Mapping[str, Any] | None, **named: float | None) -> dict[str, float]:
    """One {usage type: USD per unit} map from ``prices`` and inputPrice/outputPrice/totalPrice."""
    merged: dict[str, float] = {}
    if prices is not None and not isinstance(prices, Mapping):
        raise ModelValidationError("prices must be an object {usageType: price}")
    if len(prices or {}) > MAX_PRICES:
        raise ModelValidationError(f"at most {MAX_PRICES} prices per model")
    for usage_type, raw in (prices or {}).items():
        key = usage_type.strip() if isinstance(usage_type, str) else ""
        if not _USAGE_TYPE.fullmatch(key):
            shown = repr(usage_type)[:40]
            raise ModelValidationError(
                f"prices: a usage type is 1 to {MAX_USAGE_TYPE} letters, digits, '_', '.', ':' or '-', not {shown}"
            )
        # The reference API answers {usageType: {"price": p}}; accept it back as well as a number.
        value = raw.get("price") if isinstance(raw, Mapping) else raw
        price = _price(f"prices.{key}", value)
        if merged.get(key, price) != price:
            raise ModelValidationError(f"prices.{key} is given twice with different values")
        merged[key] = price
    for usage_type, value in named.items():
        if value is None:
            continue
        price = _price(f"{usage_type}Price", value)
        if usage_type in merged and merged[usage_type] != price:
            raise ModelValidationError(f"{usage_type}Price and prices.{usage_type} disagree; give one of them")
        merged[usage_type] = price
    if not merged:
        raise ModelValidationError("give at least one price (inputPrice, outputPrice, totalPrice or prices)")
    if len(merged) > MAX_PRICES:
        raise ModelValidationError(f"at most {MAX_PRICES} prices per model")
    return merged


def _price(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelValidationError(f"{field} must be a number (USD per unit)")
    if not usable_price(value):
        raise ModelValidationError(f"{field} must be a non-negative number of at most {MAX_PRICE:,.0f} (USD per unit)")
    return float(value)


def list_models(
    engine: Engine, project_id: str, *, page: int = 1, limit: int = 50
) -> tuple[list[ModelDefinition], int]:
    """One page of the project's definitions (newest first) and the total count."""
    page, limit = max(page, 1), max(limit, 1)
    scoped = models.c.project_id == project_id
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(models).where(scoped)).scalar_one()
        rows = conn.execute(
            select(models)
            .where(scoped)
            .order_by(models.c.created_at_us.desc(), models.c.id)
            .limit(limit)
            .offset((page - 1) * limit)
        ).all()
    return [_definition(row._mapping) for row in rows], int(total)


def get_model(engine: Engine, project_id: str, model_id: str) -> ModelDefinition | None:
    with engine.connect() as conn:
        row = conn.execute(select(models).where(models.c.project_id == project_id, models.c.id == model_id)).first()
    return _definition(row._mapping) if row is not None else None


def delete_model(engine: Engine, project_id: str, model_id: str) -> bool:
    """Delete one definition of the project; False when it does not exist there."""
    with engine.begin() as conn:
        result = conn.execute(delete(models).where(models.c.project_id == project_id, models.c.id == model_id))
    deleted = bool(result.rowcount)
    if deleted:
        notify_models_changed(project_id)
    return deleted


def _definition(row: Mapping[Any, Any]) -> ModelDefinition:
    return ModelDefinition(
        id=row["id"],
        project_id=row["project_id"],
        model_name=row["model_name"],
        match_pattern=row["match_pattern"],
        start_date_us=row["start_date_us"],
        unit=row["unit"],
        prices=stored_prices(row["prices"]),
        tokenizer_id=row["tokenizer_id"],
        created_at_us=row["created_at_us"],
        updated_at_us=row["updated_at_us"],
    )
