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


def test_logout_ends_the_session_for_a_copied_cookie_too(app: Any, ui: Any, project: Any) -> None:
    copied = ui.cookies.get("ia_session")
    thief = _client_at(app, "203.0.113.50")
    thief.cookies.set("ia_session", copied)
    assert thief.get(f"/project/{project.id}/traces").status_code == 200
    token = csrf_from(ui.get(f"/project/{project.id}/traces").text)
    assert ui.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert thief.get(f"/project/{project.id}/traces", follow_redirects=False).status_code == 303
    assert thief.get(f"/project/{project.id}/traces.json").status_code == 401


def test_logging_out_one_browser_keeps_the_others(app: Any, ui: Any, member: str, project: Any) -> None:
    laptop = _client_at(app, "198.51.100.8")
    assert login(laptop, "member@example.com").status_code == 303
    token = csrf_from(ui.get(f"/project/{project.id}/traces").text)
    ui.post("/logout", data={"csrf_token": token})
    assert laptop.get(f"/project/{project.id}/traces").status_code == 200


def test_a_new_password_set_by_the_cli_function_ends_every_session(ui: Any, engine: Any, project: Any) -> None:
    from interactiveai.server.tenancy import set_password

    assert ui.get(f"/project/{project.id}/traces").status_code == 200
    assert set_password(engine, "Member@Example.com", "another long password")
    assert ui.get(f"/project/{project.id}/traces", follow_redirects=False).status_code == 303
    assert not set_password(engine, "nobody@example.com", "another long password")


def test_failed_logins_back_off(app: Any, client: Any, member: str) -> None:
    from interactiveai.server.ui.auth import LoginRateLimiter

    app.state.ui_login_limiter = LoginRateLimiter(first_delay=60)  # long enough not to elapse mid-test
    for _ in range(5):
        assert login(client, "member@example.com", "wrong").status_code == 401
    response = login(client, "member@example.com", PASSWORD)  # the right password waits its turn too
    assert response.status_code == 429
    assert "Too many failed login attempts" in response.text
    assert 55 <= int(response.headers["retry-after"]) <= 60
    assert "ia_session" not in response.headers.get("set-cookie", "")


def _client_at(app: Any, address: str) -> Any:
    from fastapi.testclient import TestClient

    return TestClient(app, client=(address, 40000))


def test_an_attacker_cannot_lock_the_owner_out(app: Any, client: Any, member: str, project: Any) -> None:
    attacker = _client_at(app, "203.0.113.9")
    statuses = [login(attacker, "member@example.com", "guess").status_code for _ in range(30)]
    assert 429 in statuses  # the attacker is slowed down …
    owner = _client_at(app, "198.51.100.7")
    assert login(owner, "member@example.com").status_code == 303  # … the owner, elsewhere, is not
    assert owner.get(f"/project/{project.id}/traces").status_code == 200


def test_a_success_clears_the_clients_failures(client: Any, member: str) -> None:
    for _ in range(4):
        assert login(client, "member@example.com", "wrong").status_code == 401
    assert login(client, "member@example.com").status_code == 303
    for _ in range(4):  # the count started again
        assert login(client, "member@example.com", "wrong").status_code == 401


def test_forwarded_for_counts_only_from_a_trusted_proxy(engine: Any, tmp_path: Any, member: str) -> None:
    from dataclasses import replace

    from interactiveai.server.app import create_app
    from interactiveai.server.settings import load_settings
    from interactiveai.server.ui.auth import LoginRateLimiter

    url = engine.url.render_as_string(hide_password=False)
    settings = load_settings(data_dir=tmp_path, database_url=url, trusted_proxies="10.0.0.0/8, ::1")
    app = create_app(settings, engine=engine, first_start=False)

    def failures_get_429(address: str, forwarded_for: list[str]) -> bool:
        app.state.ui_login_limiter = LoginRateLimiter(first_delay=60)
        peer = _client_at(app, address)
        statuses = []
        for hop in forwarded_for:
            peer.headers["X-Forwarded-For"] = hop
            statuses.append(login(peer, "member@example.com", "wrong").status_code)
        return 429 in statuses

    rotating = [f"203.0.113.{i}, 10.1.2.3" for i in range(8)]  # the client, then a proxy of ours
    assert not failures_get_429("10.0.0.7", rotating)  # each hop before our proxies is a client of its own
    assert not failures_get_429("::ffff:10.0.0.7", rotating)  # the same proxy seen on a dual-stack socket
    assert failures_get_429("10.0.0.7", ["203.0.113.1, 10.1.2.3"] * 8)
    assert failures_get_429("198.51.100.1", rotating)  # from anyone else the header is ignored
    app.state.settings = replace(settings, trusted_proxies="")
    assert failures_get_429("10.0.0.7", rotating)  # and without the setting from everyone


def test_tampered_session_cookie_is_ignored(client: Any, member: str, project: Any) -> None:
    login(client, "member@example.com")
    value = client.cookies.get("ia_session")
    client.cookies.delete("ia_session")
    payload, timestamp, signature = value.rsplit(".", 2)
    # Each tampering changes decoded bytes: the last base64 character of a signature carries unused
    # bits, so rewriting it can leave the signature as it was.
    tampered = [
        f"{payload}.{timestamp}.{_other_character(signature[0])}{signature[1:]}",
        f"{_other_character(payload[0])}{payload[1:]}.{timestamp}.{signature}",
        f"{payload}.{_other_character(timestamp[0])}{timestamp[1:]}.{signature}",
        f"{payload}.{timestamp}.",
    ]
    for forged in tampered:
        client.cookies.delete("ia_session")
        client.cookies.set("ia_session", forged)
        assert client.get(f"/project/{project.id}/traces", follow_redirects=False).status_code == 303, forged


def _other_character(character: str) -> str:
    return "B" if character == "A" else "A"


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


def test_the_data_dir_is_created_private(tmp_path: Any) -> None:
    from interactiveai.server.ui.auth import load_or_create_secret

    data_dir = tmp_path / "new" / "data"
    load_or_create_secret(data_dir)
    assert oct(data_dir.stat().st_mode & 0o777) == "0o700"
    assert oct((data_dir / "ui_session_secret").stat().st_mode & 0o777) == "0o600"


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


def test_cookies_are_secure_when_the_public_url_is_https(engine: Any, tmp_path: Any, member: str) -> None:
    from fastapi.testclient import TestClient

    from interactiveai.server.app import create_app
    from interactiveai.server.settings import load_settings

    url = engine.url.render_as_string(hide_password=False)
    settings = load_settings(data_dir=tmp_path, database_url=url, public_url="https://observe.example.com")
    assert not settings.secure_cookies
    app = create_app(settings, engine=engine, first_start=False)
    with TestClient(app, base_url="https://testserver") as client:
        assert "Secure" in client.get("/login").headers["set-cookie"]
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
