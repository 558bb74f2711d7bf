"""What every API router shares: the JSON response, dependencies, parameter parsing, errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from interactiveai.server.auth import ApiKey, require_api_key
from interactiveai.server.clock import parse_iso_to_us
from interactiveai.server.query.pagination import Page
from interactiveai.server.writes.errors import InvalidInputError

API_MAX_LIMIT = 100

T = TypeVar("T")


class JSON(Response):
    """orjson-rendered JSON. Routes return it directly, so FastAPI's per-field re-validation of
    large payloads (a trace with 1,000 observations) is skipped; the declared ``response_model``
    still documents the shape in the OpenAPI document, and the tests check responses against it."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


AuthKey = Annotated[ApiKey, Depends(require_api_key)]
DbEngine = Annotated[Engine, Depends(engine_of)]
PageParam = Annotated[int, Query(ge=1, description="Page number, from 1.")]
LimitParam = Annotated[int, Query(ge=1, le=API_MAX_LIMIT, description=f"Items per page, 1-{API_MAX_LIMIT}.")]


def bad_request(message: str) -> HTTPException:
    return HTTPException(status_code=400, detail=message)


def not_found(what: str, item_id: str) -> HTTPException:
    # The same answer whether the id does not exist or belongs to another project: a key must not
    # learn which ids other projects use.
    return HTTPException(status_code=404, detail=f"{what} {item_id} not found")


def or_404(value: T | None, what: str, item_id: str) -> T:
    """What a lookup found, or the 404 for ``what`` ``item_id`` when it found nothing."""
    if value is None:
        raise not_found(what, item_id)
    return value


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` documenting a required JSON body that the route reads untyped (the write
    layer validates it, one rule per message, instead of a schema error dump)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


@contextmanager
def client_errors() -> Iterator[None]:
    """Turn the query and write layers' ValueErrors (bad order, cursor, operator, input) into 400s."""
    try:
        yield
    except (ValueError, InvalidInputError) as exc:
        raise bad_request(str(exc)) from None


def iso_param(value: str | None, name: str) -> int | None:
    """An ISO 8601 query parameter as microseconds; a clear 400 when it does not parse."""
    if value is None or value == "":
        return None
    try:
        return parse_iso_to_us(value)
    except ValueError:
        raise bad_request(f"{name} must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z") from None


def list_param(values: Sequence[str] | None) -> list[str]:
    """A repeatable parameter that may also be comma-separated: ``?tags=a&tags=b`` or ``?tags=a,b``."""
    result: list[str] = []
    for value in values or ():
        result.extend(part.strip() for part in value.split(",") if part.strip())
    return list(dict.fromkeys(result))


def paged(page: Page[T], serialise: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    """The list envelope: ``{"data": [...], "meta": {page, limit, totalItems, totalPages}}``."""
    return {"data": [serialise(item) for item in page.items], "meta": meta(page)}


def meta(page: Page[Any]) -> dict[str, int]:
    total = page.total or 0
    return {"page": page.page, "limit": page.limit, "totalItems": total, "totalPages": page.total_pages}
