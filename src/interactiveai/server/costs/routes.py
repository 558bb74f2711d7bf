"""The models REST API: ``/api/public/models`` — the project's own price definitions.

Shapes follow the reference public API so that existing scripts work: a model object carries
``prices`` as ``{usageType: {"price": p}}`` and ``isLangfuseManaged`` (always false, next to our
``isManaged``), and the deprecated ``inputPrice``/``outputPrice``/``totalPrice`` mirror the
``input``/``output``/``total`` prices. Catalog (genai-prices) models are packaged data, not rows,
so lists hold only the project's definitions; they win over the catalog when they match.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field, WithJsonSchema
from sqlalchemy import Engine

from interactiveai.server.api.common import JsonBody, json_body, model_body, text_params
from interactiveai.server.api.models import documented
from interactiveai.server.api.schemas import PY_SPACE, START_DATE_PATTERN, choice, nullable
from interactiveai.server.auth import ApiKey, require_api_key
from interactiveai.server.clock import us_to_iso
from interactiveai.server.costs import models as model_store
from interactiveai.server.costs.patterns import MAX_PATTERN_LENGTH
from interactiveai.server.costs.pricing import MAX_PRICE
from interactiveai.server.query.pagination import MAX_PAGE

# text_params: a NUL in the path or the query is a 400, as on every other route of the API.
router = APIRouter(prefix="/api/public", tags=["models"], dependencies=[Depends(text_params)])

# The body's documented schema states the rules of ``models.create_model`` (WithJsonSchema: the
# schema only; the model checks types, create_model the rules, each with its own message).
_PRICE: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": MAX_PRICE}
Price = Annotated[float, Field(strict=True), WithJsonSchema(_PRICE)]  # strict: "0.1" or true are not prices
_CONTROL = r"\u0000-\u001f\u007f"
_MODEL_NAME = (  # stripped: 1 to MAX_NAME characters, no control character
    f"^[{PY_SPACE}]*[^{_CONTROL}{PY_SPACE}]([^{_CONTROL}]{{0,{model_store.MAX_NAME - 2}}}[^{_CONTROL}{PY_SPACE}])?"
    f"[{PY_SPACE}]*$"
)
_MATCH_PATTERN = rf"^[^\u0000]*[^\u0000{PY_SPACE}][^\u0000]*$"  # not blank, no NUL
_USAGE_TYPE = rf"^[{PY_SPACE}]*[A-Za-z0-9_.:-]{{1,{model_store.MAX_USAGE_TYPE}}}[{PY_SPACE}]*$"
_START_DATE = {
    "anyOf": [
        {"type": "string", "format": "date-time", "pattern": START_DATE_PATTERN},
        {"type": "string", "format": "date", "pattern": START_DATE_PATTERN},
        {"type": "string", "maxLength": 0},
        {"type": "null"},
    ]
}


def _has(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": [name], "properties": {name: schema}}


_NUMBER = {"type": "number"}
_MODEL_RULES: list[dict[str, Any]] = [
    {  # at least one price
        "anyOf": [
            *(_has(name, _NUMBER) for name in ("inputPrice", "outputPrice", "totalPrice")),
            _has("prices", {"type": "object", "minProperties": 1}),
        ]
    },
    {  # totalPrice alone
        "if": _has("totalPrice", _NUMBER),
        "then": {"properties": {"inputPrice": {"type": "null"}, "outputPrice": {"type": "null"}}},
    },
]


class CreateModelRequest(BaseModel):
    """Body of ``POST /api/public/models`` (prices are USD per unit).

    Also answered 400, naming the rule: a ``matchPattern`` that is not a regular expression of the
    RE2 syntax, or too complex; a price given twice with different values (``inputPrice`` and
    ``prices.input``, or usage types equal once trimmed); more than 50 prices in all; a project's
    1,001st definition. A definition with the same name, unit and start date is a 409.
    """

    model_config = documented(
        {
            "modelName": "gpt-4o-finetuned",
            "matchPattern": "(?i)^ft:gpt-4o(-2024-08-06)?:acme",
            "startDate": "2026-01-01",
            "unit": "TOKENS",
            "inputPrice": 3.75e-6,
            "outputPrice": 1.5e-5,
            "prices": {"input_cached_tokens": 1.875e-6},
        },
        rules=_MODEL_RULES,
    )

    modelName: Annotated[str, WithJsonSchema({"type": "string", "pattern": _MODEL_NAME})] = Field(
        description=f"1-{model_store.MAX_NAME} characters once trimmed, no control characters."
    )
    matchPattern: Annotated[
        str,
        WithJsonSchema({"type": "string", "maxLength": MAX_PATTERN_LENGTH, "pattern": _MATCH_PATTERN}),
    ] = Field(description="An RE2 regular expression matched against model names (e.g. `(?i)^gpt-4o$`).")
    startDate: Annotated[str | None, WithJsonSchema(_START_DATE)] = Field(
        None, description="From when the prices apply: an RFC 3339 date or date-time, 1970-9999 (UTC)."
    )
    unit: Annotated[str | None, choice(model_store.UNITS, empty=True)] = Field(
        None, description="In any case; TOKENS when absent or empty."
    )
    inputPrice: Price | None = None
    outputPrice: Price | None = None
    totalPrice: Price | None = Field(None, description="Not together with inputPrice or outputPrice.")
    prices: Annotated[
        dict[str, Any] | None,
        WithJsonSchema(
            nullable(
                {
                    "type": "object",
                    "maxProperties": model_store.MAX_PRICES,
                    "propertyNames": {"pattern": _USAGE_TYPE},
                    "additionalProperties": {"anyOf": [_PRICE, {"type": "object", **_has("price", _PRICE)}]},
                }
            )
        ),
    ] = Field(None, description='Price per usage type: a number, or {"price": number}.')
    tokenizerId: Annotated[str | None, choice(model_store.TOKENIZERS)] = None


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def model_to_api(model: model_store.ModelDefinition) -> dict[str, Any]:
    """The API's model object (also what the UI settings page renders)."""
    return {
        "id": model.id,
        "modelName": model.model_name,
        "matchPattern": model.match_pattern,
        "startDate": us_to_iso(model.start_date_us),
        "unit": model.unit,
        "inputPrice": model.input_price,
        "outputPrice": model.output_price,
        "totalPrice": model.total_price,
        "prices": {usage_type: {"price": price} for usage_type, price in sorted(model.prices.items())},
        "tokenizerId": model.tokenizer_id,
        "tokenizerConfig": None,
        "isManaged": False,
        "isLangfuseManaged": False,
        "createdAt": us_to_iso(model.created_at_us),
        "updatedAt": us_to_iso(model.updated_at_us),
    }


