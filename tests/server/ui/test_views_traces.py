"""Trace list and detail pages and their JSON twins: filters, sorting, cursors, payload endpoints."""

from __future__ import annotations

import re
from typing import Any

import pytest

from interactiveai.server.clock import now_us
from tests.server.ui.seed import add_trace, chat_trace, obs, oid, tid

HOUR = 3600 * 1_000_000


@pytest.fixture
def seeded(engine: Any, project: Any, other_project: Any) -> dict[str, str]:
    now = now_us()
    ids = {
        "chat": chat_trace(
            engine,
            project.id,
            "chat",
            now - HOUR,
            user_id="alice",
            session_id="s-1",
            tags=["prod", "rag"],
            environment="production",
            metadata={"customer": "acme", "tier": 2},
            trace_scores=[{"name": "quality", "value": 0.75}],
        ),
        "error": add_trace(
            engine,
            project.id,
            tid("error"),
            timestamp_us=now - 2 * HOUR,
            name="checkout",
            user_id="bob",
            environment="staging",
            tags=["prod"],
            input="charge the card",
            observations_=[
                obs(oid("e1"), name="checkout", end=3_000_000, level="ERROR", status="timeout"),
                obs(oid("e2"), parent=oid("e1"), name="charge", level="WARNING", cost={"input": 0.5, "output": 0.25}),
            ],
        ),
        "old": chat_trace(engine, project.id, "old", now - 40 * 24 * HOUR, name="ancient", question="Old question"),
        "foreign": chat_trace(engine, other_project.id, "foreign", now - HOUR, name="other-project-trace"),
    }
    return ids


def _ids(response: Any) -> list[str]:
    return [t["id"] for t in response.json()["data"]]


def test_list_page_shows_rows_and_previews(ui: Any, project: Any, seeded: dict[str, str]) -> None:
    page = ui.get(f"/project/{project.id}/traces")
    assert page.status_code == 200
    assert "qa-pipeline" in page.text and "checkout" in page.text
    assert "What is the capital of France?" in page.text  # input preview, read as text not JSON
    assert "ancient" not in page.text  # older than the default 7 days
    assert "other-project-trace" not in page.text
    assert f'href="/project/{project.id}/traces/{seeded["chat"]}"' in page.text


def test_json_twin_matches_the_page(ui: Any, project: Any, seeded: dict[str, str]) -> None:
    body = ui.get(f"/project/{project.id}/traces.json").json()
    assert _ids_of(body) == [seeded["chat"], seeded["error"]]
    chat = body["data"][0]
    assert chat["inputPreview"] == "What is the capital of France?"
    assert chat["totalTokens"] == 138 and chat["levelCounts"]["DEFAULT"] == 4
    assert chat["scores"][0]["name"] == "quality"
    assert chat["htmlPath"] == f"/project/{project.id}/traces/{seeded['chat']}"


def _ids_of(body: dict[str, Any]) -> list[str]:
    return [t["id"] for t in body["data"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("env=production", ["chat"]),
        ("user=bob", ["error"]),
        ("session=s-1", ["chat"]),
        ("name=checkout", ["error"]),
        ("tag=prod", ["chat", "error"]),
        ("tag=prod,rag", ["chat"]),
        ("level=ERROR", ["error"]),
        ("meta=customer%3Dacme", ["chat"]),
        ("meta=tier%3D2", ["chat"]),
        ("lat_min=2", ["error"]),
        ("lat_max=2", ["chat"]),
        ("cost_min=0.1", ["error"]),
        ("cost_max=0.1", ["chat"]),
        ("q=capital", ["chat"]),
        ("q=card", ["error"]),
        ("range=all", ["chat", "error", "old"]),
        ("range=30m", []),
        ("range=all&q=old", ["old"]),
    ],
)
def test_filters(ui: Any, project: Any, seeded: dict[str, str], query: str, expected: list[str]) -> None:
    body = ui.get(f"/project/{project.id}/traces.json?{query}").json()
    assert _ids_of(body) == [seeded[k] for k in expected]


def test_search_by_trace_id(ui: Any, project: Any, seeded: dict[str, str]) -> None:
    body = ui.get(f"/project/{project.id}/traces.json?q={seeded['error']}").json()
    assert _ids_of(body) == [seeded["error"]]


