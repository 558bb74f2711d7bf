"""The change-password page: current password required, the CLI's strength rule, other sessions ended."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from interactiveai.server.ui.auth import LoginRateLimiter
from tests.server.ui.conftest import PASSWORD, csrf_from, login

NEW = "a brand new passphrase"


def _change(client: Any, current: str, new: str, confirm: str | None = None, token: str | None = "auto") -> Any:
    if token == "auto":
        token = csrf_from(client.get("/account/password").text)
    data = {"current_password": current, "new_password": new, "confirm_password": new if confirm is None else confirm}
    if token:
        data["csrf_token"] = token
    return client.post("/account/password", data=data, follow_redirects=False)


def test_the_page_needs_a_login_and_links_from_the_header(client: Any, ui: Any, project: Any) -> None:
    assert 'href="/account/password?project=proj-a"' in ui.get(f"/project/{project.id}/traces").text
    page = ui.get("/account/password?project=proj-a")
    assert page.status_code == 200 and 'name="current_password"' in page.text and "Mia Member" in page.text
    ui.cookies.clear()
    assert ui.get("/account/password", follow_redirects=False).status_code == 303


def test_refusals_leave_the_password_as_it_was(ui: Any) -> None:
    assert _change(ui, PASSWORD, NEW, token=None).status_code == 403
    wrong = _change(ui, "not my password", NEW)
    assert wrong.status_code == 400 and "current password is wrong" in wrong.text
    mismatch = _change(ui, PASSWORD, NEW, confirm=NEW + "!")
    assert mismatch.status_code == 400 and "do not match" in mismatch.text
    short = _change(ui, PASSWORD, "short one")
    assert short.status_code == 400 and "at least 12 characters" in short.text
    same = _change(ui, PASSWORD, PASSWORD)
    assert same.status_code == 400 and "same as the current" in same.text
    ui.cookies.clear()
    assert login(ui, "member@example.com").status_code == 303  # the old password still works


def test_a_change_signs_out_the_other_browsers_only(app: Any, ui: Any, project: Any) -> None:
    laptop = TestClient(app, client=("198.51.100.8", 40000))
    assert login(laptop, "member@example.com").status_code == 303
    changed = _change(ui, PASSWORD, NEW)
    assert changed.status_code == 303 and "notice=password-changed" in changed.headers["location"]
    assert "other sessions were signed out" in ui.get(changed.headers["location"]).text
    assert ui.get(f"/project/{project.id}/traces").status_code == 200  # this browser stays in
    assert laptop.get(f"/project/{project.id}/traces", follow_redirects=False).status_code == 303
    assert login(laptop, "member@example.com").status_code == 401
    assert login(laptop, "member@example.com", NEW).status_code == 303


def test_guessing_the_current_password_is_throttled_like_logins(app: Any, ui: Any) -> None:
    app.state.ui_login_limiter = LoginRateLimiter(free_per_account=2, first_delay=60)
    statuses = [_change(ui, f"guess {i}", NEW).status_code for i in range(4)]
    assert statuses[:2] == [400, 400] and statuses[-1] == 429
    assert _change(ui, PASSWORD, NEW).status_code == 429  # even the right one waits
