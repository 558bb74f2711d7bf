"""The API docs page in a real Chromium: Swagger UI renders every operation under the strict CSP,
with no console error and no request to another origin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import chromium
from tests.support.live_server import LiveServer, live_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(Path(tmp_path_factory.mktemp("api-docs-live"))) as srv:
        yield srv


def test_swagger_ui_renders_from_vendored_files(server: LiveServer) -> None:
    with chromium() as browser:
        page = browser.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        response = page.goto(server.url + "/api/public/docs")
        assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_selector(".opblock", timeout=30_000)
        operations = page.locator(".opblock").count()
        assert operations >= 40
        page.locator(".authorize").first.wait_for()  # the basicAuth scheme is offered
        page.locator(".opblock-summary").first.click()
        page.wait_for_selector(".responses-table")
        assert not problems, problems
        assert requested and all(url.startswith(server.url) for url in requested), requested