def test_custom_time_range(ui: Any, project: Any, seeded: dict[str, str]) -> None:
    body = ui.get(f"/project/{project.id}/traces.json?range=custom&from=2000-01-01T00:00&to=2001-01-01T00:00").json()
    assert body["data"] == []
    assert ui.get(f"/project/{project.id}/traces.json?range=custom&from=nonsense").json()["errors"]


def test_sort_and_keyset_pages(ui: Any, engine: Any, project: Any) -> None:
    now = now_us()
    for i in range(7):
        add_trace(engine, project.id, tid(f"p{i}"), timestamp_us=now - i * 1000, name=f"t{i}")
    first = ui.get(f"/project/{project.id}/traces.json?limit=3").json()
    assert [t["name"] for t in first["data"]] == ["t0", "t1", "t2"]
    assert first["meta"]["prevCursor"] is None
    second = ui.get(f"/project/{project.id}/traces.json?limit=3&cursor={first['meta']['nextCursor']}").json()
    assert [t["name"] for t in second["data"]] == ["t3", "t4", "t5"]
    back = ui.get(f"/project/{project.id}/traces.json?limit=3&cursor={second['meta']['prevCursor']}").json()
    assert [t["name"] for t in back["data"]] == ["t0", "t1", "t2"]
    last = ui.get(f"/project/{project.id}/traces.json?limit=3&cursor={second['meta']['nextCursor']}").json()
    assert [t["name"] for t in last["data"]] == ["t6"] and last["meta"]["nextCursor"] is None
    by_name = ui.get(f"/project/{project.id}/traces.json?limit=3&sort=name&dir=asc").json()
    assert [t["name"] for t in by_name["data"]] == ["t0", "t1", "t2"]
    garbage = ui.get(f"/project/{project.id}/traces.json?cursor=not-a-cursor")
    assert garbage.status_code == 200


def test_list_links_keep_the_state(ui: Any, engine: Any, project: Any) -> None:
    now = now_us()
    for i in range(4):
        add_trace(engine, project.id, tid(f"k{i}"), timestamp_us=now - i * 1000, name=f"t{i}", tags=["x"])
    page = ui.get(f"/project/{project.id}/traces?limit=2&tag=x&cols=name,latency").text
    next_link = re.search(r'id="next-page"[^>]*|href="([^"]+)" id="next-page"', page)
    assert next_link is not None
    href = re.search(r'<a class="button" href="([^"]+)" id="next-page"', page)
    assert href is not None
    link = href.group(1).replace("&amp;", "&")
    assert "tag=x" in link and "cols=name%2Clatency" in link and "cursor=" in link
    assert 'class="col-input col-hidden"' in page or "col-input col-hidden" in page


def test_empty_states(ui: Any, project: Any) -> None:
    assert "No traces yet" in ui.get(f"/project/{project.id}/traces?range=all").text
    assert "No traces match" in ui.get(f"/project/{project.id}/traces?range=1h&user=nobody").text


def test_detail_page_embeds_compact_data_without_payloads(ui: Any, project: Any, seeded: dict[str, str]) -> None:
    page = ui.get(f"/project/{project.id}/traces/{seeded['chat']}")
    assert page.status_code == 200
    block = re.search(r'<script type="application/json" id="trace-data">(.*?)</script>', page.text, re.S)
    assert block is not None
    assert "helpful geography assistant" not in block.group(1)  # no I/O in the initial data
    assert "<script" not in re.sub(r"<script[^>]*>(.*?)</script>", "", page.text, flags=re.S)


def test_detail_json_twin(ui: Any, project: Any, seeded: dict[str, str]) -> None:
    body = ui.get(f"/project/{project.id}/traces/{seeded['chat']}.json").json()
    assert body["trace"]["name"] == "qa-pipeline"
    columns = body["observations"]["columns"]
    rows = [dict(zip(columns, r, strict=True)) for r in body["observations"]["rows"]]
    assert [r["name"] for r in rows] == ["answer-question", "search-docs", "chat-completion", "lookup-population"]
    assert rows[0]["start"] == 0 and rows[0]["parent"] is None and rows[2]["parent"] == 0
    assert rows[2]["completion_start"] == 250_000 + 400_000
    assert body["scores"][0]["name"] == "quality"
    assert body["observationTotal"] == 4 and body["truncated"] is False


