"""The dashboard, sessions and dataset pages in a real Chromium against a real server subprocess:
a single-point series is drawn, a model has one colour in every chart, sorting by a column,
dataset items created, edited, archived and deleted. Screenshots land in /tmp/ia-screens/."""

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


@pytest.fixture(scope="module")
def server(
    dialect: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("dash-live"), live_database_url(dialect, request)) as srv:
        yield srv


@pytest.fixture(scope="module")
def data(server: LiveServer) -> dict[str, str]:
    from interactiveai.server.rollups.refresher import rebuild
    from interactiveai.server.storage.engines import create_db_engine
    from interactiveai.server.writes.datasets import upsert_dataset
    from interactiveai.server.writes.scores import upsert_scores

    engine = create_db_engine(server.database_url, pool_size=1)
    pid, now = server.project_id, now_us()
    # one trace in the window: every chart has a single point; the dear model costs more with
    # fewer tokens, so it ranks first by cost and second by tokens
    calls = [
        obs(oid("root"), name="agent", start=0, end=249_000),
        obs(oid("dear"), parent=oid("root"), type="GENERATION", name="plan", model="dear-model-with-a-long-name-2026",
            usage={"input": 10, "output": 5}, cost={"total": 0.9}),
        obs(oid("cheap"), parent=oid("root"), type="GENERATION", name="draft", model="cheap-mini",
            usage={"input": 4000, "output": 1000}, cost={"total": 0.01}),
    ]  # fmt: skip
    trace = add_trace(engine, pid, tid("one"), timestamp_us=now - 3 * 60 * MINUTE, session_id="conv-a",
                      user_id="ann", observations_=calls)  # fmt: skip
    expensive = obs(oid("b"), type="GENERATION", name="x", model="cheap-mini", cost={"total": 2.5})
    add_trace(engine, pid, tid("two"), timestamp_us=now - 5 * MINUTE, session_id="conv-b", user_id="bob",
              observations_=[expensive])  # fmt: skip
    minute_ago = iso_time(now - MINUTE)
    upsert_scores(engine, pid, [
        {"traceId": trace, "name": "tone", "value": label, "dataType": "CATEGORICAL", "timestamp": minute_ago}
        for label in ("polite", "polite", "rude")
    ])  # fmt: skip
    dataset = upsert_dataset(engine, pid, {"name": "golden questions"})
    rebuild(engine, pid)  # the seed writes rows directly, without marking their hours for the roll-ups
    engine.dispose()
    return {"trace": trace, "dataset": dataset.id}


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Any, server: LiveServer, data: dict[str, str]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "400" not in msg.text else None)
    tab.errors = errors
    tab.goto(server.url + "/login")
    tab.fill("input[name=email]", server.email)
    tab.fill("input[name=password]", server.password)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"**/project/{server.project_id}/traces")
    yield tab
    assert errors == []
    context.close()


def _url(server: LiveServer, path: str) -> str:
    return f"{server.url}/project/{server.project_id}{path}"


