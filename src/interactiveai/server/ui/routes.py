"""Mounts the web UI on the app: routers, static files, session signing, error pages, security headers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from interactiveai.server.ui.auth import (
    CsrfFailed,
    LoginRateLimiter,
    LoginRequired,
    NotFoundPage,
    SessionSigner,
    load_or_create_secret,
    login_url,
)
from interactiveai.server.ui.manage import Forbidden, forbidden_page
from interactiveai.server.ui.pages import (
    STATIC_DIR,
    FormsWithoutNul,
    SecurityHeadersMiddleware,
    build_environment,
    render,
)


def mount_ui(app: FastAPI) -> None:
    """Add every UI route to ``app``; called once by ``create_app``."""
    from interactiveai.server.ui import (
        login,
        views_account,
        views_comments,
        views_dashboard,
        views_dataset_import,
        views_datasets,
        views_evaluator_connections,
        views_evaluator_form,
        views_evaluator_page,
        views_evaluators,
        views_members,
        views_people,
        views_review,
        views_review_items,
        views_scores,
        views_settings,
        views_trace_actions,
        views_traces,
    )

    settings = app.state.settings
    app.state.ui_signer = SessionSigner(load_or_create_secret(settings.data_dir))
    app.state.ui_login_limiter = LoginRateLimiter()
    app.state.ui_env = build_environment()
    app.state.ui_options_cache = {}  # filter suggestions per (project, range), see views_traces

    app.add_middleware(SecurityHeadersMiddleware)
    FormsWithoutNul.install(app)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.include_router(login.router)
    app.include_router(views_scores.router)  # before views_traces: its POST path is more specific
    app.include_router(views_trace_actions.router)  # before views_traces: its POST paths are more specific
    app.include_router(views_comments.router)
    app.include_router(views_traces.router)
    app.include_router(views_people.router)
    app.include_router(views_dashboard.router)
    app.include_router(views_settings.router)
    app.include_router(views_members.router)
    app.include_router(views_account.router)
    app.include_router(views_dataset_import.router)  # before views_datasets: /datasets/add-traces
    app.include_router(views_datasets.router)
    app.include_router(views_evaluator_form.router)  # before views_evaluator_page: /evaluators/new
    app.include_router(views_evaluator_page.router)
    app.include_router(views_evaluator_connections.router)
    app.include_router(views_evaluators.router)
    app.include_router(views_review_items.router)  # before views_review: its POST paths are more specific
    app.include_router(views_review.router)
    _install_handlers(app)


def _wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json")


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: Exception) -> Response:
        if _wants_json(request):
            return JSONResponse({"message": "Login required", "error": "UnauthorizedError"}, status_code=401)
        return RedirectResponse(login_url(request), status_code=303)

    @app.exception_handler(NotFoundPage)
    async def not_found(request: Request, _exc: Exception) -> Response:
        if _wants_json(request):
            return JSONResponse({"message": "Not found", "error": "NotFoundError"}, status_code=404)
        return render(
            request,
            "message.html",
            {"title": "Not found", "message": "There is nothing here, or you do not have access to it."},
            status_code=404,
        )

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, _exc: Exception) -> Response:
        return forbidden_page(request)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, _exc: Exception) -> Response:
        return render(
            request,
            "message.html",
            {
                "title": "Form expired",
                "message": "The form was missing its security token or it expired. Go back, reload and try again.",
            },
            status_code=403,
        )
