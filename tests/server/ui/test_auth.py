"""Login, logout, session cookie, CSRF, rate limit, redirects and project isolation."""

from __future__ import annotations

from typing import Any

from interactiveai.server.tenancy import create_user
from interactiveai.server.ui.auth import safe_next
from tests.server.ui.conftest import PASSWORD, csrf_from, login


def test_pages_redirect_to_login_with_next(client: Any, project: Any) -> None:
    response = client.get(f"/project/{project.id}/traces?range=1h", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fproject%2Fproj-a%2Ftraces%3Frange%3D1h"
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_json_twins_answer_401_without_login(client: Any, project: Any) -> None:
    response = client.get(f"/project/{project.id}/traces.json")
    assert response.status_code == 401
    assert response.json()["error"] == "UnauthorizedError"


def test_login_sets_a_hardened_cookie_and_follows_next(client: Any, member: str, project: Any) -> None:
    response = login(client, "member@example.com", next_url=f"/project/{project.id}/traces?range=1h")
    assert response.status_code == 303
    assert response.headers["location"] == f"/project/{project.id}/traces?range=1h"
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("ia_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert client.get(f"/project/{project.id}/traces").status_code == 200


def test_home_redirects_to_first_project(ui: Any, project: Any) -> None:
    response = ui.get("/", follow_redirects=False)
    assert response.headers["location"] == f"/project/{project.id}/traces"


def test_wrong_password_is_refused(client: Any, member: str) -> None:
    response = login(client, "member@example.com", "wrong")
    assert response.status_code == 401
    assert "Wrong email or password" in response.text
    assert "ia_session" not in response.headers.get("set-cookie", "")


def test_unknown_email_is_refused_the_same_way(client: Any, member: str) -> None:
    response = login(client, "nobody@example.com", "wrong")
    assert response.status_code == 401
    assert "Wrong email or password" in response.text


def test_login_without_csrf_token_is_rejected(client: Any, member: str) -> None:
    client.get("/login")
    response = client.post("/login", data={"email": "member@example.com", "password": PASSWORD})
    assert response.status_code == 403
    assert "ia_session" not in response.headers.get("set-cookie", "")


def test_csrf_token_must_match_the_cookie(client: Any, member: str) -> None:
    client.get("/login")
    forged = csrf_from(client.get("/login").text) + "x"
    response = client.post("/login", data={"email": "member@example.com", "password": PASSWORD, "csrf_token": forged})
    assert response.status_code == 403


def test_logout_needs_csrf_and_clears_the_session(ui: Any, project: Any) -> None:
    assert ui.post("/logout", data={}).status_code == 403
    token = csrf_from(ui.get(f"/project/{project.id}/traces").text)
    response = ui.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    ui.cookies.delete("ia_session")  # the test client keeps expired cookies only until told
    assert ui.get(f"/project/{project.id}/traces", follow_redirects=False).status_code == 303


def test_login_is_rate_limited(client: Any, member: str) -> None:
    for _ in range(10):
        assert login(client, "member@example.com", "wrong").status_code == 401
    response = login(client, "member@example.com", PASSWORD)
    assert response.status_code == 429
    assert "Too many login attempts" in response.text
    assert response.headers["retry-after"] == "60"


def test_tampered_session_cookie_is_ignored(client: Any, member: str, project: Any) -> None:
    login(client, "member@example.com")
    value = client.cookies.get("ia_session")
    client.cookies.delete("ia_session")
    client.cookies.set("ia_session", value[:-2] + "xx")
    assert client.get(f"/project/{project.id}/traces", follow_redirects=False).status_code == 303


def test_non_member_gets_404(ui: Any, other_project: Any) -> None:
    assert ui.get(f"/project/{other_project.id}/traces").status_code == 404
    assert ui.get(f"/project/{other_project.id}/traces.json").status_code == 404
    assert ui.get("/project/no-such-project/traces").status_code == 404


def test_admin_sees_every_project(client: Any, engine: Any, project: Any, other_project: Any) -> None:
    create_user(engine, "root@example.com", PASSWORD, is_admin=True)
    login(client, "root@example.com")
    page = client.get(f"/project/{other_project.id}/traces")
    assert page.status_code == 200
    assert f"/project/{project.id}/traces" in page.text  # in the project switcher


def test_security_headers_on_ui_pages(client: Any) -> None:
    response = client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert "content-security-policy" not in client.get("/api/public/health").headers


def test_safe_next_only_allows_local_paths() -> None:
    assert safe_next("/project/a/traces?x=1") == "/project/a/traces?x=1"
    for bad in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "", None):
        assert safe_next(bad) == "/"


def test_session_secret_is_generated_once(app: Any, tmp_path: Any) -> None:
    secret_file = tmp_path / "ui_session_secret"
    assert secret_file.exists()
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"


def test_cookies_are_secure_when_configured(engine: Any, tmp_path: Any, member: str) -> None:
    from fastapi.testclient import TestClient

    from interactiveai.server.app import create_app
    from interactiveai.server.settings import load_settings

    url = engine.url.render_as_string(hide_password=False)
    settings = load_settings(data_dir=tmp_path, database_url=url, secure_cookies=True)
    app = create_app(settings, engine=engine, first_start=False)
    with TestClient(app, base_url="https://testserver") as client:
        page = client.get("/login")
        assert "Secure" in page.headers["set-cookie"]
        response = login(client, "member@example.com")
        cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "ia_session=" in v)
        assert "Secure" in cookie and "HttpOnly" in cookie


def test_login_page_survives_a_user_who_is_member_of_nothing(client: Any, engine: Any) -> None:
    create_user(engine, "lonely@example.com", PASSWORD)
    login(client, "lonely@example.com")
    page = client.get("/")
    assert page.status_code == 200 and "No projects" in page.text


def test_login_page_redirects_a_logged_in_user(ui: Any, project: Any) -> None:
    response = ui.get(f"/login?next=/project/{project.id}/sessions", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/project/{project.id}/sessions"


def test_a_new_password_ends_existing_sessions(ui: Any, engine: Any, project: Any, member: str) -> None:
    from sqlalchemy import update

    from interactiveai.server.passwords import hash_password
    from interactiveai.server.storage.schema import users

    assert ui.get(f"/project/{project.id}/traces").status_code == 200
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == member).values(password_hash=hash_password("new one")))
    assert ui.get(f"/project/{project.id}/traces", follow_redirects=False).status_code == 303
