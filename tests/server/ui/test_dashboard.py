"""The dashboard page (a shell the script fills) and its JSON twin, for a logged-in member."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from interactiveai.server.clock import now_us
from interactiveai.server.query.rollup_histogram import ALPHA
from tests.server.query.seed import add_observation, add_score, add_trace, obs_id, trace_id
from tests.server.ui.conftest import PASSWORD, login

HOUR = 3_600_000_000


@pytest.fixture
def app(app: Any) -> Any:
    """The app with the dashboard router, whether or not ui/routes.py registers it yet."""
    from interactiveai.server.ui import views_dashboard

    if not any(getattr(r, "path", "") == "/project/{project_id}/dashboard" for r in app.routes):
        app.include_router(views_dashboard.router)
    return app


@pytest.fixture
def recent(engine: Any, project: Any, other_project: Any) -> Any:
    now = now_us()
    common = {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15, "observation_count": 2}
    add_trace(
        engine,
        project.id,
        trace_id(1),
        timestamp_us=now - 2 * HOUR,
        environment="prod",
        user_id="<b>ann</b>",
        total_cost=0.5,
        latency_us=1_000_000,
        **common,
    )
    add_trace(
        engine,
        project.id,
        trace_id(2),
        timestamp_us=now - 3 * 24 * HOUR,
        environment="dev",
        user_id="ben",
        total_cost=0.25,
        latency_us=3_000_000,
        error_count=1,
        **common,
    )
    add_observation(
        engine,
        project.id,
        trace_id(1),
        obs_id(1),
        type="GENERATION",
        model="gpt-4o",
        start_time_us=now - 2 * HOUR,
        end_time_us=now - 2 * HOUR + 400_000,
        total_tokens=15,
        total_cost=0.5,
    )
    add_score(engine, project.id, "s1", name="quality", value=0.75, trace_id=trace_id(1), timestamp_us=now - 2 * HOUR)
    add_trace(engine, other_project.id, trace_id(9), timestamp_us=now - HOUR, environment="secret-env", total_cost=9.0)
    return project


def test_dashboard_page_renders_the_shell(ui: Any, recent: Any) -> None:
    response = ui.get(f"/project/{recent.id}/dashboard?range=30d&env=prod")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    tags = _tags(response.text)
    root = next(a for t, a in tags if a.get("id") == "dashboard")
    assert root["data-src"] == f"/project/{recent.id}/dashboard.json?range=30d&env=prod"
    assert {a["data-chart"] for _t, a in tags if "data-chart" in a} == {"traces", "cost", "tokens", "latency"}
    assert {a["data-tile"] for _t, a in tags if "data-tile" in a} == {
        "traces",
        "observations",
        "cost",
        "tokens",
        "errors",
        "latency",
    }
    assert [a["value"] for t, a in tags if t == "option" and "selected" in a] == ["30d"]
    envs = {a["value"]: "checked" in a for t, a in tags if t == "input" and a.get("name") == "env"}
    assert envs == {"dev": False, "prod": True}  # the project's environments only
    scripts = [a for t, a in tags if t == "script"]
    assert all("src" in a for a in scripts), "no inline scripts (CSP)"
    assert any("dashboard.js" in (a["src"] or "") for a in scripts)
    assert not re.search(r"<script>", response.text)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, Any]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.found


def test_dashboard_json_figures(ui: Any, recent: Any) -> None:
    body = ui.get(f"/project/{recent.id}/dashboard.json?range=7d").json()
    assert body["range"] == "7d" and body["granularity"] == "hour"
    s = body["summary"]
    assert (s["traces"], s["observations"], s["errorTraces"], s["totalTokens"]) == (2, 4, 1, 30)
    assert s["totalCost"] == pytest.approx(0.75) and s["errorRate"] == pytest.approx(0.5)
    # 1 s and 3 s; read from roll-ups once the refresher ran, within their stated error
    assert s["latencyP50Ms"] == pytest.approx(2000.0, rel=ALPHA)
    assert sum(p["traces"] for p in body["volume"]) == 2
    assert [(m["model"], m["calls"]) for m in body["models"]] == [("gpt-4o", 1)]
    assert body["models"][0]["latencyP95Ms"] == pytest.approx(400.0, rel=ALPHA)
    assert [(u["userId"], u["totalCost"]) for u in body["users"]] == [("<b>ann</b>", 0.5), ("ben", 0.25)]
    assert [(sc["name"], sc["count"], sc["average"]) for sc in body["scores"]] == [("quality", 1, 0.75)]


def test_dashboard_json_range_and_environment(ui: Any, recent: Any) -> None:
    day = ui.get(f"/project/{recent.id}/dashboard.json?range=24h").json()
    assert day["summary"]["traces"] == 1 and day["granularity"] == "hour"
    prod = ui.get(f"/project/{recent.id}/dashboard.json?range=30d&env=prod").json()
    assert prod["summary"]["traces"] == 1 and prod["environments"] == ["prod"] and prod["granularity"] == "day"
    bogus = ui.get(f"/project/{recent.id}/dashboard.json?range=forever").json()
    assert bogus["range"] == "7d"


def test_dashboard_requires_login_and_membership(client: Any, recent: Any, other_project: Any, member: str) -> None:
    assert client.get(f"/project/{recent.id}/dashboard.json").status_code == 401
    page = client.get(f"/project/{recent.id}/dashboard", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert login(client, "member@example.com").status_code == 303
    assert client.get(f"/project/{other_project.id}/dashboard.json").status_code == 404
    assert client.get(f"/project/{other_project.id}/dashboard").status_code == 404


_BROWSER_SCRIPT = r"""
import json, sys
from playwright.sync_api import sync_playwright

