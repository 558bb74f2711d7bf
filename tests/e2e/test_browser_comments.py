"""Comments in the trace page in a real Chromium against a real server subprocess: on the trace
and on an observation, there after a reload, a hostile comment shown as text, deleted.

Module-scoped server and browser, like test_browser_scores.py. Screenshots land in /tmp/ia-screens/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from interactiveai.server.clock import now_us
from tests.conftest import live_database_url
from tests.server.ui.seed import add_trace, obs, oid, tid
from tests.support.browser import MINUTE, SCREENS, chromium
from tests.support.live_server import LiveServer, live_server

pytestmark = pytest.mark.browser

HOSTILE = '<img src=x onerror="window.__xss=1">\nsecond line <script>window.__xss=2</script>'


@pytest.fixture(scope="module")
def server(
    dialect: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("comments-live"), live_database_url(dialect, request)) as srv:
        yield srv


@pytest.fixture(scope="module")
def trace(server: LiveServer) -> str:
    from interactiveai.server.storage.engines import create_db_engine

    engine = create_db_engine(server.database_url, pool_size=1)
    found = add_trace(
        engine, server.project_id, tid("talk"), timestamp_us=now_us() - 5 * MINUTE, name="talk",
        observations_=[obs(oid("c1"), name="root"), obs(oid("c2"), parent=oid("c1"), type="GENERATION", name="llm")],
    )  # fmt: skip
    engine.dispose()
    return str(found)


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Any, server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    tab = context.new_page()
    tab.add_init_script("window.__xss = undefined; window.alert = () => { window.__xss = 'alert'; };")
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.errors = errors
    tab.goto(server.url + "/login")
    tab.fill("input[name=email]", server.email)
    tab.fill("input[name=password]", server.password)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"**/project/{server.project_id}/traces")
    yield tab
    context.close()


def test_comment_on_a_trace_and_an_observation(page: Any, server: LiveServer, trace: str) -> None:
    SCREENS.mkdir(exist_ok=True)
    page.goto(f"{server.url}/project/{server.project_id}/traces/{trace}")
    page.click("#trace-comments summary")
    page.fill("#trace-comment-form textarea[name=content]", HOSTILE)
    page.click("#trace-comment-form button[type=submit]")
    page.wait_for_url("**#trace-comments")
    expect(page.locator("#trace-comment-count")).to_have_text("1")
    expect(page.locator("#trace-comment-list .comment-text")).to_have_text(HOSTILE)
    expect(page.locator('.nav-row[data-index="0"] .nav-comments')).to_have_text("1")
    page.screenshot(path=str(SCREENS / "trace-comments-menu.png"))

    page.click(f'.nav-row[data-observation-id="{oid("c2")}"]')
    card = page.locator("#detail-pane #comments")
    expect(card).to_contain_text("No comments on this observation yet")
    card.locator("textarea[name=content]").fill("too slow\n  here")
    card.locator("textarea[name=content]").press("Control+Enter")
    page.wait_for_url(f"**?observation={oid('c2')}#comments")

    page.reload()
    card = page.locator("#detail-pane #comments")
    expect(card.locator(".comment-text")).to_have_text("too slow\n  here")
    expect(card.locator(".comment-author")).to_have_text(server.email)
    expect(card.locator("time")).to_have_attribute("title", re.compile(r" UTC$"))  # the page's local time
    expect(page.locator(f'.nav-row[data-observation-id="{oid("c2")}"] .nav-comments')).to_have_text("1")
    page.click('.nav-row[data-index="0"]')
    expect(page.locator("#detail-pane #comments .comment-text")).to_have_text(HOSTILE)
    assert page.locator(".comment-text img, .comment-text script").count() == 0
    page.screenshot(path=str(SCREENS / "trace-comments.png"))

    page.click(f'.nav-row[data-observation-id="{oid("c2")}"]')
    expect(page.locator("#detail-pane #comments .comment-text")).to_have_text("too slow\n  here")
    page.locator("#detail-pane #comments .comment-delete button").click()
    with page.expect_navigation():
        page.click("#confirm-dialog .confirm-ok")
    expect(page.locator("#detail-pane #comments")).to_contain_text("No comments on this observation yet")
    expect(page.locator(f'.nav-row[data-observation-id="{oid("c2")}"] .nav-comments')).to_have_count(0)
    assert page.evaluate("window.__xss") is None and page.errors == []
