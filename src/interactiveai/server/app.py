"""The application factory: one function builds the whole server, for `serve` and for tests alike."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from interactiveai.server.api import openapi
from interactiveai.server.auth import ApiKeyVerifier
from interactiveai.server.retention import RetentionWorker
from interactiveai.server.rollups.refresher import RollupRefresher
from interactiveai.server.settings import Settings, load_settings
from interactiveai.server.storage import migrate
from interactiveai.server.storage.engines import create_db_engine
from interactiveai.server.tenancy import FirstStart, ensure_first_start
from interactiveai.version import __version__

logger = logging.getLogger("interactiveai.server")


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    run_migrations: bool = True,
    first_start: bool = True,
) -> FastAPI:
    """Build the server. ``engine`` may be injected (tests); otherwise it comes from the settings."""
    settings = settings or load_settings()
    engine = engine or create_db_engine(settings.resolved_database_url, pool_size=settings.db_pool_size)
    if run_migrations:
        migrate.upgrade(engine)
    created = ensure_first_start(engine) if first_start else None

    from interactiveai.server.api.routes import router as api_router
    from interactiveai.server.bodies import install_request_limits
    from interactiveai.server.costs.routes import router as models_router
    from interactiveai.server.evals.crypto import secret_box
    from interactiveai.server.evals.routes import router as evals_router
    from interactiveai.server.evals.worker import EvalWorker
    from interactiveai.server.ingest.routes import router as ingest_router
    from interactiveai.server.ingest.service import IngestService
    from interactiveai.server.ui.routes import mount_ui

    ingest = IngestService(engine, settings)
    retention = RetentionWorker(engine)
    rollups = RollupRefresher(engine, settings.rollup_refresh_ms / 1000)
    box = secret_box(settings.encryption_key, settings.data_dir)
    evals = EvalWorker(engine, settings, box, ingest)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ingest.start()
        retention.start()
        rollups.start()
        evals.start()
        if created is not None:
            announce_first_start(created, settings)
        try:
            yield
        finally:
            evals.stop()
            rollups.stop()
            retention.stop()
            ingest.stop()

    app = FastAPI(
        title="InteractiveAI",
        version=__version__,
        description="LLM observability: OTLP ingestion, traces, observations, sessions, scores.",
        openapi_url="/api/public/openapi.json",
        docs_url=None,  # openapi.install serves it from vendored files, under a CSP
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.api_keys = ApiKeyVerifier(engine)
    app.state.ingest = ingest
    app.state.secret_box = box
    app.state.first_start = created

    _install_error_handlers(app)
    install_request_limits(app, settings)  # bodies.py: body caps, budget, timeouts
    app.include_router(ingest_router)
    app.include_router(api_router)
    app.include_router(models_router)
    app.include_router(evals_router)
    mount_ui(app)
    openapi.install(app)
    return app


def create_worker_app() -> FastAPI:
    """The app of one of several worker processes (`--workers N`): the parent process has already
    migrated the database and done the first-start set-up, so workers only serve."""
    return create_app(load_settings(), run_migrations=False, first_start=False)


def _install_error_handlers(app: FastAPI) -> None:
    """Errors answer ``{"message": …, "error": …}``, like the reference API; validation errors are 400."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette answers from the first route whose path matches; list every route's methods.
            headers["Allow"] = allowed_methods(app, request.scope) or headers.get("Allow", "")
        return JSONResponse(
            {"message": message, "error": _error_name(exc.status_code)},
            status_code=exc.status_code,
            headers=headers or None,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
            problems.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return JSONResponse(
            {"message": "Invalid request: " + "; ".join(problems), "error": "InvalidRequestError"},
            status_code=400,
        )


def allowed_methods(app: FastAPI, scope: Any) -> str:
    """Every method some route of ``app`` accepts on the request's path, for a 405's ``Allow``."""
    path = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    methods: set[str] = set()
    for route in openapi.all_routes(app):
        regex = getattr(route, "path_regex", None)
        if route.methods and regex is not None and regex.match(path):
            methods |= set(route.methods)
    return ", ".join(sorted(methods))


def _error_name(status: int) -> str:
    return openapi.ERROR_NAMES.get(status, "Error")


def announce_first_start(created: FirstStart, settings: Settings) -> None:
    lines = [
        "",
        "InteractiveAI first start — keep these, they are shown only once:",
        f"  project:     {created.project_name} ({created.project_id})",
    ]
    if created.key is not None:
        lines += [
            f"  public key:  {created.key.public_key}",
            f"  secret key:  {created.key.secret_key}",
        ]
    if created.user_email is not None:
        lines += [f"  login:       {created.user_email} / {created.user_password}"]
    lines += [f"  UI:          {settings.base_url}/", ""]
    print("\n".join(lines), flush=True)
