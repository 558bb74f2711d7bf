"""UI authentication: signed session cookie, double-submit CSRF tokens, login rate limit, project access.

The session is a cookie signed with a secret generated once into the data dir (so it survives
restarts and is shared by replicas that share the data dir). Nothing is written to the database:
the UI reads, never writes (DESIGN §1).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Engine, select

from interactiveai.server.storage.schema import memberships, projects, users

SESSION_COOKIE = "ia_session"
CSRF_COOKIE = "ia_csrf"
CSRF_FIELD = "csrf_token"
SESSION_MAX_AGE = 14 * 24 * 3600  # seconds
SECRET_FILE = "ui_session_secret"


class LoginRequired(Exception):
    """Raised by page dependencies when no valid session exists; answered by a redirect to /login."""


class NotFoundPage(Exception):
    """A project or object the user cannot see: 404 (never 403, so ids do not leak)."""


class CsrfFailed(Exception):
    """A POST form without a matching CSRF token."""


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str | None
    is_admin: bool
    password_stamp: str = ""  # derived from the password hash: a new password ends every session


def _stamp(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ProjectRef:
    id: str
    name: str


def load_or_create_secret(data_dir: Path) -> str:
    """The signing secret: read from the data dir, generated (mode 0600) on first use."""
    path = data_dir / SECRET_FILE
    try:
        text = path.read_text().strip()
        if len(text) >= 32:
            return text
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    try:
        os.link(tmp, path)  # atomic "create if absent": a concurrent replica's secret wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


class SessionSigner:
    """Signs session and CSRF values with the data-dir secret."""

    def __init__(self, secret: str) -> None:
        self._session = URLSafeTimedSerializer(secret, salt="interactiveai.ui.session")
        self._csrf = URLSafeTimedSerializer(secret, salt="interactiveai.ui.csrf")

    def session_value(self, user: User) -> str:
        return self._session.dumps({"u": user.id, "p": user.password_stamp})

    def read_session(self, value: str | None) -> tuple[str, str] | None:
        """(user id, password stamp) of a valid, unexpired session cookie."""
        if not value:
            return None
        try:
            data: Any = self._session.loads(value, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not isinstance(data.get("p"), str):
            return None
        return data["u"], data["p"]

    def new_csrf(self) -> str:
        return self._csrf.dumps(secrets.token_urlsafe(16))

    def csrf_valid(self, value: str | None) -> bool:
        if not value:
            return False
        try:
            self._csrf.loads(value, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return False
        return True


def csrf_token(request: Request) -> str:
    """The request's CSRF token: the cookie's, or a fresh one that the response will set."""
    signer: SessionSigner = request.app.state.ui_signer
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and signer.csrf_valid(existing):
        return existing
    token: str | None = getattr(request.state, "new_csrf", None)
    if token is None:
        token = signer.new_csrf()
        request.state.new_csrf = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    """Double submit: the form field must equal the (signed) cookie."""
    signer: SessionSigner = request.app.state.ui_signer
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted or not signer.csrf_valid(cookie) or not hmac.compare_digest(cookie, submitted):
        raise CsrfFailed()


class LoginRateLimiter:
    """At most ``limit`` login attempts per ``window`` seconds per client IP and per email."""

    def __init__(self, limit: int = 10, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, *keys: str) -> bool:
        """Record one attempt under every key; False when any key is over the limit."""
        now = time.monotonic()
        allowed = True
        with self._lock:
            if len(self._hits) > 50_000:  # bound memory under a spray of distinct keys
                self._hits.clear()
            for key in keys:
                hits = self._hits.setdefault(key, deque())
                while hits and hits[0] <= now - self.window:
                    hits.popleft()
                if len(hits) >= self.limit:
                    allowed = False
                hits.append(now)
        return allowed


def safe_next(value: str | None) -> str:
    """A redirect target after login: a local absolute path only, never another host."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in value):
        return "/"
    return value


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?next=" + quote(target, safe="")


def authenticate(engine: Engine, email: str, password: str) -> User | None:
    from interactiveai.server.passwords import verify_password

    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.email == email.strip().lower())).mappings().first()
    if row is None:
        # Spend the same time as a real check so response time does not reveal which emails exist.
        verify_password(password, _dummy_hash())
        return None
    if not verify_password(password, row["password_hash"]):
        return None
    return User(row["id"], row["email"], row["name"], bool(row["is_admin"]), _stamp(row["password_hash"]))


def load_user(engine: Engine, user_id: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(users.c.id, users.c.email, users.c.name, users.c.is_admin, users.c.password_hash).where(
                users.c.id == user_id
            )
        ).first()
    return None if row is None else User(row[0], row[1], row[2], bool(row[3]), _stamp(row[4]))


def user_projects(engine: Engine, user: User) -> list[ProjectRef]:
    """The projects a user may open: memberships, or every project for admins."""
    query = select(projects.c.id, projects.c.name).order_by(projects.c.created_at_us, projects.c.id)
    if not user.is_admin:
        query = query.join(memberships, memberships.c.project_id == projects.c.id).where(
            memberships.c.user_id == user.id
        )
    with engine.connect() as conn:
        return [ProjectRef(r[0], r[1]) for r in conn.execute(query)]


def current_user(request: Request) -> User:
    """The logged-in user, or LoginRequired."""
    cached: User | None = getattr(request.state, "ui_user", None)
    if cached is not None:
        return cached
    signer: SessionSigner = request.app.state.ui_signer
    session = signer.read_session(request.cookies.get(SESSION_COOKIE))
    user = load_user(request.app.state.engine, session[0]) if session else None
    if user is None or session is None or not hmac.compare_digest(user.password_stamp, session[1]):
        raise LoginRequired()  # unknown user, or the password changed since this session began
    request.state.ui_user = user
    return user


@dataclass(frozen=True)
class Access:
    user: User
    project: ProjectRef
    projects: list[ProjectRef]


def project_access(request: Request, project_id: str) -> Access:
    """The user and the project, or LoginRequired / NotFoundPage."""
    user = current_user(request)
    visible = user_projects(request.app.state.engine, user)
    for ref in visible:
        if ref.id == project_id:
            return Access(user, ref, visible)
    raise NotFoundPage()


@functools.cache
def _dummy_hash() -> str:
    from interactiveai.server.passwords import hash_password

    return hash_password(secrets.token_hex(8))
