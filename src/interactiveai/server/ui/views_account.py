"""The signed-in user's own account: change the password; create a project (its creator owns it).

A password change asks for the current password (failures count against the login throttle, as
wrong logins do), follows the CLI's strength rule, ends every session of the user, and starts a
fresh one for the browser that made the change: the user's other browsers are signed out.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import Engine, select

from interactiveai.server.accounts import MembershipError, create_project_for, replace_password
from interactiveai.server.passwords import MIN_PASSWORD_LENGTH, WeakSecretError, verify_password
from interactiveai.server.storage.schema import users
from interactiveai.server.tenancy import start_session
from interactiveai.server.ui.auth import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    Access,
    LoginRateLimiter,
    ProjectRef,
    SessionSigner,
    User,
    authenticate,
    check_csrf,
    client_address,
    current_user,
    retry_after,
    user_projects,
)
from interactiveai.server.ui.manage import notice_from, redirect_with_notice
from interactiveai.server.ui.pages import render

router = APIRouter(include_in_schema=False)
PASSWORD_PATH = "/account/password"


def account_access(request: Request, user: User, project_id: str | None = None) -> Access | None:
    """The header's context on pages outside a project: the project named (if visible), else the first."""
    visible = user_projects(request.app.state.engine, user)
    if not visible:
        return None
    chosen = next((ref for ref in visible if ref.id == project_id), visible[0])
    return Access(user, chosen, visible)


def _password_page(
    request: Request, user: User, project_id: str | None, *, error: str | None = None, status: int = 200
) -> Response:
    context = {
        "access": account_access(request, user, project_id),
        "account_user": user,
        "project_id": project_id or "",
        "error": error,
        "notice": notice_from(request),
        "section": "account",
        "min_password": MIN_PASSWORD_LENGTH,
    }
    return render(request, "account_password.html", context, status_code=status)


@router.get(PASSWORD_PATH)
def password_page(request: Request, project: str | None = None) -> Response:
    return _password_page(request, current_user(request), project)


@router.post(PASSWORD_PATH)
def change_password(
    request: Request,
    current_password: str = Form(""),
    new_password: str = Form(""),
    confirm_password: str = Form(""),
    project: str = Form(""),
    csrf_token: str = Form("", alias=CSRF_FIELD),
) -> Response:
    check_csrf(request, csrf_token)
    user = current_user(request)
    engine = request.app.state.engine
    limiter: LoginRateLimiter = request.app.state.ui_login_limiter
    client = client_address(request)
    wait = limiter.attempt(client, user.email)
    if wait > 0:
        error = f"Too many wrong passwords. Try again in {retry_after(wait)} seconds."
        response = _password_page(request, user, project, error=error, status=429)
        response.headers["Retry-After"] = retry_after(wait)
        return response
    if authenticate(engine, user.email, current_password) is None:
        return _password_page(request, user, project, error="The current password is wrong.", status=400)
    limiter.succeeded(client, user.email)
    if new_password != confirm_password:
        return _password_page(request, user, project, error="The new passwords do not match.", status=400)
    if _same_password(engine, user, new_password):
        error = "The new password is the same as the current one."
        return _password_page(request, user, project, error=error, status=400)
    try:
        replace_password(engine, user.id, new_password)
    except WeakSecretError as exc:
        error = str(exc)[0].upper() + str(exc)[1:] + "."
        return _password_page(request, user, project, error=error, status=400)
    # Every session ended with the old password; this browser gets a new one, the others stay out.
    fresh = authenticate(engine, user.email, new_password)
    assert fresh is not None
    signer: SessionSigner = request.app.state.ui_signer
    query = {"project": project} if project else {}
    response = redirect_with_notice(PASSWORD_PATH, "password-changed", **query)
    response.set_cookie(
        SESSION_COOKIE,
        signer.session_value(start_session(engine, fresh.id, SESSION_MAX_AGE), fresh),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookies_secure,
        path="/",
    )
    return response


def _same_password(engine: Engine, user: User, password: str) -> bool:
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.id == user.id)).scalar()
    return stored is not None and verify_password(password, stored)


@router.post("/projects")
def create_project(request: Request, name: str = Form(""), csrf_token: str = Form("", alias=CSRF_FIELD)) -> Response:
    """Any signed-in user may create a project; they become its owner and see its first key once."""
    from interactiveai.server.ui.views_settings import settings_response

    check_csrf(request, csrf_token)
    user = current_user(request)
    engine = request.app.state.engine
    try:
        project_id, key = create_project_for(engine, user.id, name)
    except MembershipError as exc:
        return render(
            request,
            "message.html",
            {"title": "Project not created", "message": str(exc), "user": user},
            status_code=400,
        )
    visible = user_projects(engine, user)
    ref = next((p for p in visible if p.id == project_id), ProjectRef(project_id, name.strip()))
    return settings_response(request, Access(user, ref, visible), new_key=key, new_project=True)