def test_dashboard_draws_single_points_and_keeps_model_colours(page: Any, server: LiveServer) -> None:
    SCREENS.mkdir(exist_ok=True)
    page.goto(_url(server, "/dashboard?range=7d"))
    page.wait_for_selector("#dashboard:not(.loading)")
    # 168 hourly buckets, two (not adjacent) with traces: each percentile is two lone points, drawn as dots
    expect(page.locator("[data-chart=latency] circle.point.alone")).to_have_count(8)
    colours = page.evaluate("""() => {
        const of = (chart) => Object.fromEntries([...document.querySelectorAll(`[data-legend=${chart}] > span`)]
            .map((s) => [s.title, s.querySelector('.swatch').style.background]));
        const table = Object.fromEntries([...document.querySelectorAll('#models-table tbody tr')]
            .map((tr) => [tr.cells[0].title, tr.cells[0].querySelector('.swatch').style.background]));
        return {cost: of('cost'), tokens: of('tokens'), table};
    }""")
    assert set(colours["cost"]) == {"dear-model-with-a-long-name-2026", "cheap-mini"}
    assert colours["cost"] == colours["tokens"] == colours["table"]
    assert len(set(colours["cost"].values())) == 2
    swatch = page.locator("#models-table tbody td.model-name .swatch").first
    assert swatch.evaluate("s => s.getBoundingClientRect().width") > 0  # visible, not an empty span
    name = page.locator("#models-table tbody td.model-name", has_text="dear-model")
    assert name.evaluate("td => td.scrollWidth <= td.clientWidth")  # the whole name is shown
    expect(page.locator("#scores-table .dist-key")).to_contain_text("polite 2")
    expect(page.locator("#scores-table .dist-key")).to_contain_text("rude 1")
    page.screenshot(path=str(SCREENS / "dashboard-single-point.png"), full_page=True)
    # a custom range, typed in local time
    page.select_option("#dash-range", "custom")
    expect(page.locator("#dash-custom")).to_be_visible()
    page.fill("[data-local=from]", "2020-01-01T00:00")
    page.fill("[data-local=to]", "2020-01-02T00:00")
    page.click("#dash-custom button[type=submit]")
    page.wait_for_url("**range=custom**")
    page.wait_for_selector("#dashboard:not(.loading)")
    expect(page.locator("[data-tile=traces]")).to_have_text("0")
    expect(page.locator("#dash-window")).to_have_text("Custom range")


def test_sessions_sort_by_a_column(page: Any, server: LiveServer) -> None:
    page.goto(_url(server, "/sessions?range=24h"))
    first = page.locator("#sessions-table tbody tr").first
    expect(first).to_contain_text("conv-b")  # most recently started first
    page.click("#sessions-table th a:has-text('Traces')")
    expect(page.locator("#sessions-table th[aria-sort=descending]")).to_contain_text("Traces")
    expect(page.locator("#sessions-table tbody tr").first).to_contain_text("conv-a")
    page.click("#sessions-table th a:has-text('Cost')")
    expect(page.locator("#sessions-table tbody tr").first).to_contain_text("conv-b")
    page.click("#sessions-table th a:has-text('Cost')")  # again: cheapest first
    expect(page.locator("#sessions-table th[aria-sort=ascending]")).to_contain_text("Cost")
    expect(page.locator("#sessions-table tbody tr").first).to_contain_text("conv-a")
    expect(page.locator("#pager-total")).to_contain_text("2 sessions")


def test_dataset_items_created_edited_archived_deleted(page: Any, server: LiveServer, data: dict[str, str]) -> None:
    page.goto(_url(server, f"/datasets/{data['dataset']}"))
    expect(page.locator("nav.crumbs")).to_contain_text("golden questions")
    page.click("#new-item summary")
    page.fill("#new-item-form textarea[name=input]", "What is 2+2?")  # not JSON: refused, kept
    page.click("#new-item-form button[type=submit]")
    expect(page.locator("#item-error")).to_contain_text("Input is not valid JSON")
    expect(page.locator("#new-item-form textarea[name=input]")).to_have_value("What is 2+2?")
    page.fill("#new-item-form textarea[name=input]", '{"question": "What is 2+2?"}')
    page.fill("#new-item-form textarea[name=expected_output]", '"4"')
    page.click("#new-item-form button[type=submit]")
    expect(page.locator("#notice")).to_contain_text("was added")
    rows = page.locator("#items-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("What is 2+2?")
    rows.first.locator("td a").first.click()
    page.fill("#item-form textarea[name=expected_output]", '"four"')
    page.click("#item-form button[value=save]")
    expect(page.locator("#notice")).to_contain_text("saved as a new version")
    expect(page.locator("#item-form textarea[name=expected_output]")).to_have_value('"four"')
    page.click("button[value=archive]")
    expect(page.locator("#item-status")).to_have_text("archived")
    page.click("button[value=delete]")
    page.click("#confirm-dialog .confirm-ok")
    expect(page.locator("#notice")).to_contain_text("deleted")
    expect(page.locator("#items-table tbody tr")).to_have_count(0)