base, project_id, email, password = sys.argv[1:5]
args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{base}/login?next=/project/{project_id}/dashboard%3Frange%3D7d")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#dashboard:not(.loading)", timeout=20000)
    result = {
        "traces": page.text_content("[data-tile=traces]"),
        "cost": page.text_content("[data-tile=cost]"),
        "bars": page.locator("[data-chart=traces] rect").count(),
        "lines": page.locator("[data-chart=latency] path").count(),
        "users": page.locator("#users-table tbody td:first-child").all_text_contents(),
        "models": page.locator("#models-table tbody td:first-child").all_text_contents(),
        "xss": page.evaluate("window.__xss || null"),
        "problems": problems,
    }
    browser.close()
print(json.dumps(result))
"""


@pytest.mark.browser
def test_dashboard_draws_in_chromium(app: Any, engine: Any, project: Any, member: str, tmp_path: Any) -> None:
    """The real page in Chromium: tiles, SVG bars and lines, tables; hostile names stay text."""
    import json
    import shutil
    import subprocess
    import sys
    import threading
    import time

    import uvicorn

    from tests.support.postgres import free_port

    if shutil.which("chromium") is None:
        pytest.fail("Chromium is required for browser tests (apt-get install chromium)")
    now = now_us()
    hostile = '<img src=x onerror="window.__xss=1">'
    add_trace(engine, project.id, trace_id(1), timestamp_us=now - HOUR, user_id=hostile, total_cost=1.25)
    add_trace(engine, project.id, trace_id(2), timestamp_us=now - 30 * HOUR, user_id="ben", total_cost=0.5)
    add_observation(
        engine, project.id, trace_id(1), obs_id(1), model=hostile, start_time_us=now - HOUR, total_cost=1.25
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        script = tmp_path / "dashboard_browser.py"
        script.write_text(_BROWSER_SCRIPT)
        done = subprocess.run(
            [sys.executable, str(script), f"http://127.0.0.1:{port}", project.id, "member@example.com", PASSWORD],
            capture_output=True,
            text=True,
            timeout=90,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["problems"] == [] and result["xss"] is None
    assert result["traces"] == "2" and result["cost"] == "$1.75"
    assert result["bars"] >= 2 and result["lines"] == 4
    assert result["users"] == [hostile, "ben"] and result["models"] == [hostile]
