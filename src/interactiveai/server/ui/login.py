"""Login, logout and the home redirect."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from interactiveai.server.ui.auth import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    LoginRateLimiter,
    LoginRequired,
    SessionSigner,
    authenticate,
    check_csrf,
    current_user,
    safe_next,
    user_projects,
)
from interactiveai.server.ui.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request) -> Response:
    user = current_user(request)
    visible = user_projects(request.app.state.engine, user)
    if not visible:
        return render(request, "message.html", {"title": "No projects", "message": _NO_PROJECTS, "user": user})
    return RedirectResponse(f"/project/{visible[0].id}/traces", status_code=303)


_NO_PROJECTS = "Your account is not a member of any project yet. Ask an administrator to add you to one."


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    try:
        current_user(request)
    except LoginRequired:
        return render(request, "login.html", {"next": safe_next(next), "error": None, "email": ""})
    return RedirectResponse(safe_next(next), status_code=303)  # already logged in


@router.post("/login")
def login_submit(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    csrf_token: str = Form("", alias=CSRF_FIELD),
) -> Response:
    check_csrf(request, csrf_token)
    limiter: LoginRateLimiter = request.app.state.ui_login_limiter
    client_ip = request.client.host if request.client else "unknown"
    if not limiter.allow(f"ip:{client_ip}", f"email:{email.strip().lower()}"):
        response = render(
            request,
            "login.html",
            {"next": safe_next(next), "error": "Too many login attempts. Wait a minute and try again.", "email": email},
            status_code=429,
        )
        response.headers["Retry-After"] = str(int(limiter.window))
        return response
    user = authenticate(request.app.state.engine, email, password)
    if user is None:
        return render(
            request,
            "login.html",
            {"next": safe_next(next), "error": "Wrong email or password.", "email": email},
            status_code=401,
        )
    signer: SessionSigner = request.app.state.ui_signer
    redirect = RedirectResponse(safe_next(next), status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE,
        signer.session_value(user),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
        path="/",
    )
    return redirect


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("", alias=CSRF_FIELD)) -> Response:
    check_csrf(request, csrf_token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
