"""Login, logout and the home redirect."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from interactiveai.server.tenancy import end_session, start_session
from interactiveai.server.ui.auth import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    LoginRateLimiter,
    LoginRequired,
    SessionSigner,
    authenticate,
    check_csrf,
    client_address,
    current_user,
    retry_after,
    safe_next,
    user_projects,
)
from interactiveai.server.ui.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request) -> Response:
    user = current_user(request)
    visible = user_projects(request.app.state.engine, user)
    if not visible:  # ask to be added, or start a project of their own
        return render(request, "no_projects.html", {"user": user})
    return RedirectResponse(f"/project/{visible[0].id}/traces", status_code=303)


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
    client = client_address(request)
    wait = limiter.attempt(client, email)
    if wait > 0:
        response = render(
            request,
            "login.html",
            {
                "next": safe_next(next),
                "error": f"Too many failed login attempts. Try again in {retry_after(wait)} seconds.",
                "email": email,
            },
            status_code=429,
        )
        response.headers["Retry-After"] = retry_after(wait)
        return response
    engine = request.app.state.engine
    user = authenticate(engine, email, password)
    if user is None:
        return render(
            request,
            "login.html",
            {"next": safe_next(next), "error": "Wrong email or password.", "email": email},
            status_code=401,
        )
    limiter.succeeded(client, email)
    signer: SessionSigner = request.app.state.ui_signer
    redirect = RedirectResponse(safe_next(next), status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE,
        signer.session_value(start_session(engine, user.id, SESSION_MAX_AGE), user),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookies_secure,
        path="/",
    )
    return redirect


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("", alias=CSRF_FIELD)) -> Response:
    """Ends the session server-side: a copy of the cookie made before stops working too."""
    check_csrf(request, csrf_token)
    signer: SessionSigner = request.app.state.ui_signer
    session = signer.read_session(request.cookies.get(SESSION_COOKIE))
    if session is not None:
        end_session(request.app.state.engine, session[0])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=request.app.state.settings.cookies_secure, httponly=True)
    return response
