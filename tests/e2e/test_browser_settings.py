"""Settings, trace deletion and datasets in a real Chromium against a real server subprocess.

Module-scoped server and browser (started once for these tests; Playwright's sync API allows one
instance at a time, so this module's is closed before test_browser_ui.py starts its own).
Screenshots land in /tmp/ia-screens/ (never in git).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from interactiveai.server.clock import now_us
from tests.conftest import live_database_url
from tests.server.ui.seed import add_trace, chat_trace, obs, oid, tid
from tests.support.browser import MINUTE, SCREENS, chromium
from tests.support.live_server import LiveServer, live_server

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture(scope="module")
def server(
    dialect: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("settings-live"), live_database_url(dialect, request)) as srv:
        yield srv


@pytest.fixture(scope="module")
def data(server: LiveServer) -> dict[str, str]:
    from interactiveai.server.storage.engines import create_db_engine

    engine = create_db_engine(server.database_url, pool_size=1)
    pid, now = server.project_id, now_us()
    ids = {
        "chat": chat_trace(engine, pid, "chat", now - 20 * MINUTE, user_id="alice", tags=["prod"]),
        "doomed": add_trace(
            engine, pid, tid("doomed"), timestamp_us=now - 10 * MINUTE, name="doomed-trace", input="delete me",
            observations_=[obs(oid("d1"), name="root"), obs(oid("d2"), parent=oid("d1"), type="GENERATION",
                           name="llm", model="gpt-4o", usage={"input": 100, "output": 20},
                           cost={"input": 0.001, "output": 0.002})],
        ),
        "bulk-a": add_trace(engine, pid, tid("bulk-a"), timestamp_us=now - 7 * MINUTE, name="bulk-a"),
        "bulk-b": add_trace(engine, pid, tid("bulk-b"), timestamp_us=now - 6 * MINUTE, name="bulk-b"),
        "qa": add_trace(engine, pid, tid("qa"), timestamp_us=now - 5 * MINUTE, name="qa-for-dataset",
                        input={"question": "Capital of France?"}, output="Paris"),
    }  # fmt: skip
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def auth_state(browser: Any, server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(server.url + "/login")
    tab.fill("input[name=email]", server.email)
    tab.fill("input[name=password]", server.password)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"**/project/{server.project_id}/traces")
    path = str(tmp_path_factory.mktemp("settings-auth") / "state.json")
    context.storage_state(path=path)
    context.close()
    return path


@pytest.fixture
def page(browser: Any, auth_state: str, data: dict[str, str]) -> Iterator[Any]:
    context = browser.new_context(storage_state=auth_state, viewport={"width": 1440, "height": 900})
    tab = context.new_page()
    tab.add_init_script("window.__xss = undefined; window.alert = () => { window.__xss = 'alert'; };")
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.errors = errors
    yield tab
    context.close()


def _url(server: LiveServer, path: str) -> str:
    return f"{server.url}/project/{server.project_id}{path}"


def test_create_key_and_see_the_secret_once(page: Any, server: LiveServer) -> None:
    SCREENS.mkdir(exist_ok=True)
    page.goto(_url(server, "/settings"))
    expect(page.locator("#keys-table tbody tr")).to_have_count(1)
    page.fill("#create-key input[name=note]", XSS)
    page.click("#create-key button[type=submit]")
    secret = page.locator("#new-secret-key").inner_text()
    assert secret.startswith("sk-")
    expect(page.locator("#new-key")).to_contain_text("shown only this once")
    expect(page.locator("#keys-table tbody tr")).to_have_count(2)
    expect(page.locator("#keys-table .key-note").last).to_have_text(XSS)
    page.screenshot(path=str(SCREENS / "settings-new-key.png"))
    page.goto(_url(server, "/settings"))
    assert secret not in page.content()
    page.goto(_url(server, "/settings?lookup=gpt-4o-mini#models"))
    expect(page.locator("#lookup-result")).to_contain_text("catalog")
    page.screenshot(path=str(SCREENS / "settings.png"), full_page=True)
    # revoke it through the confirmation dialog
    row = page.locator("#keys-table tbody tr", has_text=XSS)
    row.locator("button", has_text="Revoke").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.locator("#confirm-dialog .confirm-ok").click()
    expect(page.locator("#notice")).to_contain_text("revoked")
    expect(page.locator("#keys-table tbody tr")).to_have_count(1)
    assert page.evaluate("window.__xss") is None and page.errors == []


def test_delete_a_trace_from_its_page(page: Any, server: LiveServer, data: dict[str, str]) -> None:
    page.goto(_url(server, f"/traces/{data['doomed']}?observation={oid('d2')}"))
    expect(page.locator("#price-source")).to_contain_text("provided by the client")
    page.screenshot(path=str(SCREENS / "trace-actions.png"))
    page.click("#delete-trace button[type=submit]")
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("2 observation(s)")
    page.screenshot(path=str(SCREENS / "trace-delete-confirm.png"))
    dialog.locator(".confirm-cancel").click()  # cancelling keeps the trace
    expect(dialog).to_be_hidden()
    assert f"/traces/{data['doomed']}" in page.url
    page.click("#delete-trace button[type=submit]")
    dialog.locator(".confirm-ok").click()
    page.wait_for_url("**/traces?notice=trace-deleted")
    expect(page.locator("#notice")).to_contain_text("deleted")
    expect(page.locator(f"tr[data-trace-id='{data['doomed']}']")).to_have_count(0)
    expect(page.locator(f"tr[data-trace-id='{data['chat']}']")).to_have_count(1)
    page.screenshot(path=str(SCREENS / "traces-after-delete.png"))
    assert page.errors == []


def test_add_a_trace_to_a_dataset(page: Any, server: LiveServer, data: dict[str, str]) -> None:
    page.goto(_url(server, f"/traces/{data['qa']}"))
    page.click("#dataset-menu summary")
    page.fill("#add-to-dataset input[name=new_dataset]", XSS)
    page.screenshot(path=str(SCREENS / "trace-add-to-dataset.png"))
    page.click("#add-to-dataset button[type=submit]")
    page.wait_for_url("**notice=item-added**")
    expect(page.locator("#in-datasets")).to_have_text(XSS)
    expect(page.locator("#notice")).to_contain_text("Added to the dataset")
    page.click("#in-datasets a")
    expect(page.locator("#dataset-title")).to_have_text(XSS)
    expect(page.locator("#items-table")).to_contain_text("Capital of France?")
    expect(page.locator("#items-table")).to_contain_text("Paris")
    page.screenshot(path=str(SCREENS / "dataset.png"))
    page.click("#items-table a.source-link")
    page.wait_for_url(f"**/traces/{data['qa']}")
    page.goto(_url(server, "/datasets"))
    expect(page.locator("#datasets-table .dataset-name")).to_have_text(XSS)
    page.screenshot(path=str(SCREENS / "datasets.png"))
    assert page.evaluate("window.__xss") is None and page.errors == []


def test_delete_selected_traces_from_the_list(page: Any, server: LiveServer, data: dict[str, str]) -> None:
    page.goto(_url(server, "/traces"))
    button = page.locator("#delete-selected")
    expect(button).to_be_disabled()
    for key in ("bulk-a", "bulk-b"):
        page.locator(f"tr[data-trace-id='{data[key]}'] input[data-bulk-item]").check()
    expect(button).to_be_enabled()
    expect(button).to_contain_text("2")
    page.screenshot(path=str(SCREENS / "traces-selected.png"))
    button.click()
    page.locator("#confirm-dialog .confirm-ok").click()
    page.wait_for_url("**notice=traces-deleted**")
    expect(page.locator("#notice")).to_contain_text("2 trace(s) deleted")
    for key in ("bulk-a", "bulk-b"):
        expect(page.locator(f"tr[data-trace-id='{data[key]}']")).to_have_count(0)
    expect(page.locator(f"tr[data-trace-id='{data['chat']}']")).to_have_count(1)
    # "Delete all matching" shows the count first
    page.goto(_url(server, "/traces?range=all&name=qa-pipeline"))
    page.click("#delete-matching")
    expect(page.locator("#match-count")).to_contain_text("1 trace matches")
    page.click("text=Cancel")
    expect(page.locator(f"tr[data-trace-id='{data['chat']}']")).to_have_count(1)
    assert page.errors == []
