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
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from interactiveai.server.api.common import JsonBody, json_body, model_body, text_params
from interactiveai.server.auth import ApiKey, require_api_key
from interactiveai.server.clock import us_to_iso
from interactiveai.server.costs import models as model_store
from interactiveai.server.query.pagination import MAX_PAGE

# text_params: a NUL in the path or the query is a 400, as on every other route of the API.
router = APIRouter(prefix="/api/public", tags=["models"], dependencies=[Depends(text_params)])

Price = Annotated[float, Field(strict=True)]  # strict: "0.1" or true are not prices


class CreateModelRequest(BaseModel):
    """Body of ``POST /api/public/models`` (prices are USD per unit)."""

    model_config = ConfigDict(extra="ignore")

    modelName: str
    matchPattern: str
    startDate: str | None = None
    unit: str | None = None
    inputPrice: Price | None = None
    outputPrice: Price | None = None
    totalPrice: Price | None = None
    prices: dict[str, Any] | None = None
    tokenizerId: str | None = None


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