@router.get("/models")
def list_models(
    key: Annotated[ApiKey, Depends(require_api_key)],
    engine: Annotated[Engine, Depends(_engine)],
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> dict[str, Any]:
    """The project's model definitions, newest first (catalog models are packaged data, not listed)."""
    items, total = model_store.list_models(engine, key.project_id, page=page, limit=limit)
    return {
        "data": [model_to_api(m) for m in items],
        "meta": {"page": page, "limit": limit, "totalItems": total, "totalPages": math.ceil(total / limit)},
    }


@router.post("/models", openapi_extra=json_body(CreateModelRequest.model_json_schema()))
def create_model(
    key: Annotated[ApiKey, Depends(require_api_key)],
    engine: Annotated[Engine, Depends(_engine)],
    payload: JsonBody,
) -> dict[str, Any]:
    """Create a definition; it applies to observations ingested from now on (costs are frozen)."""
    body = model_body(CreateModelRequest, payload)  # read once the key is accepted (api/common.py)
    try:
        created = model_store.create_model(
            engine,
            key.project_id,
            model_name=body.modelName,
            match_pattern=body.matchPattern,
            start_date_us=model_store.parse_start_date(body.startDate) if body.startDate else None,
            unit=body.unit,
            prices=body.prices,
            input_price=body.inputPrice,
            output_price=body.outputPrice,
            total_price=body.totalPrice,
            tokenizer_id=body.tokenizerId,
        )
    except model_store.ModelValidationError as exc:
        raise HTTPException(400, str(exc)) from None
    except model_store.ModelConflictError as exc:
        raise HTTPException(409, str(exc)) from None
    return model_to_api(created)


@router.get("/models/{model_id}")
def get_model(
    model_id: str,
    key: Annotated[ApiKey, Depends(require_api_key)],
    engine: Annotated[Engine, Depends(_engine)],
) -> dict[str, Any]:
    found = model_store.get_model(engine, key.project_id, model_id)
    if found is None:
        raise HTTPException(404, f"Model {model_id} not found in this project")
    return model_to_api(found)


@router.delete("/models/{model_id}", status_code=204)
def delete_model(
    model_id: str,
    key: Annotated[ApiKey, Depends(require_api_key)],
    engine: Annotated[Engine, Depends(_engine)],
) -> Response:
    if not model_store.delete_model(engine, key.project_id, model_id):
        raise HTTPException(404, f"Model {model_id} not found in this project")
    return Response(status_code=204)
