"""UI authentication: server-side sessions, double-submit CSRF tokens, login throttling, project access.

A login adds a row to ``ui_sessions`` and sets a cookie carrying a random token (the row keeps its
hash), signed with a secret generated once into the data dir so that a forged or altered cookie
is refused without a database read. Every page load reads the session row in the same query as
the user; logging out deletes the row, so a copied cookie stops working on every replica at once.
A new password also ends every session: the cookie carries a stamp of the password hash.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import os
import secrets
import threading
import time
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Engine, select

from interactiveai.server.clock import now_us
from interactiveai.server.passwords import hash_session_token
from interactiveai.server.storage.engines import make_private_dir
from interactiveai.server.storage.schema import memberships, projects, ui_sessions, users

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
    make_private_dir(data_dir)
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

    def session_value(self, token: str, user: User) -> str:
        return self._session.dumps({"s": token, "p": user.password_stamp})

    def read_session(self, value: str | None) -> tuple[str, str] | None:
        """(session token, password stamp) of a validly signed, unexpired session cookie."""
        if not value:
            return None
        try:
            data: Any = self._session.loads(value, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("s"), str) or not isinstance(data.get("p"), str):
            return None
        return data["s"], data["p"]

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
    """Failed logins slow down the client that makes them, never the account's owner elsewhere.

    Failures are counted per (client address, account) and per client address. Past a free
    allowance, each further failure doubles the wait before the next attempt (``first_delay``,
    then 2×, 4× …, at most ``max_delay``); a success clears its (client, account) count, and counts
    are forgotten after ``forget_after`` seconds without failures. Nothing is counted per account
    alone, so failures sent from elsewhere, whatever their number, never stop the owner logging in.
    An attempt counts as a failure from the moment it starts, so a burst of parallel guesses gets
    no more tries than a sequence. The counts live in the process: N replicas allow N times more.
    """

    def __init__(
        self,
        free_per_account: int = 5,
        free_per_client: int = 50,
        first_delay: float = 1.0,
        max_delay: float = 900.0,
        forget_after: float = 3600.0,
        max_keys: int = 100_000,
    ) -> None:
        self._free = {"account": free_per_account, "client": free_per_client}
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.max_keys = max_keys
        self._failures: dict[tuple[str, ...], tuple[int, float]] = {}  # key -> (count, last failure)
        self._lock = threading.Lock()

    def attempt(self, client: str, email: str) -> float:
        """0 and the attempt is counted as a failure until ``succeeded``, or the seconds to wait first."""
        now = time.monotonic()
        keys = self._keys(client, email)
        with self._lock:
            wait = max(self._wait(key, now) for key in keys)
            if wait > 0:
                return wait
            for key in keys:
                count = self._current(key, now)[0]
                self._failures.pop(key, None)  # re-inserted last: the dict stays ordered by last failure
                self._failures[key] = (count + 1, now)
            while len(self._failures) > self.max_keys:
                del self._failures[next(iter(self._failures))]
        return 0.0

    def succeeded(self, client: str, email: str) -> None:
        account, client_key = self._keys(client, email)
        with self._lock:
            self._failures.pop(account, None)
            count, last = self._failures.get(client_key, (0, 0.0))
            if count > 1:
                self._failures[client_key] = (count - 1, last)
            else:
                self._failures.pop(client_key, None)

    @staticmethod
    def _keys(client: str, email: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return ("account", client, email.strip().lower()), ("client", client)

    def _current(self, key: tuple[str, ...], now: float) -> tuple[int, float]:
        count, last = self._failures.get(key, (0, 0.0))
        return (0, 0.0) if now - last >= self.forget_after else (count, last)

    def _wait(self, key: tuple[str, ...], now: float) -> float:
        count, last = self._current(key, now)
        over = count - self._free[key[0]]
        if over < 0:
            return 0.0
        return max(0.0, last + min(self.first_delay * 2.0 ** min(over, 40), self.max_delay) - now)


def client_address(request: Request) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy (``trusted_proxies``),
    the last X-Forwarded-For hop that is not one of them. Without that setting the header is ignored:
    anyone can write it."""
    peer = request.client.host if request.client else "unknown"
    networks = request.app.state.settings.trusted_proxy_networks
    if not networks or not _is_in(peer, networks):
        return peer
    hops = [hop.strip() for value in request.headers.getlist("x-forwarded-for") for hop in value.split(",")]
    hops = [_without_port(hop) for hop in hops if hop]
    for hop in reversed(hops):  # proxies append: the right end is the part our proxies wrote
        if not _is_in(hop, networks):
            return hop
    return hops[0] if hops else peer


def _without_port(hop: str) -> str:
    if hop.startswith("["):  # [2001:db8::1]:443
        return hop[1:].split("]", 1)[0]
    if hop.count(":") == 1:  # 203.0.113.7:443
        return hop.split(":", 1)[0]
    return hop


def _is_in(address: str, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:  # ::ffff:10.0.0.1 on a dual-stack socket
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


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


def session_user(engine: Engine, token: str) -> User | None:
    """The user of a live session (one indexed read: the session row joined to its user)."""
    query = (
        select(users.c.id, users.c.email, users.c.name, users.c.is_admin, users.c.password_hash)
        .join(ui_sessions, ui_sessions.c.user_id == users.c.id)
        .where(ui_sessions.c.id == hash_session_token(token), ui_sessions.c.expires_at_us > now_us())
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
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
    user = session_user(request.app.state.engine, session[0]) if session else None
    if user is None or session is None or not hmac.compare_digest(user.password_stamp, session[1]):
        raise LoginRequired()  # logged out, expired, or the password changed since this session began
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
