"""Rendering: the Jinja environment (autoescape on), static asset URLs, cookies and security headers."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interactiveai.server.api import common as _api_common  # noqa: F401  (":path" routes take any character)
from interactiveai.server.json_values import response_bytes
from interactiveai.server.ui import formatting
from interactiveai.server.ui.auth import CSRF_COOKIE, SESSION_MAX_AGE, csrf_token

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
_API_PREFIXES = ("/api/", "/v1/")


def build_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,  # every template, whatever its extension: payloads are attacker-controlled
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    formatting.register(env)
    versions = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:10] for p in STATIC_DIR.glob("*") if p.is_file()}

    def static_url(name: str) -> str:
        return f"/static/{name}?v={versions.get(name, '0')}"

    env.globals["static_url"] = static_url
    return env


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    env: jinja2.Environment = request.app.state.ui_env
    full = {"request": request, "csrf_token": csrf_token(request), "access": None, **context}
    html = env.get_template(template).render(full)
    response = HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
    set_csrf_cookie(request, response)
    return response


class JSONTwin(Response):
    """A page's JSON twin, written as the API writes its JSON (``json_values.response_bytes``):
    a non-finite number stored by an older version reads as null instead of failing the page."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return response_bytes(content)


def json_response(request: Request, data: Any, status_code: int = 200) -> JSONTwin:
    return JSONTwin(data, status_code=status_code, headers={"Cache-Control": "no-store"})


def set_csrf_cookie(request: Request, response: Response) -> None:
    token = getattr(request.state, "new_csrf", None)
    if token:
        response.set_cookie(
            CSRF_COOKIE,
            token,
            max_age=SESSION_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=request.app.state.settings.cookies_secure,
            path="/",
        )


def _text_headers() -> list[tuple[str, str]]:
    return [(k.decode(), v.decode()) for k, v in SECURITY_HEADERS]


class SecurityHeadersMiddleware:
    """Adds CSP and friends to every UI response, gzipped (API and ingestion paths are left untouched).

    The trace detail's tree data is about 115 bytes per observation; gzip brings a 10,000-observation
    trace from ~1.2 MB to ~135 kB on the wire.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=2048, compresslevel=6)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_API_PREFIXES):
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            # NUL is never part of an id or a filter, and PostgreSQL rejects it in text parameters
            await PlainTextResponse("Not found", status_code=404, headers=dict(_text_headers()))(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() not in dict(SECURITY_HEADERS)]
                message["headers"] = headers + SECURITY_HEADERS
            await send(message)

        await self.gzip(scope, receive, send_with_headers)


class FormsWithoutNul:
    """Refuses a page's form body (400) as soon as it holds a NUL character: no form field of any
    page (login, settings, annotations, datasets, deletions) takes one, and PostgreSQL refuses
    it in a text parameter. URL-encoded forms carry it as ``%00`` (a literal ``%`` is ``%25``),
    multipart ones as a zero byte.

    Raised from ``receive`` like bodies.py's limits, so the route's form parsing stops there; it
    must run inside bodies.RequestBodies (``install`` puts it innermost), which has then counted
    the chunk, and knows whether the body is complete or must be drained behind the answer.
    """

    _TAIL = 2  # bytes kept from the previous chunk: ``%00`` split across two chunks is still seen

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @classmethod
    def install(cls, app: FastAPI) -> None:
        app.user_middleware.append(Middleware(cls))  # innermost: add_middleware would make it outermost

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD") or scope["path"].startswith(_API_PREFIXES):
            await self.app(scope, receive, send)
            return
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"").lower()
        encoded = content_type.startswith(b"application/x-www-form-urlencoded")
        tail = b""

        async def checked_receive() -> Message:
            nonlocal tail
            message = await receive()
            if message["type"] == "http.request":
                chunk = tail + message.get("body", b"")
                if b"\x00" in chunk or (encoded and b"%00" in chunk):
                    raise HTTPException(400, "a form value must not contain a NUL character (%00)")
                tail = chunk[-self._TAIL :]
            return message

        await self.app(scope, checked_receive, send)
