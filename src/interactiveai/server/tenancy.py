"""Projects, API keys, users, memberships and UI sessions: creation, listing, revocation, first-start set-up."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from interactiveai.server.clock import now_us
from interactiveai.server.passwords import (
    check_key_pair,
    check_password,
    display_secret,
    hash_api_secret,
    hash_password,
    hash_session_token,
    new_key_pair,
)
from interactiveai.server.storage.schema import api_keys, memberships, projects, ui_sessions, users


@dataclass(frozen=True)
class CreatedKey:
    id: str
    project_id: str
    public_key: str
    secret_key: str  # shown once, never stored


@dataclass(frozen=True)
class FirstStart:
    """What the first start created, to print once; None fields were given or already existed."""

    project_id: str
    project_name: str
    key: CreatedKey | None
    user_email: str | None
    user_password: str | None


def create_project(engine: Engine, name: str, project_id: str | None = None) -> str:
    project_id = project_id or "proj-" + secrets.token_hex(8)
    with engine.begin() as conn:
        conn.execute(insert(projects).values(id=project_id, name=name, created_at_us=now_us()))
    return project_id


def list_projects(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(projects).order_by(projects.c.created_at_us)).mappings().all()
    return [dict(r) for r in rows]


def create_api_key(
    engine: Engine,
    project_id: str,
    *,
    public_key: str | None = None,
    secret_key: str | None = None,
    note: str | None = None,
) -> CreatedKey:
    generated_public, generated_secret = new_key_pair()
    public_key = public_key or generated_public
    secret_key = secret_key or generated_secret
    key_id = "key-" + secrets.token_hex(8)
    with engine.begin() as conn:
        conn.execute(
            insert(api_keys).values(
                id=key_id,
                project_id=project_id,
                public_key=public_key,
                secret_hash=hash_api_secret(secret_key),
                display_secret=display_secret(secret_key),
                note=note,
                created_at_us=now_us(),
            )
        )
    return CreatedKey(key_id, project_id, public_key, secret_key)


def list_api_keys(engine: Engine, project_id: str | None = None) -> list[dict[str, Any]]:
    query = select(
        api_keys.c.id,
        api_keys.c.project_id,
        api_keys.c.public_key,
        api_keys.c.display_secret,
        api_keys.c.note,
        api_keys.c.created_at_us,
        api_keys.c.last_used_at_us,
    ).order_by(api_keys.c.created_at_us)
    if project_id is not None:
        query = query.where(api_keys.c.project_id == project_id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings().all()]


def revoke_api_key(engine: Engine, key_id_or_public_key: str, project_id: str | None = None) -> bool:
    """Delete a key (by id or public key). Returns False when no such key exists."""
    condition = (api_keys.c.id == key_id_or_public_key) | (api_keys.c.public_key == key_id_or_public_key)
    if project_id is not None:
        condition = condition & (api_keys.c.project_id == project_id)
    with engine.begin() as conn:
        return conn.execute(delete(api_keys).where(condition)).rowcount > 0


def create_user(engine: Engine, email: str, password: str, *, name: str | None = None, is_admin: bool = False) -> str:
    user_id = "user-" + secrets.token_hex(8)
    with engine.begin() as conn:
        conn.execute(
            insert(users).values(
                id=user_id,
                email=email.strip().lower(),
                name=name,
                password_hash=hash_password(password),
                is_admin=is_admin,
                created_at_us=now_us(),
            )
        )
    return user_id


def add_membership(engine: Engine, user_id: str, project_id: str, role: str = "OWNER") -> None:
    with engine.begin() as conn:
        exists = conn.execute(
            select(memberships.c.user_id).where(
                (memberships.c.user_id == user_id) & (memberships.c.project_id == project_id)
            )
        ).first()
        if exists is None:
            conn.execute(insert(memberships).values(user_id=user_id, project_id=project_id, role=role))


def set_password(engine: Engine, email: str, password: str) -> bool:
    """Give a user a new password and end all their UI sessions. False when no such user exists."""
    with engine.begin() as conn:
        user_id = conn.execute(select(users.c.id).where(users.c.email == email.strip().lower())).scalar()
        if user_id is None:
            return False
        conn.execute(update(users).where(users.c.id == user_id).values(password_hash=hash_password(password)))
        conn.execute(delete(ui_sessions).where(ui_sessions.c.user_id == user_id))
    return True


def start_session(engine: Engine, user_id: str, max_age_seconds: int) -> str:
    """Record a UI login; returns the token its cookie carries (the database keeps only its hash)."""
    token = secrets.token_urlsafe(32)
    now = now_us()
    with engine.begin() as conn:
        conn.execute(delete(ui_sessions).where(ui_sessions.c.expires_at_us < now))  # a few rows at most
        conn.execute(
            insert(ui_sessions).values(
                id=hash_session_token(token),
                user_id=user_id,
                created_at_us=now,
                expires_at_us=now + max_age_seconds * 1_000_000,
            )
        )
    return token


def end_session(engine: Engine, token: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(ui_sessions).where(ui_sessions.c.id == hash_session_token(token)))


def ensure_first_start(engine: Engine, environ: dict[str, str] | None = None) -> FirstStart | None:
    """Create the initial project, key pair and admin user, exactly as INTERACTIVEAI_INIT_* say.

    With no INIT variables, the first start of an empty database creates a default project, a
    generated key pair and an admin user with a generated password. Given variables create exactly
    that project, key pair and user if they do not exist yet. Returns None when nothing was created.
    A chosen key pair or password that is too weak raises WeakSecretError before anything is created.
    """
    env = os.environ if environ is None else environ
    init_project_id = env.get("INTERACTIVEAI_INIT_PROJECT_ID") or None
    init_project_name = env.get("INTERACTIVEAI_INIT_PROJECT_NAME") or None
    init_public = env.get("INTERACTIVEAI_INIT_PROJECT_PUBLIC_KEY") or None
    init_secret = env.get("INTERACTIVEAI_INIT_PROJECT_SECRET_KEY") or None
    init_email = env.get("INTERACTIVEAI_INIT_USER_EMAIL") or None
    init_password = env.get("INTERACTIVEAI_INIT_USER_PASSWORD") or None
    headless = any((init_project_id, init_project_name, init_public, init_secret, init_email))

    with engine.connect() as conn:
        has_projects = conn.execute(select(projects.c.id).limit(1)).first() is not None
        has_users = conn.execute(select(users.c.id).limit(1)).first() is not None
        key_exists = init_public is not None and (
            conn.execute(select(api_keys.c.id).where(api_keys.c.public_key == init_public)).first() is not None
        )
        existing_user = None
        if init_email:
            existing_user = conn.execute(select(users.c.id).where(users.c.email == init_email.lower())).scalar()
    if not headless and has_projects:
        return None
    # Existing keys and users are left alone, whatever they were created with.
    if init_public and init_secret and not key_exists:
        check_key_pair(init_public, init_secret, "INTERACTIVEAI_INIT_PROJECT_PUBLIC_KEY / _SECRET_KEY")
    if init_email and init_password and existing_user is None:
        check_password(init_password, "INTERACTIVEAI_INIT_USER_PASSWORD")

    created_anything = False
    project_id = init_project_id or ("default" if not has_projects else None)
    if project_id is None:  # headless with only user/key vars: attach to the first project
        project_id = list_projects(engine)[0]["id"]
    with engine.connect() as conn:
        project_row = conn.execute(select(projects).where(projects.c.id == project_id)).mappings().first()
    if project_row is None:
        project_name = init_project_name or ("My Project" if project_id == "default" else project_id)
        create_project(engine, project_name, project_id)
        created_anything = True
    else:
        project_name = project_row["name"]

    key: CreatedKey | None = None
    if init_public or init_secret:
        if init_public and init_secret and not key_exists:
            key = create_api_key(engine, project_id, public_key=init_public, secret_key=init_secret)
            created_anything = True
    elif not has_projects:
        key = create_api_key(engine, project_id, note="created on first start")
        created_anything = True

    email: str | None = None
    password: str | None = None
    if init_email:
        if existing_user is None:
            password = init_password or secrets.token_urlsafe(12)
            user_id = create_user(engine, init_email, password, is_admin=True)
            add_membership(engine, user_id, project_id)
            email = init_email.lower()
            created_anything = True
        else:
            add_membership(engine, existing_user, project_id)
    elif not has_users:
        email, password = "admin@localhost", secrets.token_urlsafe(12)
        user_id = create_user(engine, email, password, name="Admin", is_admin=True)
        add_membership(engine, user_id, project_id)
        created_anything = True

    if not created_anything:
        return None
    return FirstStart(project_id, project_name, key, email, password if email else None)
