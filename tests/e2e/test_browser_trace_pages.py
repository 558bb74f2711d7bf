"""What issue 13 found on the trace list and the trace page, measured in a real Chromium: element
boxes (nothing past the table's or the screen's edge, no cut user ids, no scrolling box of rows),
times with year and zone, empty previews, cost text. Module-scoped server and browser, like
test_browser_scores.py. Screenshots land in /tmp/ia-screens/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from interactiveai.server.clock import now_us
from tests.conftest import live_database_url
from tests.server.ui.seed import add_trace, obs, oid, tid
from tests.support.browser import MINUTE, SCREENS, chromium
from tests.support.live_server import LiveServer, live_server

pytestmark = pytest.mark.browser

LONG_USER = "bob.the.builder@example.com"  # 27 characters: room for it at 1440 px
SCORES = [{"name": f"faithfulness-of-answer-{k}", "value": k / 10} for k in range(6)] + [
    {"name": "user-feedback", "string_value": "thumbs-down-with-a-long-label", "data_type": "CATEGORICAL"}
]
EMPTY_CALL = {"args": [], "kwargs": {}}
ESCAPED = json.dumps({"args": ["What is the refund policy?"], "kwargs": {}})  # stored as a JSON string


@pytest.fixture(scope="module")
def server(
    dialect: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("trace-pages"), live_database_url(dialect, request)) as srv:
        yield srv


@pytest.fixture(scope="module")
def data(server: LiveServer) -> dict[str, str]:
    from interactiveai.server.storage.engines import create_db_engine
    from interactiveai.server.storage.schema import observations

    engine = create_db_engine(server.database_url, pool_size=1)
    pid, now = server.project_id, now_us()
    ids = {
        "costly": add_trace(
            engine, pid, tid("costly"), timestamp_us=now - 2 * MINUTE, name="costly", user_id=LONG_USER,
            session_id="empty-call-session", input=EMPTY_CALL, output="done", metadata={},
            tags=["billing", "account"], trace_scores=SCORES,
            observations_=[
                obs(oid("c-root"), name="handler", end=2_000_000, input=EMPTY_CALL, metadata={}),
                obs(oid("c-gen"), parent=oid("c-root"), type="GENERATION", name="llm", model="gpt-4o",
                    usage={"input": 1200, "output": 3, "total": 1203},
                    cost={"input": 0.0375, "output": 0.000006, "total": 0.037506}),
                obs(oid("c-emb"), parent=oid("c-root"), type="EMBEDDING", name="embed", model="text-embedding-3-small",
                    usage={"input": 18}, cost={"input": 3.6e-7}),
            ],
        ),
        "job": add_trace(engine, pid, tid("job"), timestamp_us=now - 3 * MINUTE, name="job", input={"job": 1}),
        "escaped": add_trace(engine, pid, tid("escaped"), timestamp_us=now - 4 * MINUTE, name="escaped", input=ESCAPED),
    }  # fmt: skip
    for k in range(60):  # a page of traces: the page, not a box of rows, scrolls
        add_trace(engine, pid, tid(f"filler{k}"), timestamp_us=now - (10 + k) * MINUTE, name=f"filler-{k}")
    with engine.begin() as conn:
        conn.execute(
            update(observations)
            .where(observations.c.project_id == pid, observations.c.trace_id == ids["costly"])
            .values(service_name="unknown_service:python")
        )
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def auth_state(browser: Any, server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url + "/login")
    page.fill("input[name=email]", server.email)
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/project/proj-live/traces")
    path = str(tmp_path_factory.mktemp("auth") / "state.json")
    context.storage_state(path=path)
    context.close()
    return path


def _open(browser: Any, auth_state: str, width: int, height: int) -> Any:
    context = browser.new_context(
        storage_state=auth_state, viewport={"width": width, "height": height}, timezone_id="Asia/Kolkata"
    )
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


def _url(server: LiveServer, path: str) -> str:
    return f"{server.url}/project/{server.project_id}{path}"


def _box(page: Any, selector: str) -> dict[str, float]:
    return page.locator(selector).first.evaluate(
        "el => { const r = el.getBoundingClientRect(); return {left: r.left, right: r.right}; }"
    )


def test_trace_list_fits_its_table_and_reads_well(
    browser: Any, auth_state: str, server: LiveServer, data: dict[str, str]
) -> None:
    page = _open(browser, auth_state, 1440, 900)
    page.goto(_url(server, "/traces"))
    row = f"tr[data-trace-id='{data['costly']}']"
    wrap = _box(page, "#traces-table-wrap")
    # score chips stay inside their cell and the table; a long list ends in "+N more"
    cell = _box(page, f"{row} td.col-scores")
    for chip in page.locator(f"{row} td.col-scores .chip").all():
        box = chip.evaluate("el => { const r = el.getBoundingClientRect(); return [r.left, r.right]; }")
        assert cell["left"] - 0.5 <= box[0] and box[1] <= min(cell["right"], wrap["right"]) + 0.5, box
    assert page.locator(f"{row} td.col-scores .chip.more").inner_text() == "+4 more"
    # the whole table fits the page at 1440 px: nothing to scroll sideways
    assert page.evaluate("document.getElementById('traces-table-wrap').scrollWidth") <= wrap["right"] - wrap["left"]
    # the user id is shown whole, on one line
    user = page.locator(f"{row} td.col-user a")
    assert user.inner_text() == LONG_USER
    assert user.evaluate("el => el.getClientRects().length") == 1
    # rows do not scroll inside the page: the page does
    inner = page.evaluate("(() => { const w = document.getElementById('traces-table-wrap'); "
                          "return w.scrollHeight - w.clientHeight; })()")  # fmt: skip
    assert inner <= 1 and page.evaluate("document.documentElement.scrollHeight") > 900 * 2
    # local time with year and zone (the browser is in Asia/Kolkata), UTC on hover
    stamp = page.locator(f"{row} td.col-timestamp time")
    assert stamp.inner_text().replace("\u00a0", " ").count("2") >= 1 and "GMT+5:30" in stamp.inner_text()
    assert str(page.evaluate("new Date().getFullYear()")) in stamp.inner_text()
    assert stamp.get_attribute("title").endswith(" UTC")
    # level badges say what they count; a legend names the colours; the footer counts the traces
    assert page.locator(f"{row} .lc-default").get_attribute("title") == "3 observations at level DEFAULT"
    expect(page.locator("#level-legend")).to_have_text("Levels: errorwarningdefaultdebug")
    assert page.locator("#trace-total").inner_text().startswith("63 traces · 50 on this page")
    # empty call input reads as empty; a one-key object as JSON; escaped JSON as its text
    assert page.locator(f"{row} td.col-input").inner_text() == "—"
    assert page.locator(f"tr[data-trace-id='{data['job']}'] td.col-input").inner_text() == '{"job": 1}'
    escaped = page.locator(f"tr[data-trace-id='{data['escaped']}'] td.col-input").inner_text()
    assert escaped == "What is the refund policy?"
    # costs in fixed notation, the small output part visible
    cost = page.locator(f"{row} td.col-cost").inner_text()
    assert "$0.0375" in cost and "$0.000006 out" in cost and "e-" not in cost
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "trace-list-1440.png"))
    assert page.errors == []
    page.context.close()


def test_trace_page_costs_usage_metadata_and_previews(
    browser: Any, auth_state: str, server: LiveServer, data: dict[str, str]
) -> None:
    page = _open(browser, auth_state, 1440, 900)
    page.goto(_url(server, f"/traces/{data['costly']}"))
    panel = page.locator("#detail-pane")
    assert page.locator(".stats .lc-default").get_attribute("title") == "3 observations at level DEFAULT"
    expect(panel.locator(".card.payload").first).to_contain_text("— (called without arguments)")
    expect(panel.locator(".card", has_text="Metadata")).to_contain_text("—")
    assert "None" not in panel.inner_text()
    header = panel.locator(".panel-meta").inner_text()
    assert "$0.0375 ($0.0375 in · $0.000006 out)" in header
    assert page.locator(".nav-row", has_text="embed").locator(".m-cost").inner_text() == "$0.00000036"
    page.locator(".nav-row", has_text="llm").click()
    expect(panel.locator("h2")).to_have_text("llm")
    usage = panel.locator("table.usage")
    expect(usage).to_be_visible()
    assert [r.inner_text().split("\t")[0] for r in usage.locator("tr").all()] == [
        "usage key",
        "input",
        "output",
        "total",
    ]
    assert usage.locator("tr.total").inner_text().split("\t")[1:] == ["1,203", "$0.0375"]
    assert "service" not in panel.locator(".panel-ids").inner_text()  # unknown_service:python says nothing
    assert "e-" not in panel.inner_text()
    page.screenshot(path=str(SCREENS / "trace-detail-1440.png"))
    page.goto(_url(server, f"/traces/{data['escaped']}"))
    expect(panel.locator(".card.payload").first).to_contain_text("What is the refund policy?")
    assert "\\" not in panel.locator(".card.payload").first.inner_text()
    page.goto(_url(server, "/sessions/empty-call-session"))
    expect(page.locator(".bubble.user")).to_have_text("user —")
    assert page.errors == []
    page.context.close()


@pytest.mark.parametrize("path", ["/traces", "/traces/{costly}", "/scores"])
def test_nothing_passes_a_phone_screen_edge(
    browser: Any, auth_state: str, server: LiveServer, data: dict[str, str], path: str
) -> None:
    page = _open(browser, auth_state, 390, 844)
    page.goto(_url(server, path.format(**data)))
    page.wait_for_timeout(200)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.context.close()
