"""Settings → Members and the role rules; creating a project; the header's project switcher."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from interactiveai.server.accounts import list_members
from interactiveai.server.tenancy import add_membership, create_user
from tests.server.ui.conftest import PASSWORD, csrf_from, login

XSS = '"><script>window.__xss=1</script>@example.com'


def _roles(engine: Any, project_id: str) -> dict[str, str]:
    return {m.email: m.role for m in list_members(engine, project_id)}


def _post(client: Any, project_id: str, path: str, data: dict[str, str], token: str | None = "auto") -> Any:
    if token == "auto":
        token = csrf_from(client.get(f"/project/{project_id}/settings").text)
    body = {**data, **({"csrf_token": token} if token else {})}
    return client.post(f"/project/{project_id}/settings/members{path}", data=body, follow_redirects=False)


def _as(client: Any, engine: Any, project_id: str, email: str, role: str | None, *, admin: bool = False) -> Any:
    """The client, logged in as a new user with ``role`` in the project (None: not a member)."""
    user_id = create_user(engine, email, PASSWORD, is_admin=admin)
    if role:
        add_membership(engine, user_id, project_id, role=role)
    assert login(client, email).status_code == 303
    return client


def _user_id(engine: Any, project_id: str, email: str) -> str:
    return next(m.user_id for m in list_members(engine, project_id) if m.email == email)


def test_owner_adds_an_existing_user_and_a_new_one(ui: Any, engine: Any, project: Any) -> None:
    create_user(engine, "bob@example.com", PASSWORD)
    added = _post(ui, project.id, "", {"email": " Bob@Example.com ", "role": "viewer"})
    assert added.status_code == 303 and "notice=member-added" in added.headers["location"]
    assert "bob@example.com was added" in ui.get(added.headers["location"]).text
    created = _post(ui, project.id, "", {"email": "new@example.com", "role": "MEMBER"})
    assert created.status_code == 200 and "shown only this once" in created.text
    password = re.search(r'id="new-member-password">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    assert _roles(engine, project.id) == {
        "bob@example.com": "VIEWER",
        "member@example.com": "OWNER",
        "new@example.com": "MEMBER",
    }
    page = ui.get(f"/project/{project.id}/settings")
    assert password not in page.text and 'id="members-table"' in page.text
    data = ui.get(f"/project/{project.id}/settings.json").json()
    assert {m["email"]: m["role"] for m in data["members"]}["new@example.com"] == "MEMBER"
    assert password not in str(data)
    again = _post(ui, project.id, "", {"email": "bob@example.com", "role": "ADMIN"})
    assert again.status_code == 400 and "already a member" in again.text
    for bad in ({"email": "not-an-email", "role": "MEMBER"}, {"email": "c@example.com", "role": "GOD"}):
        assert _post(ui, project.id, "", bad).status_code == 400
    newcomer = login(ui, "new@example.com", password)
    assert newcomer.status_code == 303 and ui.get(f"/project/{project.id}/traces").status_code == 200


def test_member_emails_are_escaped(ui: Any, project: Any) -> None:
    created = _post(ui, project.id, "", {"email": XSS, "role": "VIEWER"})
    assert created.status_code == 200
    page = ui.get(f"/project/{project.id}/settings").text
    assert "<script>window.__xss" not in page and "&lt;script&gt;window.__xss=1&lt;/script&gt;" in page


def test_change_role_and_remove(ui: Any, engine: Any, project: Any) -> None:
    bob = create_user(engine, "bob@example.com", PASSWORD)
    add_membership(engine, bob, project.id, role="VIEWER")
    changed = _post(ui, project.id, f"/{bob}/role", {"role": "admin"})
    assert changed.status_code == 303 and _roles(engine, project.id)["bob@example.com"] == "ADMIN"
    removed = _post(ui, project.id, f"/{bob}/remove", {})
    assert removed.status_code == 303 and "bob@example.com" not in _roles(engine, project.id)
    assert _post(ui, project.id, f"/{bob}/remove", {}).status_code == 404  # no longer a member
    assert _post(ui, project.id, "/user-nobody/role", {"role": "VIEWER"}).status_code == 404


def test_the_last_owner_can_be_neither_demoted_nor_removed(ui: Any, engine: Any, project: Any, member: str) -> None:
    for path, data in ((f"/{member}/role", {"role": "ADMIN"}), (f"/{member}/remove", {})):
        refused = _post(ui, project.id, path, data)
        assert refused.status_code == 400 and "at least one owner" in refused.text
    assert _roles(engine, project.id) == {"member@example.com": "OWNER"}
    page = ui.get(f"/project/{project.id}/settings").text
    assert f"/members/{member}/remove" not in page and "the only owner" in page  # not offered at all
    other = create_user(engine, "co-owner@example.com", PASSWORD)
    add_membership(engine, other, project.id, role="OWNER")
    assert f"/members/{member}/remove" in ui.get(f"/project/{project.id}/settings").text
    assert _post(ui, project.id, f"/{member}/role", {"role": "VIEWER"}).status_code == 303
    # now a viewer: read-only, and the remaining owner is the last one again
    assert _post(ui, project.id, f"/{other}/remove", {}).status_code == 403
    assert _roles(engine, project.id)["co-owner@example.com"] == "OWNER"


def test_leaving_a_project_sends_you_home(ui: Any, engine: Any, project: Any, member: str) -> None:
    add_membership(engine, create_user(engine, "co-owner@example.com", PASSWORD), project.id, role="OWNER")
    left = _post(ui, project.id, f"/{member}/remove", {})
    assert left.status_code == 303 and left.headers["location"] == "/"
    assert ui.get(f"/project/{project.id}/settings").status_code == 404


def test_a_project_admin_manages_everyone_but_the_owners(client: Any, engine: Any, project: Any, member: str) -> None:
    admin = _as(client, engine, project.id, "admin@example.com", "ADMIN")
    page = admin.get(f"/project/{project.id}/settings").text
    assert f'action="/project/{project.id}/settings/members/{member}/remove"' not in page
    assert '<option value="OWNER"' not in page
    for path, data in (
        ("", {"email": "x@example.com", "role": "OWNER"}),
        (f"/{member}/role", {"role": "VIEWER"}),
        (f"/{member}/remove", {}),
    ):
        refused = _post(admin, project.id, path, data)
        assert refused.status_code == 400 and "Only an owner" in refused.text
    viewer = _user_id(engine, project.id, "admin@example.com")
    assert _post(admin, project.id, "", {"email": "v@example.com", "role": "VIEWER"}).status_code == 200
    v_id = _user_id(engine, project.id, "v@example.com")
    assert _post(admin, project.id, f"/{v_id}/role", {"role": "ADMIN"}).status_code == 303
    assert _post(admin, project.id, f"/{viewer}/role", {"role": "OWNER"}).status_code == 400
    assert _roles(engine, project.id)["member@example.com"] == "OWNER"


def test_an_instance_admin_may_change_owners(client: Any, engine: Any, project: Any, member: str) -> None:
    add_membership(engine, create_user(engine, "co-owner@example.com", PASSWORD), project.id, role="OWNER")
    root = _as(client, engine, project.id, "root@example.com", None, admin=True)
    assert _post(root, project.id, f"/{member}/role", {"role": "MEMBER"}).status_code == 303
    assert _roles(engine, project.id)["member@example.com"] == "MEMBER"


@pytest.mark.parametrize("role", ["MEMBER", "VIEWER"])
def test_members_and_viewers_cannot_manage_members(
    client: Any, engine: Any, project: Any, member: str, role: str
) -> None:
    reader = _as(client, engine, project.id, "reader@example.com", role)
    page = reader.get(f"/project/{project.id}/settings").text
    assert "member@example.com" in page and 'id="add-member"' not in page
    for path, data in (
        ("", {"email": "x@example.com", "role": "VIEWER"}),
        (f"/{member}/remove", {}),
        (f"/{member}/role", {"role": "VIEWER"}),
    ):
        assert _post(reader, project.id, path, data).status_code == 403
    assert _roles(engine, project.id)["member@example.com"] == "OWNER" and "x@example.com" not in _roles(
        engine, project.id
    )


def test_member_posts_need_csrf_and_project_access(ui: Any, engine: Any, project: Any, other_project: Any) -> None:
    assert _post(ui, project.id, "", {"email": "x@example.com", "role": "VIEWER"}, token=None).status_code == 403
    token = csrf_from(ui.get(f"/project/{project.id}/settings").text)
    stranger = create_user(engine, "stranger@example.com", PASSWORD)
    add_membership(engine, stranger, other_project.id, role="VIEWER")
    assert _post(ui, other_project.id, "", {"email": "x@example.com", "role": "OWNER"}, token).status_code == 404
    assert _post(ui, other_project.id, f"/{stranger}/remove", {}, token).status_code == 404
    # a member of the other project is not one of this project's
    assert _post(ui, project.id, f"/{stranger}/remove", {}, token).status_code == 404
    assert "x@example.com" not in _roles(engine, project.id) | _roles(engine, other_project.id)


def test_any_user_creates_a_project_they_own_with_a_key_shown_once(ui: Any, engine: Any, project: Any) -> None:
    token = csrf_from(ui.get(f"/project/{project.id}/settings").text)
    assert ui.post("/projects", data={"name": "Side project"}, follow_redirects=False).status_code == 403
    assert ui.post("/projects", data={"name": "  ", "csrf_token": token}).status_code == 400
    created = ui.post("/projects", data={"name": "<b>Side</b> project", "csrf_token": token})
    assert created.status_code == 200 and 'id="project-created"' in created.text
    assert "<b>Side</b>" not in created.text and "&lt;b&gt;Side&lt;/b&gt; project" in created.text
    public = re.search(r'id="new-public-key">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    secret = re.search(r'id="new-secret-key">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    new_id = re.search(r'id="new-project-link" href="/project/([^/"]+)/', created.text) or re.search(
        r'href="/project/([^/"]+)/settings#new-project"', created.text
    )
    assert new_id is not None
    new_id = new_id.group(1)
    assert new_id != project.id
    assert _roles(engine, new_id) == {"member@example.com": "OWNER"}
    auth = {"Authorization": "Basic " + base64.b64encode(f"{public}:{secret}".encode()).decode()}
    assert ui.get("/api/public/traces", headers=auth).json()["data"] == []
    assert secret not in ui.get(f"/project/{new_id}/settings").text


def test_the_header_switches_between_the_users_projects(ui: Any, engine: Any, project: Any, other_project: Any) -> None:
    add_membership(engine, _user_id(engine, project.id, "member@example.com"), other_project.id, role="VIEWER")
    unrelated = "proj-unrelated"
    from interactiveai.server.tenancy import create_project

    create_project(engine, "Not yours", unrelated)
    page = ui.get(f"/project/{project.id}/sessions").text
    switcher = page.split('id="project-list"', 1)[1].split("</div>", 1)[0]
    assert f'href="/project/{other_project.id}/sessions"' in switcher
    assert f'href="/project/{project.id}/sessions"' in switcher and unrelated not in switcher
    assert 'id="new-project-link"' in switcher


def test_no_projects_page_offers_to_create_one(client: Any, engine: Any) -> None:
    create_user(engine, "lonely@example.com", PASSWORD)
    login(client, "lonely@example.com")
    page = client.get("/")
    assert 'id="new-project"' in page.text and 'action="/logout"' in page.text
    made = client.post("/projects", data={"name": "Mine", "csrf_token": csrf_from(page.text)})
    assert made.status_code == 200
    assert client.get("/", follow_redirects=False).status_code == 303
