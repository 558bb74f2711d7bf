"""What every API router shares: the JSON response, dependencies, parameter parsing, errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import orjson
from anyio import to_thread
from fastapi import Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine
from starlette.convertors import PathConvertor, register_url_convertor

from interactiveai.server.auth import ApiKey, require_api_key
from interactiveai.server.bodies import read_body
from interactiveai.server.clock import parse_iso_to_us
from interactiveai.server.json_values import response_bytes
from interactiveai.server.query.pagination import MAX_PAGE, Page
from interactiveai.server.writes.errors import InvalidInputError

API_MAX_LIMIT = 100

T = TypeVar("T")


class AnyCharacterPath(PathConvertor):
    """Starlette's ``{name:path}`` convertor, except that it matches a newline too.

    Starlette's ``.*`` stops at a newline, so a session id, score id, dataset, run or item name
    holding one (accepted by ingestion and the REST writes: they refuse only NUL) could not be
    opened (404), and one ending in a newline opened another (``$`` matches before a final
    newline). Registered once, under the same name, before any route is declared (this module is
    imported by every API router and by ui/pages.py): every ``:path`` route, now and later, takes
    any character. ``{name}`` (``[^/]+``) already does, except "/".
    """

    regex = "(?s:.*)"


register_url_convertor("path", AnyCharacterPath())


class JSON(Response):
    """orjson-rendered JSON. Routes return it directly, so FastAPI's per-field re-validation of
    large payloads (a trace with 1,000 observations) is skipped; the declared ``response_model``
    still documents the shape in the OpenAPI document, and the tests check responses against it."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return response_bytes(content)


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


AuthKey = Annotated[ApiKey, Depends(require_api_key)]
DbEngine = Annotated[Engine, Depends(engine_of)]
PageParam = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Page number, 1-{MAX_PAGE}.")]
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
    """``openapi_extra`` documenting the required JSON body of a route that reads it with
    :data:`JsonBody` (untyped: the write layer validates it, one rule per message, instead of a
    schema error dump; or with :func:`model_body`)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


_PARSE_IN_THREAD_BYTES = 256 * 1024  # larger documents are parsed off the event loop


async def _json_payload(request: Request, _key: AuthKey) -> Any:
    """The JSON body of a REST write, read only once the API key was accepted (``_key``):
    415 for a non-JSON Content-Type, 413 past ``max_json_body_bytes`` (declared or counted,
    bodies.py), 400 for an empty or malformed document. FastAPI reads ``Body()`` parameters
    before it solves dependencies, so REST routes take their body from here instead."""
    _require_json(request.headers.get("content-type"))
    raw = await read_body(request, request.app.state.settings.max_json_body_bytes)
    if not raw.strip():
        raise bad_request("the request body is empty: send a JSON document")
    try:
        if len(raw) > _PARSE_IN_THREAD_BYTES:
            return await to_thread.run_sync(orjson.loads, raw)
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"the request body is not valid JSON: {exc}") from None


def _require_json(content_type: str | None) -> None:
    # No Content-Type is read as JSON (simple clients omit it); a declared other type is refused,
    # as the reference API cannot read it either (curl -d sends application/x-www-form-urlencoded).
    if not content_type:
        return
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or (media.startswith("application/") and media.endswith("+json")):
        return
    raise HTTPException(
        status_code=415,
        detail=f"Unsupported Content-Type {content_type!r}: send the body as JSON, with Content-Type: application/json",
    )


JsonBody = Annotated[Any, Depends(_json_payload)]
"""A REST write's parsed JSON body (any JSON value), authenticated first and size-bounded."""

M = TypeVar("M", bound=BaseModel)


def model_body(model: type[M], payload: Any) -> M:
    """``payload`` validated as ``model``; a 400 naming each broken field (app.py's handler)."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None


@contextmanager
def client_errors() -> Iterator[None]:
    """Turn the query and write layers' ValueErrors (bad order, cursor, operator, input) into 400s."""
    try:
        yield
    except (ValueError, InvalidInputError) as exc:
        raise bad_request(str(exc)) from None


def iso_param(value: str | None, name: str) -> int | None:
    """An ISO 8601 query parameter as microseconds; a clear 400 when it does not parse, or names a
    time outside years 1-9999 (UTC), which no reader could show."""
    if value is None or value == "":
        return None
    try:
        return parse_iso_to_us(value)
    except ValueError as exc:
        raise bad_request(f"{name} must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z: {exc}") from None


def text_params(request: Request) -> None:
    """Refuse a NUL character in the path or in any query parameter, name or value, with a 400.

    No id, name or filter value contains NUL, and PostgreSQL refuses it in a text parameter (the
    query would fail with a 500 there and match nothing on SQLite): one rule, for every route of
    the router it is a dependency of, and both engines answer the same.
    """
    if "\x00" in request.url.path:
        raise bad_request("the path must not contain a NUL character (%00)")
    for key, value in request.query_params.multi_items():
        if "\x00" in key or "\x00" in value:
            raise bad_request(f"query parameter {key.replace(chr(0), '')!r} must not contain a NUL character (%00)")


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
