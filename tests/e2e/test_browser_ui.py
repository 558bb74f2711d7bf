"""The web UI in a real Chromium against a real server subprocess: login, list, detail, sessions, XSS.

One server and one browser per session. Data is inserted straight into the server's SQLite file
(rows as ingestion writes them), plus one trace sent through the real SDK over OTLP/HTTP.
Screenshots land in /tmp/ia-screens/ (never in git).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from interactiveai.server.clock import now_us
from tests.conftest import live_database_url
from tests.server.ui.seed import add_trace, chat_trace, obs, oid, tid
from tests.support.browser import MINUTE, SCREENS, chromium
from tests.support.live_server import LiveServer, live_server

pytestmark = pytest.mark.browser

XSS = '<script>window.__xss="script"</script><img src=x onerror="window.__xss=\'img\'">'
XSS_URL = "javascript:window.__xss='link'"
BIG = 10_000


@pytest.fixture(scope="session")
def server(
    dialect: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("ui-live"), live_database_url(dialect, request)) as srv:
        yield srv


@pytest.fixture(scope="session")
def data(server: LiveServer) -> dict[str, str]:
    """Traces for every flow, written into the live server's database."""
    from interactiveai.server.storage.engines import create_db_engine

    engine = create_db_engine(server.database_url, pool_size=1)
    pid, now = server.project_id, now_us()
    ids: dict[str, str] = {}
    turns = [
        ("Plan a trip to Lisbon", "Sure — when?"),
        ("In May", "May is lovely."),
        ("What to pack?", "Light clothes."),
    ]
    for i, (question, answer) in enumerate(turns):
        ids[f"turn{i}"] = chat_trace(
            engine, pid, f"turn{i}", now - (50 - i) * MINUTE, name="travel-agent", question=question,
            answer=answer, user_id="carol", session_id="trip-42", tags=["travel"], environment="production",
        )  # fmt: skip
    ids["chat"] = chat_trace(
        engine, pid, "chat", now - 20 * MINUTE, user_id="alice", tags=["prod", "rag"], environment="production",
        trace_scores=[{"name": "quality", "value": 0.9, "comment": "good answer"}],
    )  # fmt: skip
    ids["error"] = add_trace(
        engine, pid, tid("error"), timestamp_us=now - 10 * MINUTE, name="checkout", user_id="bob",
        environment="staging", input="charge the card",
        observations_=[
            obs(oid("e1"), name="checkout", end=3_000_000, level="ERROR", status="payment API timed out"),
            obs(oid("e2"), parent=oid("e1"), type="TOOL", name="charge-card", level="WARNING"),
        ],
    )  # fmt: skip
    ids["xss"] = add_trace(
        engine, pid, tid("xss"), timestamp_us=now - 5 * MINUTE, name=XSS, user_id=XSS_URL, session_id=XSS,
        tags=[XSS, XSS_URL], metadata={"html": XSS, "link": XSS_URL},
        input={"messages": [{"role": "user", "content": XSS}, {"role": "assistant", "content": [
            {"type": "text", "text": XSS}, {"type": "image_url", "image_url": {"url": XSS_URL}}]}]},
        output=XSS,
        observations_=[obs(oid("x1"), type="GENERATION", name=XSS, status=XSS, model=XSS, metadata={XSS: XSS_URL},
                           input=[{"role": "system", "content": XSS}], output={"role": "assistant", "content": XSS,
                           "tool_calls": [{"id": XSS, "function": {"name": XSS, "arguments": json.dumps({"a": XSS})}}]},
                           params={XSS: XSS}, usage={XSS: 1})],
        trace_scores=[{"name": XSS, "string_value": XSS, "data_type": "CATEGORICAL", "comment": XSS}],
    )  # fmt: skip
    ids["cycle"] = add_trace(
        engine, pid, tid("cycle"), timestamp_us=now - 3 * 24 * 60 * MINUTE, name="broken-parents",
        observations_=[obs(oid("c1"), parent=oid("c2"), name="loop-a"), obs(oid("c2"), parent=oid("c1"), name="loop-b"),
                       obs(oid("c3"), parent=oid("missing"), name="orphan")],
    )  # fmt: skip
    rows = [obs(oid("big0"), type="AGENT", name="batch-job", start=0, end=BIG * 1000)]
    for k in range(1, BIG):
        parent = rows[(k - 1) // 20]["id"]
        rows.append(obs(oid(f"big{k}"), parent=parent, name=f"step-{k}", start=k * 900, end=k * 900 + 5000))
    ids["big"] = add_trace(engine, pid, tid("big"), timestamp_us=now - 2 * MINUTE, name="batch-10k", observations_=rows)
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope: Playwright's sync API allows one instance per process at a time, so every
    # browser module must close its own before the next one starts, whatever the order.
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def auth_state(browser: Any, server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    context = browser.new_context()
    page = context.new_page()
    _login(page, server)
    path = str(tmp_path_factory.mktemp("auth") / "state.json")
    context.storage_state(path=path)
    context.close()
    return path


def _login(page: Any, server: LiveServer) -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=email]", server.email)
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/project/proj-live/traces")


class Watch:
    """Page errors, console errors and dialogs; and the XSS trap."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)


@pytest.fixture
def page(browser: Any, auth_state: str, data: dict[str, str]) -> Iterator[Any]:
    context = browser.new_context(storage_state=auth_state, viewport={"width": 1440, "height": 900})
    tab = context.new_page()
    tab.add_init_script("window.__xss = undefined; window.alert = () => { window.__xss = 'alert'; };")
    tab.watch = Watch(tab)
    yield tab
    context.close()


def _url(server: LiveServer, path: str) -> str:
    return f"{server.url}/project/{server.project_id}{path}"


def test_login_redirects_back_and_logout(browser: Any, server: LiveServer, data: dict[str, str]) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(_url(server, "/traces?range=24h&user=alice"))
    assert "/login?next=" in page.url
    page.fill("input[name=email]", server.email)
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    assert page.locator(".alert").inner_text() == "Wrong email or password."
    page.fill("input[name=password]", server.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/traces?range=24h&user=alice")
    assert page.locator("#traces-table tbody tr").count() == 1
    page.click(".user-menu summary")
    page.click("#logout")
    page.wait_for_url("**/login")
    page.goto(_url(server, "/traces"))
    assert "/login" in page.url
    context.close()


def test_filtering_the_list(page: Any, server: LiveServer, data: dict[str, str]) -> None:
    page.goto(_url(server, "/traces"))
    rows = page.locator("#traces-table tbody tr")
    assert rows.count() == 8
    page.fill("input[name=q]", "Lisbon")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**q=Lisbon**")
    assert [rows.nth(i).get_attribute("data-trace-id") for i in range(rows.count())] == [data["turn0"]]
    page.click(".filter-chip")  # remove the search again
    page.wait_for_load_state()
    page.click("#toggle-more")
    page.fill("input[name=user]", "bob")
    page.check("input[name=level][value=ERROR]")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**user=bob**")
    assert rows.count() == 1 and rows.first.get_attribute("data-trace-id") == data["error"]
    shared = page.url
    page.goto(shared)  # the URL alone reproduces the view
    assert page.locator("#traces-table tbody tr").count() == 1
    page.goto(_url(server, "/traces?range=24h"))
    page.click("th[data-col=latency] a")
    page.wait_for_url("**sort=latency**")
    assert page.locator("#traces-table tbody tr").first.get_attribute("data-trace-id") == data["big"]
    page.select_option("#range", "30m")
    page.wait_for_url("**range=30m**")
    assert "No traces match" not in page.content()
    assert page.watch.errors == []


def test_custom_time_range_in_local_time(
    browser: Any, auth_state: str, server: LiveServer, data: dict[str, str]
) -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    context = browser.new_context(storage_state=auth_state, timezone_id="Asia/Kolkata")  # UTC+05:30
    page = context.new_page()
    page.goto(_url(server, "/traces"))
    page.select_option("#range", "custom")
    now = datetime.now(UTC)
    local = ZoneInfo("Asia/Kolkata")
    start, end = now - timedelta(minutes=12), now + timedelta(hours=1)
    page.fill("#custom-range input[name=from]", start.astimezone(local).strftime("%Y-%m-%dT%H:%M:%S"))
    page.fill("#custom-range input[name=to]", end.astimezone(local).strftime("%Y-%m-%dT%H:%M:%S"))
    page.click("#filters button[type=submit]")
    page.wait_for_url("**range=custom**")
    assert f"from={start.strftime('%Y-%m-%dT%H%%3A%M%%3A%S')}" in page.url  # the URL carries UTC
    shown = {r.get_attribute("data-trace-id") for r in page.locator("#traces-table tbody tr").all()}
    assert {data["error"], data["xss"], data["big"]} <= shown and data["chat"] not in shown
    assert page.input_value("#custom-range input[name=from]") == start.astimezone(local).strftime("%Y-%m-%dT%H:%M:%S")
    context.close()


def test_column_chooser_persists(page: Any, server: LiveServer, data: dict[str, str]) -> None:
    page.goto(_url(server, "/traces"))
    assert page.locator("th[data-col=input]").is_visible()
    page.click("#column-chooser summary")
    page.uncheck(".cols-form input[value=input]")
    page.check(".cols-form input[value=id]")
    assert not page.locator("th[data-col=input]").is_visible()
    assert page.locator("th[data-col=id]").is_visible()
    assert "cols=" in page.url
    page.goto(_url(server, "/traces"))  # no cols in the URL: the saved choice applies
    assert not page.locator("th[data-col=input]").is_visible()
    assert page.locator("th[data-col=id]").is_visible()


def test_open_trace_and_select_observation(page: Any, server: LiveServer, data: dict[str, str]) -> None:
    SCREENS.mkdir(exist_ok=True)
    page.goto(_url(server, "/traces"))
    page.screenshot(path=str(SCREENS / "e2e-list.png"))
    page.click(f"tr[data-trace-id='{data['chat']}'] td.col-name a")
    page.wait_for_url(f"**/traces/{data['chat']}")
    assert page.locator("h1").inner_text() == "qa-pipeline"
    assert "quality" in page.locator(".stats").inner_text()
    page.locator(".nav-row", has_text="chat-completion").click()
    page.wait_for_selector(".msg.role-system")
    assert f"observation={oid('chatgen')}" in page.url
    panel = page.locator("#detail-pane")
    assert "You are a helpful geography assistant." in panel.inner_text()
    assert "gpt-4o-mini" in panel.inner_text() and "TTFT 400ms" in panel.inner_text()
    usage = page.locator("table.usage").inner_text()
    assert "input" in usage and "120" in usage and "$0.000018" in usage
    page.screenshot(path=str(SCREENS / "e2e-detail.png"))
    page.click("[data-nav-mode=timeline]")
    assert page.locator(".nav-row .bar").count() == 5
    page.screenshot(path=str(SCREENS / "e2e-timeline.png"))
    assert page.watch.errors == []


def test_keyboard_navigation(page: Any, server: LiveServer, data: dict[str, str]) -> None:
    page.goto(_url(server, f"/traces/{data['chat']}"))
    page.wait_for_selector(".nav-row.selected")
    page.focus(".nav-viewport")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert "search-docs" in page.locator(".nav-row.selected").inner_text()
    expect(page.locator("#detail-pane h2")).to_have_text("search-docs")
    page.keyboard.press("ArrowLeft")  # to the parent
    page.keyboard.press("ArrowLeft")  # collapse it
    assert page.locator(".nav-row").count() == 2
    page.keyboard.press("ArrowRight")  # expand again
    assert page.locator(".nav-row").count() == 5


def test_broken_parent_links_still_show_every_observation(page: Any, server: LiveServer, data: dict[str, str]) -> None:
    page.goto(_url(server, f"/traces/{data['cycle']}"))
    for name in ("loop-a", "loop-b", "orphan"):
        expect(page.locator(".nav-row", has_text=name)).to_have_count(1)
    assert page.watch.errors == []


def test_deep_link_to_an_observation(page: Any, server: LiveServer, data: dict[str, str]) -> None:
    page.goto(_url(server, f"/traces/{data['big']}?observation={oid('big9876')}"))
    selected = page.locator(".nav-row.selected")
    selected.wait_for()
    assert "step-9876" in selected.inner_text()
    assert selected.is_visible()  # scrolled into view
    expect(page.locator("#detail-pane h2")).to_have_text("step-9876")
    page.goto(_url(server, f"/traces/{data['error']}?observation={oid('e1')}"))
    page.wait_for_selector("#detail-pane .alert")
    assert page.locator("#detail-pane .alert").inner_text() == "payment API timed out"


def test_ten_thousand_observations_open_without_freezing(page: Any, server: LiveServer, data: dict[str, str]) -> None:
    started = time.monotonic()
    page.goto(_url(server, f"/traces/{data['big']}"))
    page.wait_for_selector(".nav-row.selected")
    opened = time.monotonic() - started
    page.screenshot(path=str(SCREENS / "e2e-big.png"))
    page.fill("#nav-search", "step-")  # every observation matches: 9,999 rows, virtualised
    rendered = page.locator(".nav-row").count()
    assert rendered < 150, rendered
    page.locator(".nav-viewport").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    expect(page.locator(".nav-row", has_text="step-9999")).to_have_count(1)
    page.click("[data-nav-mode=timeline]")
    assert page.locator(".nav-row .bar").count() < 150
    assert opened < 5, opened


def test_session_replay(page: Any, server: LiveServer, data: dict[str, str]) -> None:
    page.goto(_url(server, "/sessions"))
    page.click("text=trip-42")
    page.wait_for_url("**/sessions/trip-42")
    bubbles = page.locator(".bubble-text").all_inner_texts()
    assert bubbles == [
        "Plan a trip to Lisbon",
        "Sure — when?",
        "In May",
        "May is lovely.",
        "What to pack?",
        "Light clothes.",
    ]
    page.screenshot(path=str(SCREENS / "e2e-session.png"))
    page.locator(".turn-link").nth(1).click()
    page.wait_for_url(f"**/traces/{data['turn1']}")
    page.click("#session-link")
    page.wait_for_url("**/sessions/trip-42")
    page.goto(_url(server, "/users/carol"))
    assert "trip-42" in page.locator("#user-sessions").inner_text()


def test_hostile_payloads_are_text_and_never_run(page: Any, server: LiveServer, data: dict[str, str]) -> None:
    trace = data["xss"]
    page.goto(_url(server, "/traces?cols=name,input,output,tags,user,session,scores"))
    assert page.locator(f"tr[data-trace-id='{trace}'] td.col-name").inner_text() == XSS
    page.goto(_url(server, f"/traces/{trace}"))
    page.wait_for_selector("#detail-pane .card")
    assert page.locator("h1").inner_text() == XSS
    page.locator(".nav-row").nth(1).click()
    page.wait_for_selector("#detail-pane .tool-call")
    assert XSS in page.locator("#detail-pane").inner_text()
    page.goto(_url(server, f"/traces/{trace}"))
    page.wait_for_selector(".msg-media")
    assert page.locator("a[href^='javascript:']").count() == 0
    assert page.locator("#detail-pane img, #detail-pane script").count() == 0
    page.goto(_url(server, "/sessions/" + quote(XSS, safe="")))
    page.goto(_url(server, "/users"))
    page.goto(_url(server, "/users/" + quote(XSS_URL, safe="")))
    assert page.evaluate("window.__xss") is None
    assert page.watch.dialogs == []
    assert page.locator("a[href^='javascript:']").count() == 0


def test_live_refresh_shows_new_traces(page: Any, server: LiveServer, data: dict[str, str]) -> None:
    from interactiveai.server.storage.engines import create_db_engine

    page.goto(_url(server, "/traces?range=1h"))
    page.check("#live-refresh")
    page.wait_for_timeout(300)
    engine = create_db_engine(server.database_url, pool_size=1)
    add_trace(engine, server.project_id, tid("live"), timestamp_us=now_us(), name="arrived-live")
    engine.dispose()
    page.wait_for_selector("text=arrived-live", timeout=15_000)
    page.uncheck("#live-refresh")


def test_trace_sent_through_the_sdk_opens_at_its_url(page: Any, server: LiveServer, data: dict[str, str]) -> None:
    from interactiveai import InteractiveAI, get_client, observe, propagate_attributes

    InteractiveAI(public_key=server.public_key, secret_key=server.secret_key, host=server.url)

    @observe(as_type="generation")
    def answer(question: str) -> str:
        get_client().update_current_generation(model="gpt-4o-mini", usage_details={"input": 12, "output": 5})
        return "42"

    @observe(name="sdk-request")
    def handle(question: str) -> str:
        with propagate_attributes(user_id="sdk-user", session_id="sdk-session"):
            return answer(question)

    trace_id = get_client().create_trace_id(seed="browser-sdk")
    handle("What is the answer?", interactiveai_trace_id=trace_id)
    assert get_client().flush(timeout=10)
    detail = _url(server, f"/traces/{trace_id}")
    deadline = time.monotonic() + 20
    while True:
        response = page.request.get(detail + ".json")
        if response.status == 200:
            break
        assert time.monotonic() < deadline, "the SDK's trace never became visible"
        time.sleep(0.2)
    page.goto(detail)
    page.locator(".nav-row", has_text="answer").click()
    expect(page.locator("#detail-pane h2")).to_have_text("answer")
    expect(page.locator("#detail-pane .panel-meta")).to_contain_text("gpt-4o-mini")
    assert "sdk-user" in page.locator(".trace-sub").inner_text()


def test_hostile_data_sent_through_the_sdk_is_shown_as_text(
    page: Any, server: LiveServer, data: dict[str, str]
) -> None:
    from interactiveai import InteractiveAI, get_client, observe

    InteractiveAI(public_key=server.public_key, secret_key=server.secret_key, host=server.url)
    client = get_client()

    @observe(as_type="generation")
    def hostile_llm(messages: list[dict[str, str]]) -> dict[str, str]:
        client.update_current_generation(
            name=XSS,
            model=XSS,
            level="ERROR",
            status_message=XSS,
            metadata={XSS: XSS_URL},
            usage_details={"input": 3, "output": 2},
        )
        return {"role": "assistant", "content": XSS}

    @observe()
    def handler(question: str) -> dict[str, str]:
        client.update_current_trace(
            name=XSS,
            user_id="sdk-xss-user",
            tags=[XSS],
            metadata={"html": XSS},
            input=[{"role": "user", "content": XSS}],
        )
        return hostile_llm([{"role": "system", "content": XSS}, {"role": "user", "content": question}])

    trace_id = client.create_trace_id(seed="browser-sdk-xss")
    handler(XSS, interactiveai_trace_id=trace_id)
    assert client.flush(timeout=10)
    deadline = time.monotonic() + 20
    while page.request.get(_url(server, f"/traces/{trace_id}.json")).status != 200:
        assert time.monotonic() < deadline, "the SDK's trace never became visible"
        time.sleep(0.2)
    page.goto(_url(server, "/traces?user=sdk-xss-user&cols=name,input,output,tags,user"))
    row = page.locator(f"tr[data-trace-id='{trace_id}']")
    assert row.locator("td.col-name").inner_text() == XSS
    assert row.locator("td.col-tags").inner_text() == XSS
    page.goto(_url(server, f"/traces/{trace_id}"))
    assert page.locator("h1").inner_text() == XSS
    page.locator(".nav-row.lvl-error").last.click()
    expect(page.locator("#detail-pane h2")).to_have_text(XSS)
    expect(page.locator("#detail-pane .alert")).to_have_text(XSS)
    expect(page.locator("#detail-pane .msg.role-system .msg-text")).to_have_text(XSS)
    assert page.locator("#detail-pane img, #detail-pane script, a[href^='javascript:']").count() == 0
    assert page.evaluate("window.__xss") is None
    assert page.watch.dialogs == []
