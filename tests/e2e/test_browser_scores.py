"""Annotation and the Scores page in a real Chromium against a real server subprocess.

Module-scoped server and browser, like test_browser_settings.py (Playwright's sync API allows one
instance at a time, so this module's is closed at its end). Screenshots land in /tmp/ia-screens/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from interactiveai.server.clock import now_us
from interactiveai.server.ui.formatting import iso_time
from tests.conftest import live_database_url
from tests.server.ui.seed import add_trace, obs, oid, tid
from tests.support.browser import MINUTE, SCREENS, chromium
from tests.support.live_server import LiveServer, live_server

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture(scope="module")
def server(
    dialect: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("scores-live"), live_database_url(dialect, request)) as srv:
        yield srv


@pytest.fixture(scope="module")
def data(server: LiveServer) -> dict[str, str]:
    from interactiveai.server.storage.engines import create_db_engine
    from interactiveai.server.writes.score_configs import create_score_config
    from interactiveai.server.writes.scores import upsert_scores

    engine = create_db_engine(server.database_url, pool_size=1)
    pid, now = server.project_id, now_us()
    trace = add_trace(
        engine, pid, tid("rated"), timestamp_us=now - 10 * MINUTE, name="rated-trace", session_id="conv-7",
        input={"question": "Capital of France?"}, output="Paris",
        observations_=[obs(oid("r1"), name="root"), obs(oid("r2"), parent=oid("r1"), type="GENERATION",
                       name="llm", model="gpt-4o", input="Capital of France?", output="Paris")],
    )  # fmt: skip
    config = create_score_config(engine, pid, {"name": "quality", "dataType": "NUMERIC", "minValue": 0, "maxValue": 5})
    tone = [{"label": "polite", "value": 1}, {"label": "rude", "value": 0}]
    create_score_config(engine, pid, {"name": "tone", "dataType": "CATEGORICAL", "categories": tone})
    upsert_scores(engine, pid, [
        {"traceId": trace, "name": "accuracy", "value": v, "timestamp": iso_time(now - (i + 1) * MINUTE)}
        for i, v in enumerate([0.9, 0.7, 1.0, 0.4])
    ] + [
        {"traceId": trace, "name": "tone", "value": label, "dataType": "CATEGORICAL", "comment": "auto-graded",
         "source": "API", "timestamp": iso_time(now - 3 * MINUTE)} for label in ("polite", "polite", "rude")
    ] + [
        {"sessionId": "conv-7", "name": "resolved", "value": True, "timestamp": iso_time(now - 2 * MINUTE)},
        {"traceId": trace, "observationId": oid("r2"), "name": XSS, "value": 1, "comment": XSS,
         "timestamp": iso_time(now - 4 * MINUTE)},
    ])  # fmt: skip
    engine.dispose()
    return {"trace": trace, "config": config.id}


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Any, server: LiveServer, data: dict[str, str]) -> Iterator[Any]:
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


def _url(server: LiveServer, path: str) -> str:
    return f"{server.url}/project/{server.project_id}{path}"


def test_annotate_an_observation_and_see_it_on_the_scores_page(page: Any, server: LiveServer,
                                                               data: dict[str, str]) -> None:  # fmt: skip
    SCREENS.mkdir(exist_ok=True)
    page.goto(_url(server, f"/traces/{data['trace']}?observation={oid('r2')}"))
    page.click("#annotate-menu summary")
    form = page.locator("#annotate-form")
    expect(form).to_be_visible()
    form.locator("select[name=config_id]").select_option(data["config"])
    form.locator("input[name=target][value=observation]").check()
    form.locator("input[name=value]").fill("4")
    form.locator("textarea[name=comment]").fill("clear and correct")
    page.screenshot(path=str(SCREENS / "annotate-form.png"))
    form.locator("button[type=submit]").click()
    expect(page.locator("#notice")).to_contain_text("The score was saved")
    assert f"observation={oid('r2')}" in page.url
    expect(page.locator("#detail-pane")).to_contain_text("quality")
    # out of the config's range: the error is shown, nothing stored
    page.click("#annotate-menu summary")
    page.locator("#annotate-form select[name=config_id]").select_option(data["config"])
    page.locator("#annotate-form input[name=value]").fill("9")
    page.locator("#annotate-form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Score not saved")
    expect(page.locator("main")).to_contain_text("above the config's maxValue 5")
    page.errors.clear()  # the browser logs the expected 400

    page.goto(_url(server, "/scores"))
    rows = page.locator("#scores-table tbody tr")
    expect(rows).to_have_count(10)
    mine = rows.filter(has_text="quality")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("ANNOTATION")
    expect(mine).to_contain_text("clear and correct")
    target = f"/project/{server.project_id}/traces/{data['trace']}?observation={oid('r2')}"
    expect(mine.locator("a", has_text="observation")).to_have_attribute("href", target)
    expect(page.locator("#score-summary")).to_contain_text("accuracy")
    expect(page.locator("#scores-table")).to_contain_text(XSS)
    page.screenshot(path=str(SCREENS / "scores.png"), full_page=True)
    page.select_option("#score-filters select[name=source]", "ANNOTATION")
    page.click("#score-filters button[type=submit]")
    expect(rows).to_have_count(1)
    assert page.url.endswith("/scores?source=ANNOTATION&range=7d")
    assert page.evaluate("window.__xss") is None and page.errors == []
