"""Users and project members: listing, password resets and changes, roles, new projects for a user.

Roles (``memberships.role``): OWNER and ADMIN manage the project, MEMBER may also annotate,
VIEWER only reads. Instance admins (``users.is_admin``) manage every project. A project ADMIN
manages everyone but the owners: only an owner (or an instance admin) may make someone an owner,
or change or remove one. A project always keeps at least one owner.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select, update

from interactiveai.server.passwords import check_password, hash_password
from interactiveai.server.storage.schema import memberships, projects, ui_sessions, users
from interactiveai.server.tenancy import CreatedKey, add_membership, create_api_key, create_project, create_user

ROLES = ("OWNER", "ADMIN", "MEMBER", "VIEWER")
MAX_EMAIL = 200  # the column's width


class MembershipError(ValueError):
    """A member change that is refused; the message says why, for the person who asked."""


@dataclass(frozen=True)
class Member:
    user_id: str
    email: str
    name: str | None
    role: str
    is_admin: bool


def generate_password() -> str:
    """A random password, well over the minimum length (20 characters, 120 bits)."""
    return secrets.token_urlsafe(15)


def normal_email(text: str) -> str:
    """The stored form of an email (trimmed, lower case), or MembershipError when it cannot be one."""
    email = text.strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or not domain or len(email) > MAX_EMAIL or any(c.isspace() for c in email):
        raise MembershipError("Enter an email address such as name@example.com.")
    return email


def list_users(engine: Engine) -> list[dict[str, Any]]:
    """Every user with their memberships (``projects``: [(project id, role)]), by email."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(users.c.id, users.c.email, users.c.name, users.c.is_admin, users.c.created_at_us).order_by(
                users.c.email
            )
        ).all()
        roles = conn.execute(
            select(memberships.c.user_id, memberships.c.project_id, memberships.c.role).order_by(
                memberships.c.project_id
            )
        ).all()
    by_user: dict[str, list[tuple[str, str]]] = {}
    for user_id, project_id, role in roles:
        by_user.setdefault(user_id, []).append((project_id, str(role).upper()))
    return [
        {"id": r[0], "email": r[1], "name": r[2], "is_admin": bool(r[3]), "projects": by_user.get(r[0], [])}
        for r in rows
    ]


def replace_password(engine: Engine, user_id: str, password: str) -> None:
    """Set a user's password (checked for strength) and end every one of their UI sessions."""
    check_password(password, "the new password")
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user_id).values(password_hash=hash_password(password)))
        conn.execute(delete(ui_sessions).where(ui_sessions.c.user_id == user_id))


def reset_password(engine: Engine, email: str) -> str | None:
    """Give the user of ``email`` a new generated password (returned, never stored in clear); None if unknown."""
    with engine.connect() as conn:
        user_id = conn.execute(select(users.c.id).where(users.c.email == email.strip().lower())).scalar()
    if user_id is None:
        return None
    password = generate_password()
    replace_password(engine, user_id, password)
    return password


def list_members(engine: Engine, project_id: str) -> list[Member]:
    query = (
        select(users.c.id, users.c.email, users.c.name, memberships.c.role, users.c.is_admin)
        .join(memberships, memberships.c.user_id == users.c.id)
        .where(memberships.c.project_id == project_id)
        .order_by(users.c.email)
    )
    with engine.connect() as conn:
        return [Member(r[0], r[1], r[2], str(r[3]).upper(), bool(r[4])) for r in conn.execute(query)]


def _role(text: str) -> str:
    role = text.strip().upper()
    if role not in ROLES:
        raise MembershipError(f"Unknown role {text[:40]!r}: choose one of {', '.join(ROLES)}.")
    return role


def _may_touch_owners(actor_role: str | None, actor_is_admin: bool) -> bool:
    return actor_is_admin or actor_role == "OWNER"


def add_member(
    engine: Engine, project_id: str, email: str, role: str, *, actor_role: str | None, actor_is_admin: bool
) -> str | None:
    """Add the user of ``email`` (created when new) with ``role``; returns a new user's generated password."""
    email, role = normal_email(email), _role(role)
    if role == "OWNER" and not _may_touch_owners(actor_role, actor_is_admin):
        raise MembershipError("Only an owner can add another owner.")
    with engine.connect() as conn:
        user_id = conn.execute(select(users.c.id).where(users.c.email == email)).scalar()
        if user_id is not None and _current_role(conn, project_id, user_id) is not None:
            raise MembershipError(f"{email} is already a member of this project.")
    password = None
    if user_id is None:
        password = generate_password()
        user_id = create_user(engine, email, password)
    add_membership(engine, user_id, project_id, role=role)
    return password


def change_role(
    engine: Engine, project_id: str, user_id: str, role: str, *, actor_role: str | None, actor_is_admin: bool
) -> None:
    role = _role(role)
    with engine.begin() as conn:
        current = _locked_role(conn, project_id, user_id, actor_role, actor_is_admin)
        if role == "OWNER" and not _may_touch_owners(actor_role, actor_is_admin):
            raise MembershipError("Only an owner can make someone an owner.")
        if current == "OWNER" and role != "OWNER":
            _keep_an_owner(conn, project_id)
        conn.execute(
            update(memberships)
            .where(memberships.c.project_id == project_id, memberships.c.user_id == user_id)
            .values(role=role)
        )


def remove_member(
    engine: Engine, project_id: str, user_id: str, *, actor_role: str | None, actor_is_admin: bool
) -> None:
    with engine.begin() as conn:
        if _locked_role(conn, project_id, user_id, actor_role, actor_is_admin) == "OWNER":
            _keep_an_owner(conn, project_id)
        conn.execute(
            delete(memberships).where(memberships.c.project_id == project_id, memberships.c.user_id == user_id)
        )


def _current_role(conn: Connection, project_id: str, user_id: str) -> str | None:
    role = conn.execute(
        select(memberships.c.role).where(memberships.c.project_id == project_id, memberships.c.user_id == user_id)
    ).scalar()
    return None if role is None else str(role).upper()


def _locked_role(conn: Connection, project_id: str, user_id: str, actor_role: str | None, actor_is_admin: bool) -> str:
    """The member's role, the project's row locked first so two owners cannot both step down at once.

    The lock is a write that changes nothing: a row lock on PostgreSQL, the write lock on SQLite, whose
    transactions would otherwise read a snapshot that a concurrent change makes stale."""
    conn.execute(update(projects).where(projects.c.id == project_id).values(name=projects.c.name))
    current = _current_role(conn, project_id, user_id)
    if current is None:
        raise LookupError(user_id)
    if current == "OWNER" and not _may_touch_owners(actor_role, actor_is_admin):
        raise MembershipError("Only an owner can change or remove an owner.")
    return current


def _keep_an_owner(conn: Connection, project_id: str) -> None:
    owners = conn.execute(
        select(func.count())
        .select_from(memberships)
        .where(memberships.c.project_id == project_id, func.upper(memberships.c.role) == "OWNER")
    ).scalar_one()
    if owners <= 1:
        raise MembershipError("A project needs at least one owner: make someone else an owner first.")


def create_project_for(engine: Engine, user_id: str, name: str) -> tuple[str, CreatedKey]:
    """A new project owned by ``user_id``, with its first API key pair (the secret to show once)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise MembershipError("The project name must be 1 to 200 characters.")
    project_id = create_project(engine, name)
    add_membership(engine, user_id, project_id, role="OWNER")
    return project_id, create_api_key(engine, project_id, note="created with the project")