def test_observation_and_trace_payload_endpoints(ui: Any, project: Any, seeded: dict[str, str]) -> None:
    base = f"/project/{project.id}/traces/{seeded['chat']}"
    gen = ui.get(f"{base}/observations/{oid('chatgen')}.json").json()
    assert gen["model"] == "gpt-4o-mini"
    assert gen["input"][0] == {"role": "system", "content": "You are a helpful geography assistant."}
    assert gen["usage_details"] == {"input": 120, "output": 18, "total": 138}
    assert gen["start_time"].endswith("Z")
    io = ui.get(f"{base}/io.json").json()
    assert io["input"] == {"question": "What is the capital of France?"}
    assert io["metadata"] == {"customer": "acme", "tier": 2}
    assert ui.get(f"{base}/observations/{oid('nope')}.json").status_code == 404


def test_detail_is_project_scoped(ui: Any, project: Any, other_project: Any, seeded: dict[str, str]) -> None:
    assert ui.get(f"/project/{project.id}/traces/{seeded['foreign']}").status_code == 404
    assert ui.get(f"/project/{project.id}/traces/{seeded['foreign']}.json").status_code == 404
    assert ui.get(f"/project/{project.id}/traces/{seeded['foreign']}/io.json").status_code == 404
    assert ui.get(f"/project/{other_project.id}/traces/{seeded['foreign']}.json").status_code == 404


def test_selected_environment_stays_in_the_select(ui: Any, project: Any, seeded: dict[str, str]) -> None:
    page = ui.get(f"/project/{project.id}/traces?env=nowhere").text
    assert "<option selected>nowhere</option>" in page


def test_project_root_redirects_to_traces(ui: Any, project: Any, other_project: Any) -> None:
    response = ui.get(f"/project/{project.id}", follow_redirects=False)
    assert response.headers["location"] == f"/project/{project.id}/traces"
    assert ui.get(f"/project/{other_project.id}", follow_redirects=False).status_code == 404


def test_metadata_column(ui: Any, project: Any, seeded: dict[str, str]) -> None:
    page = ui.get(f"/project/{project.id}/traces?cols=name,metadata").text
    assert "customer: acme · tier: 2" in page


def test_foreign_or_forged_cursors_read_as_the_first_page(ui: Any, engine: Any, project: Any) -> None:
    import base64
    import json

    now = now_us()
    for i in range(3):
        add_trace(engine, project.id, tid(f"c{i}"), timestamp_us=now - i * 1000, name=f"t{i}")
    by_time = ui.get(f"/project/{project.id}/traces.json?limit=1").json()["meta"]["nextCursor"]
    first_by_cost = ui.get(f"/project/{project.id}/traces.json?limit=1&sort=cost").json()["data"]
    response = ui.get(f"/project/{project.id}/traces.json?limit=1&sort=cost&cursor={by_time}")
    assert response.status_code == 200 and response.json()["data"] == first_by_cost
    forged = base64.urlsafe_b64encode(json.dumps(["latency", "text", "x", "next"]).encode()).decode()
    response = ui.get(f"/project/{project.id}/traces.json?sort=latency&cursor={forged}")
    assert response.status_code == 200 and len(response.json()["data"]) == 3


@pytest.mark.parametrize(
    "query",
    ["lat_min=1e300", "lat_max=-1e300", "cost_min=inf", "cost_max=nan", "user=%00", "meta=k%3D%00", "q=%00x"],
)
def test_hostile_filter_values_never_fail_the_page(ui: Any, project: Any, seeded: dict[str, str], query: str) -> None:
    assert ui.get(f"/project/{project.id}/traces.json?{query}").status_code in (200, 404)
    assert ui.get(f"/project/{project.id}/traces?{query}").status_code in (200, 404)


def test_nul_in_ids_is_a_404(ui: Any, project: Any, seeded: dict[str, str]) -> None:
    for path in ("/traces/a%00b", "/traces/a%00b.json", "/sessions/s%00", "/users/u%00"):
        assert ui.get(f"/project/{project.id}{path}").status_code == 404


def test_tags_link_to_their_filter(ui: Any, project: Any, seeded: dict[str, str]) -> None:
    page = ui.get(f"/project/{project.id}/traces?user=alice").text
    assert 'href="/project/proj-a/traces?user=alice&amp;tag=rag"' in page
