"""The OpenAPI document as the server really answers, and the page that shows it.

FastAPI documents a 200 and a 422 per operation; this server never sends 422 (validation errors
are 400s) and sends errors FastAPI cannot see: the key check is a dependency, the statuses are
raised in code. ``install`` makes ``app.openapi()`` return the completed document, derived from
the routes in one pass so that nobody has to remember a status per route:

- 400 when the operation has input that can fail validation (a query, header or cookie
  parameter, a non-string path parameter, a body);
- 401 and 503 (the key lookup's database is unreachable), with the ``basicAuth`` security
  requirement, when the operation depends on ``require_api_key``;
- 404 when the path has a parameter (no such id, or a value the router cannot place);
- every status the endpoint raises itself: the status literals next to an ``HTTPException`` (or a
  subclass) in its code and in the code of the package functions it calls, read from their
  bytecode (names and constants). ``raise HTTPException(409, …)`` in a helper is documented
  without being declared anywhere;
- 408 and 429 when the request carries a body: the request-body limits answer them to any body
  that stops arriving or does not fit the process's budget, before the route runs.

Error responses carry the ``Error`` schema, ``{"message": …, "error": …}``; 429 and 503 document
their ``Retry-After`` header. A status sent by a middleware rather than a route must be added to
``_operation_errors`` by hand.

Inputs are documented as the server reads them (``_document_inputs``), in the same pass:

- a query, path or header parameter is text when sent and absent otherwise, never null: the
  ``null`` branch FastAPI gives an optional parameter is dropped, so its constraints (enum,
  format, pattern) are the parameter's own;
- no string a request carries may hold a NUL character (``common.text_params`` for parameters,
  ``writes/errors.checked_text`` for body fields; PostgreSQL cannot store it): every string
  schema of a parameter or a request body that no pattern, enum or format bounds yet gets
  ``schemas.NO_NUL_PATTERN``.

``/api/public/docs`` is Swagger UI from vendored files (``ui/static/swagger-ui/``, Apache-2.0,
with its licence files), under the UI's content security policy: no third-party origin.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import html
import inspect
import json
import types
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from interactiveai.server.api.schemas import NO_NUL_PATTERN
from interactiveai.server.auth import require_api_key

# The error vocabulary of every JSON error body (app.py's handlers use it too).
ERROR_NAMES = {
    400: "InvalidRequestError",
    401: "UnauthorizedError",
    403: "AccessDeniedError",
    404: "NotFoundError",
    405: "MethodNotAllowedError",
    408: "RequestTimeoutError",
    409: "ConflictError",
    413: "PayloadTooLargeError",
    415: "UnsupportedMediaTypeError",
    429: "TooManyRequestsError",
    503: "ServiceUnavailableError",
}
_DESCRIPTIONS = {
    400: "Invalid request: a parameter or the body breaks a rule; `message` says which.",
    401: "Missing or wrong API key (HTTP Basic: public key as user name, secret key as password).",
    403: "Not allowed.",
    404: "Not found in the key's project.",
    405: "Method not allowed on this path.",
    408: "The body stopped arriving; the connection is closed.",
    409: "Conflicts with what exists.",
    413: "Body too large.",
    415: "Unsupported content type or encoding.",
    429: "Too busy (a full queue or body budget): retry after `Retry-After` seconds.",
    503: "The database is unreachable: retry after `Retry-After` seconds.",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "properties": {
        "message": {"type": "string", "description": "What went wrong, for a person."},
        "error": {"type": "string", "description": "The error's name, e.g. NotFoundError."},
    },
    "required": ["message", "error"],
}
_BODY_STATUSES = {408, 429}
SECURITY_SCHEME = "basicAuth"
DOCS_PATH = "/api/public/docs"


def install(app: FastAPI) -> None:
    """Complete ``app.openapi()`` (computed once, then cached like FastAPI's) and serve the docs page."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if not getattr(app.state, "openapi_completed", False):
            app.openapi_schema = complete(generate(), all_routes(app))
            app.state.openapi_completed = True
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get(DOCS_PATH, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return HTMLResponse(_docs_html(app.openapi_url or ""), headers=_docs_headers())


def complete(document: dict[str, Any], routes: Iterable[Any]) -> dict[str, Any]:
    """``document`` with every operation's real error responses and security (a new dict)."""
    document = copy.deepcopy(document)
    by_operation = {
        (method.lower(), route.path_format): route
        for route in routes
        if getattr(route, "dependant", None) is not None
        for method in route.methods or ()
    }
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
        "type": "http",
        "scheme": "basic",
        "description": "The project's public key as the user name and its secret key as the password.",
    }
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict):
                _document_inputs(operation)
            route = by_operation.get((method, path))
            if route is None:
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            authenticated = _depends_on(route.dependant, require_api_key)
            if authenticated:
                operation["security"] = [{SECURITY_SCHEME: []}]
            for status in _operation_errors(method, operation, route, authenticated):
                responses.setdefault(str(status), _error_response(status))
            operation["responses"] = dict(sorted(responses.items()))
    _drop_unreferenced(components["schemas"], ("HTTPValidationError", "ValidationError"), document)
    return document


def _operation_errors(method: str, operation: dict[str, Any], route: Any, authenticated: bool) -> set[int]:
    statuses = set(_raised_statuses(route.endpoint))
    for dependency in _dependencies(route.dependant):
        statuses |= _raised_statuses(dependency)
    parameters = operation.get("parameters", [])
    if "requestBody" in operation or any(
        p["in"] != "path" or p.get("schema", {}).get("type", "string") != "string" for p in parameters
    ):
        statuses.add(400)
    if any(p["in"] == "path" for p in parameters):
        statuses.add(404)
    if authenticated:
        statuses |= {401, 503}
    if "requestBody" in operation or method in ("post", "put", "patch"):
        statuses |= _BODY_STATUSES
    return statuses


