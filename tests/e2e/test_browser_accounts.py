"""Accounts in a real Chromium against a real server: change a password, add and remove a member,
create a project and switch to it from the header. Screenshots (desktop and phone) land in
/tmp/ia-screens/ (never in git)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from interactiveai.server.tenancy import add_membership, create_user
from tests.conftest import live_database_url
from tests.support.browser import SCREENS, chromium
from tests.support.live_server import LiveServer, live_server

pytestmark = pytest.mark.browser

NEWBIE = "Newbie@Example.com"  # the form is type=email: markup in emails is the server tests' (test_members.py)
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(
    dialect: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("accounts-live"), live_database_url(dialect, request)) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Any]:
    with chromium() as browser:
        yield browser


def _tab(browser: Any, server: LiveServer, email: str, password: str, viewport: dict[str, int] = DESKTOP) -> Any:
    context = browser.new_context(viewport=viewport)
    tab = context.new_page()
    tab.add_init_script("window.__xss = undefined;")
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.errors = errors
    tab.goto(server.url + "/login")
    tab.fill("input[name=email]", email)
    tab.fill("input[name=password]", password)
    tab.click("button[type=submit]")
    tab.wait_for_url("**/project/**")
    return tab


def _engine(server: LiveServer) -> Any:
    from interactiveai.server.storage.engines import create_db_engine

    return create_db_engine(server.database_url, pool_size=1)


def test_change_password_signs_out_the_other_browser(browser: Any, server: LiveServer) -> None:
    engine = _engine(server)
    user_id = create_user(engine, "pat@example.com", "pat's first password", name="Pat")
    add_membership(engine, user_id, server.project_id, role="VIEWER")
    engine.dispose()
    laptop = _tab(browser, server, "pat@example.com", "pat's first password")
    phone = _tab(browser, server, "pat@example.com", "pat's first password", PHONE)
    phone.click(".user-menu summary")
    phone.click("#change-password-link")
    phone.fill("input[name=current_password]", "pat's first password")
    phone.fill("input[name=new_password]", "pat's second password")
    phone.fill("input[name=confirm_password]", "pat's second password")
    SCREENS.mkdir(exist_ok=True)
    phone.screenshot(path=str(SCREENS / "account-password-phone.png"), full_page=True)
    phone.click("#change-password button[type=submit]")
    expect(phone.locator("#notice")).to_contain_text("other sessions were signed out")
    phone.goto(f"{server.url}/project/{server.project_id}/traces")
    expect(phone).to_have_url(f"{server.url}/project/{server.project_id}/traces")
    laptop.goto(f"{server.url}/project/{server.project_id}/traces")
    expect(laptop.locator("input[name=password]")).to_be_visible()  # back at the login form
    assert phone.errors == [] and laptop.errors == []
    laptop.context.close()
    phone.context.close()


def test_add_a_new_member_and_remove_them(browser: Any, server: LiveServer) -> None:
    tab = _tab(browser, server, server.email, server.password)
    tab.goto(f"{server.url}/project/{server.project_id}/settings#members")
    tab.fill("#add-member input[name=email]", NEWBIE)
    tab.select_option("#add-member select[name=role]", "VIEWER")
    tab.click("#add-member button[type=submit]")
    expect(tab.locator("#new-member")).to_contain_text("shown only this once")
    password = tab.locator("#new-member-password").inner_text()
    assert len(password) >= 20
    row = tab.locator("#members-table tbody tr", has_text="newbie@example.com")
    expect(row.locator(".member-email")).to_have_text("newbie@example.com")
    expect(row.locator("select[name=role]")).to_have_value("VIEWER")
    tab.screenshot(path=str(SCREENS / "settings-members.png"))
    row.locator("button", has_text="Remove").click()
    expect(tab.locator("#confirm-dialog")).to_be_visible()
    tab.locator("#confirm-dialog .confirm-ok").click()
    expect(tab.locator("#notice")).to_contain_text("removed")
    expect(tab.locator("#members-table tbody tr", has_text="newbie@example.com")).to_have_count(0)
    assert tab.evaluate("window.__xss") is None and tab.errors == []
    tab.context.close()


def test_create_a_project_and_switch_back_from_the_header(browser: Any, server: LiveServer) -> None:
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        tab = _tab(browser, server, server.email, server.password, viewport)
        tab.goto(f"{server.url}/project/{server.project_id}/settings")
        tab.screenshot(path=str(SCREENS / f"settings-{name}.png"), full_page=True)
        tab.click(".project-switcher summary")
        tab.screenshot(path=str(SCREENS / f"header-switcher-{name}.png"))
        tab.click("#new-project-link")
        tab.fill("#new-project input[name=name]", f"Side project {name}")
        tab.click("#new-project button[type=submit]")
        expect(tab.locator("#project-created")).to_be_visible()
        assert tab.locator("#new-secret-key").inner_text().startswith("sk-")
        expect(tab.locator(".project-switcher summary")).to_contain_text(f"Side project {name}")
        tab.click(".project-switcher summary")
        tab.locator("#project-list a", has_text=server.project_id).click()
        tab.wait_for_url(f"**/project/{server.project_id}/settings")
        tab.click(".project-switcher summary")
        tab.locator("#project-list a", has_text=f"Side project {name}").click()
        expect(tab.locator("#members-table tbody tr")).to_have_count(1)  # its creator, the owner
        assert tab.errors == []
        tab.context.close()
