"""Settings → Members: add a user (existing or new) with a role, change a role, remove a member.

Only owners and admins post these (``manage.managed_form``); the finer rules (only owners touch
owners, a project keeps an owner) are ``accounts``'. A new user's generated password is rendered
once, in the response to the add form, like a new API key's secret.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from interactiveai.server.accounts import MembershipError, add_member, change_role, remove_member
from interactiveai.server.ui.auth import NotFoundPage
from interactiveai.server.ui.manage import managed_form, project_role, redirect_with_notice
from interactiveai.server.ui.views_settings import settings_response

router = APIRouter(include_in_schema=False)


def _base(project_id: str) -> str:
    return f"/project/{project_id}/settings"


@router.post("/project/{project_id}/settings/members")
async def add(request: Request, project_id: str) -> Response:
    access, form = await managed_form(request, project_id)
    email, role = str(form.get("email", "")), str(form.get("role", "MEMBER"))
    try:
        password = add_member(
            request.app.state.engine,
            project_id,
            email,
            role,
            actor_role=project_role(request, access),
            actor_is_admin=access.user.is_admin,
        )
    except MembershipError as exc:
        return settings_response(request, access, status=400, errors={"member": str(exc)}, form=form)
    if password is None:
        return redirect_with_notice(_base(project_id), "member-added", d=email.strip().lower())
    new_member = {"email": email.strip().lower(), "password": password}
    return settings_response(request, access, new_member=new_member)  # the only time it is shown


@router.post("/project/{project_id}/settings/members/{user_id}/role")
async def set_role(request: Request, project_id: str, user_id: str) -> Response:
    access, form = await managed_form(request, project_id)
    try:
        change_role(
            request.app.state.engine,
            project_id,
            user_id,
            str(form.get("role", "")),
            actor_role=project_role(request, access),
            actor_is_admin=access.user.is_admin,
        )
    except LookupError:
        raise NotFoundPage() from None
    except MembershipError as exc:
        return settings_response(request, access, status=400, errors={"member": str(exc)})
    return redirect_with_notice(_base(project_id), "role-changed")


@router.post("/project/{project_id}/settings/members/{user_id}/remove")
async def remove(request: Request, project_id: str, user_id: str) -> Response:
    access, _form = await managed_form(request, project_id)
    try:
        remove_member(
            request.app.state.engine,
            project_id,
            user_id,
            actor_role=project_role(request, access),
            actor_is_admin=access.user.is_admin,
        )
    except LookupError:
        raise NotFoundPage() from None
    except MembershipError as exc:
        return settings_response(request, access, status=400, errors={"member": str(exc)})
    if user_id == access.user.id and not access.user.is_admin:
        return RedirectResponse("/", status_code=303)  # they left the project: it is no longer theirs to see
    return redirect_with_notice(_base(project_id), "member-removed")