def _document_inputs(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if isinstance(parameter.get("schema"), dict):
            parameter["schema"] = _never_null(parameter["schema"])
            _forbid_nul(parameter["schema"])
        for media in parameter.get("content", {}).values():
            _forbid_nul(media.get("schema"))
    for media in operation.get("requestBody", {}).get("content", {}).values():
        _forbid_nul(media.get("schema"))


def _never_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without the ``null`` branch of ``anyOf`` (a parameter is absent, not null)."""
    branches = schema.get("anyOf")
    if not isinstance(branches, list) or {"type": "null"} not in branches:
        return schema
    rest = [branch for branch in branches if branch != {"type": "null"}]
    outer = {key: value for key, value in schema.items() if key != "anyOf"}
    if len(rest) == 1:
        return {**rest[0], **outer}
    return {**outer, "anyOf": rest}


_BOUNDED = ("pattern", "enum", "const", "format")
# where a value's own schema (not a condition on it) is found: the branches of its union, its
# properties and items. Conditions (if, not, allOf rules) restate a field's schema and are left alone.
_VALUE_KEYWORDS = ("anyOf", "oneOf")
_CHILDREN = ("properties", "$defs", "patternProperties")
_CHILD = ("items", "additionalProperties")


def _forbid_nul(schema: Any, bounded: bool = False) -> None:
    """Give every string schema in ``schema`` that nothing bounds yet the no-NUL pattern."""
    if not isinstance(schema, dict):
        return
    bounded = bounded or any(key in schema for key in _BOUNDED)
    kind = schema.get("type")
    if not bounded and (kind == "string" or (isinstance(kind, list) and "string" in kind)):
        schema["pattern"] = NO_NUL_PATTERN
    for key in _VALUE_KEYWORDS:
        for branch in schema.get(key, ()):
            _forbid_nul(branch, bounded)  # a union's branches share its bounds
    for key in _CHILDREN:
        for child in schema.get(key, {}).values():
            _forbid_nul(child)
    for key in _CHILD:
        _forbid_nul(schema.get(key))
    for child in schema.get("prefixItems", ()):
        _forbid_nul(child)


def _error_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status in (429, 503):
        response["headers"] = _RETRY_AFTER
    return response


def all_routes(app: FastAPI) -> list[Any]:
    """Every route of the app, however deeply its routers are included (with path_regex and methods)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before router contexts: app.routes is already flat
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def _dependencies(dependant: Any) -> list[Callable[..., Any]]:
    calls = []
    for sub in dependant.dependencies:
        if sub.call is not None:
            calls.append(sub.call)
        calls.extend(_dependencies(sub))
    return calls


def _depends_on(dependant: Any, call: Callable[..., Any]) -> bool:
    return any(dependency is call for dependency in _dependencies(dependant))


@functools.cache
def _raised_statuses(func: Callable[..., Any]) -> frozenset[int]:
    """The error statuses ``func`` and the package functions it calls raise as ``HTTPException``."""
    statuses: set[int] = set()
    seen: set[int] = set()

    def visit(code: types.CodeType, namespace: dict[str, Any]) -> None:
        if id(code) in seen:
            return
        seen.add(id(code))
        if any(_is_http_exception(namespace.get(name)) for name in code.co_names):
            statuses.update(c for c in code.co_consts if type(c) is int and c in ERROR_NAMES)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):  # nested functions, comprehensions
                visit(const, namespace)
        for name in code.co_names:
            target = inspect.unwrap(namespace[name]) if callable(namespace.get(name)) else None
            if inspect.isfunction(target) and target.__module__.startswith("interactiveai.server"):
                visit(target.__code__, target.__globals__)

    target = inspect.unwrap(func)
    if inspect.isfunction(target):
        visit(target.__code__, target.__globals__)
    return frozenset(statuses)


def _is_http_exception(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, StarletteHTTPException)


def _drop_unreferenced(schemas: dict[str, Any], names: tuple[str, ...], document: dict[str, Any]) -> None:
    for name in names:
        if name in schemas:
            rest = {k: v for k, v in schemas.items() if k != name}
            text = json.dumps({"paths": document.get("paths"), "schemas": rest})
            if f'"#/components/schemas/{name}"' not in text:
                del schemas[name]


# --- the docs page ----------------------------------------------------------------------------------

_SWAGGER_FILES = ("swagger-ui/swagger-ui.css", "swagger-ui/swagger-ui-bundle.js", "api-docs.js")


def _docs_html(openapi_url: str) -> str:
    css, bundle, init = (_static_url(name) for name in _SWAGGER_FILES)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>InteractiveAI API</title>
<link rel="icon" href="/static/favicon.svg">
<link rel="stylesheet" href="{css}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{html.escape(openapi_url)}"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""


@functools.cache
def _static_url(name: str) -> str:
    from interactiveai.server.ui.pages import STATIC_DIR

    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"/static/{name}?v={digest}"


def _docs_headers() -> dict[str, str]:
    # /api/ paths skip the UI's header middleware; the docs page is a UI page and gets its headers.
    from interactiveai.server.ui.pages import SECURITY_HEADERS

    return {"Cache-Control": "no-store", **{k.decode(): v.decode() for k, v in SECURITY_HEADERS}}
