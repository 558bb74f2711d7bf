"""The Scores page (list, URL filters, summary, JSON twin, escaping, access) and annotation from the
trace page (stored as ANNOTATION by the logged-in user, config validation, CSRF, roles)."""

from __future__ import annotations

from typing import Any

import pytest

from interactiveai.server.clock import now_us
from interactiveai.server.query.filters import ScoreFilter
from interactiveai.server.query.scores import list_scores
from interactiveai.server.tenancy import add_membership, create_user
from interactiveai.server.ui.formatting import iso_time
from interactiveai.server.writes.score_configs import create_score_config
from interactiveai.server.writes.scores import upsert_scores
from tests.server.ui.conftest import PASSWORD, csrf_from, login
from tests.server.ui.seed import add_trace, obs, oid, tid

XSS = "<script>window.__xss=1</script><img src=x onerror=alert(1)>"
HOUR = 3600 * 1_000_000
DAY = 24 * HOUR


@pytest.fixture
def seeded(engine: Any, project: Any, other_project: Any) -> dict[str, str]:
    now = now_us()
    ids = {
        "qa": add_trace(engine, project.id, tid("qa"), timestamp_us=now - HOUR, name="qa",
                        observations_=[obs(oid("root"), name="root"), obs(oid("llm"), parent=oid("root"),
                                       type="GENERATION", name="llm")]),
        "old": add_trace(engine, project.id, tid("old"), timestamp_us=now - 10 * DAY, name="old"),
        "foreign": add_trace(engine, other_project.id, tid("foreign"), timestamp_us=now - HOUR, name="foreign"),
    }  # fmt: skip
    upsert_scores(engine, project.id, [
        {"id": "s-acc-1", "traceId": ids["qa"], "name": "accuracy", "value": 0.5, "timestamp": iso_time(now - HOUR)},
        {"id": "s-acc-2", "traceId": ids["qa"], "observationId": oid("llm"), "name": "accuracy", "value": 1.0,
         "timestamp": iso_time(now - 2 * HOUR)},
        {"id": "s-tone-1", "traceId": ids["qa"], "name": "tone", "value": "polite", "dataType": "CATEGORICAL",
         "timestamp": iso_time(now - HOUR)},
        {"id": "s-tone-2", "sessionId": "sess-1", "name": "tone", "value": "rude", "dataType": "CATEGORICAL",
         "timestamp": iso_time(now - HOUR)},
        {"id": "s-ok", "traceId": ids["qa"], "name": "ok", "value": True, "source": "ANNOTATION",
         "timestamp": iso_time(now - HOUR)},
        {"id": "s-xss", "traceId": ids["qa"], "name": XSS, "value": 3, "comment": XSS,
         "timestamp": iso_time(now - HOUR)},
        {"id": "s-old", "traceId": ids["old"], "name": "accuracy", "value": 0.0, "timestamp": iso_time(now - 10 * DAY)},
    ])  # fmt: skip
    upsert_scores(engine, other_project.id, [{"id": "s-foreign", "traceId": ids["foreign"], "name": "secret-name",
                                              "value": 1}])  # fmt: skip
    return ids


def test_scores_list_filters_and_json_twin(ui: Any, project: Any, seeded: dict[str, str]) -> None:
    base = f"/project/{project.id}/scores"
    page = ui.get(base)
    assert page.status_code == 200
    html = page.text
    assert 'id="scores-table"' in html and 'id="score-summary"' in html and ">Scores</a>" in html
    assert "secret-name" not in html and "s-old" not in html
    # trace links, with ?observation= on an observation's score; session link for a session's score
    assert f"/project/{project.id}/traces/{seeded['qa']}?observation={oid('llm')}" in html
    assert f"/project/{project.id}/sessions/sess-1" in html
    data = ui.get(base + ".json").json()
    assert {r["id"] for r in data["data"]} == {"s-acc-1", "s-acc-2", "s-tone-1", "s-tone-2", "s-ok", "s-xss"}
    assert data["meta"]["totalItems"] == 6 and data["errors"] == []
    summary = {s["name"]: s for s in data["summary"]}
    assert summary["accuracy"]["count"] == 2 and summary["accuracy"]["average"] == pytest.approx(0.75)
    assert summary["ok"]["average"] == 1.0 and summary["ok"]["dataType"] == "BOOLEAN"
    assert {c["label"]: c["count"] for c in summary["tone"]["categories"]} == {"polite": 1, "rude": 1}
    # all time brings the old score; filters narrow list and summary alike
    every = ui.get(base + ".json?range=all").json()
    assert every["meta"]["totalItems"] == 7
    acc = ui.get(base + ".json?range=all&name=accuracy").json()
    assert {r["id"] for r in acc["data"]} == {"s-acc-1", "s-acc-2", "s-old"}
    assert [s["name"] for s in acc["summary"]] == ["accuracy"] and acc["summary"][0]["count"] == 3
    assert {r["id"] for r in ui.get(base + ".json?source=annotation").json()["data"]} == {"s-ok"}
    assert {r["id"] for r in ui.get(base + ".json?type=CATEGORICAL").json()["data"]} == {"s-tone-1", "s-tone-2"}
    assert {r["id"] for r in ui.get(base + ".json?session=sess-1").json()["data"]} == {"s-tone-2"}
    by_trace = ui.get(f"{base}.json?range=all&trace={seeded['old']}").json()
    assert [r["id"] for r in by_trace["data"]] == ["s-old"]
    bad = ui.get(base + ".json?source=nope&type=x&range=bogus").json()
    assert len(bad["errors"]) == 3 and bad["meta"]["totalItems"] == 6
    filtered = ui.get(base + "?name=accuracy&source=API")
    assert filtered.status_code == 200 and "polite" not in filtered.text
    assert 'value="accuracy" selected' in filtered.text


def test_scores_pagination(ui: Any, engine: Any, project: Any, seeded: dict[str, str]) -> None:
    upsert_scores(engine, project.id, [{"traceId": seeded["qa"], "name": "bulk", "value": i} for i in range(60)])
    base = f"/project/{project.id}/scores"
    first = ui.get(base + ".json?name=bulk").json()
    second = ui.get(base + ".json?name=bulk&page=2").json()
    assert len(first["data"]) == 50 and len(second["data"]) == 10 and first["meta"]["totalItems"] == 60
    assert not {r["id"] for r in first["data"]} & {r["id"] for r in second["data"]}
    html = ui.get(base + "?name=bulk").text
    assert 'rel="next"' in html and "page=2" in html


def test_hostile_names_and_comments_are_text(ui: Any, project: Any, seeded: dict[str, str]) -> None:
    html = ui.get(f"/project/{project.id}/scores").text
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    assert "<script>window.__xss" not in html and "<img src=x" not in html
    data = ui.get(f"/project/{project.id}/scores.json").json()
    assert any(r["name"] == XSS and r["comment"] == XSS for r in data["data"])


def test_non_member_gets_404(client: Any, engine: Any, project: Any, seeded: dict[str, str]) -> None:
    create_user(engine, "stranger@example.com", PASSWORD)
    login(client, "stranger@example.com")
    assert client.get(f"/project/{project.id}/scores").status_code == 404
    assert client.get(f"/project/{project.id}/scores.json").status_code == 404


def test_logged_out_is_redirected(client: Any, project: Any) -> None:
    assert client.get(f"/project/{project.id}/scores", follow_redirects=False).status_code == 303
    assert client.get(f"/project/{project.id}/scores.json").status_code == 401


def test_annotate_trace_and_observation(ui: Any, engine: Any, project: Any, member: str,
                                        seeded: dict[str, str]) -> None:  # fmt: skip
    config = create_score_config(engine, project.id, {"name": "quality", "dataType": "NUMERIC", "minValue": 0,
                                                      "maxValue": 5})  # fmt: skip
    create_score_config(engine, project.id, {"name": "retired", "dataType": "NUMERIC", "isArchived": True})
    page = f"/project/{project.id}/traces/{seeded['qa']}"
    html = ui.get(page).text
    assert 'id="annotate-form"' in html and "quality (numeric 0…5)" in html and "retired" not in html
    token = csrf_from(html)
    response = ui.post(f"{page}/scores", data={"csrf_token": token, "config_id": config.id, "value": "4",
                                               "comment": XSS}, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303 and "notice=score-added" in response.headers["location"]
    [stored] = list_scores(engine, project.id, ScoreFilter(name="quality")).items
    assert stored.source == "ANNOTATION" and stored.author_user_id == member and stored.value == 4.0
    assert stored.trace_id == seeded["qa"] and stored.observation_id is None and stored.config_id == config.id
    api = ui.get("/api/public/scores", params={"name": "quality"}, headers=project.headers).json()
    [public] = api["data"]
    assert public["source"] == "ANNOTATION" and public["value"] == 4 and public["comment"] == XSS
    after = ui.get(response.headers["location"]).text
    assert "The score was saved." in after and 'title="quality (ANNOTATION): &lt;script&gt;' in after
    assert "&lt;script&gt;window.__xss" in after and "<script>window.__xss" not in after
    # the selected observation, free name, boolean
    response = ui.post(f"{page}/scores", data={"csrf_token": token, "observation_id": oid("llm"), "name": "helpful",
                                               "data_type": "BOOLEAN", "value": "true"},
                       follow_redirects=False)  # fmt: skip
    assert response.status_code == 303 and f"observation={oid('llm')}" in response.headers["location"]
    [helpful] = list_scores(engine, project.id, ScoreFilter(name="helpful")).items
    assert helpful.observation_id == oid("llm") and helpful.data_type == "BOOLEAN" and helpful.value == 1.0
    detail = ui.get(page + ".json").json()
    assert any(s["name"] == "helpful" and s["observationId"] == oid("llm") for s in detail["scores"])
    listing = ui.get(f"/project/{project.id}/scores.json?source=ANNOTATION").json()
    assert {"quality", "helpful"} <= {r["name"] for r in listing["data"]}


def test_annotation_validation_errors(ui: Any, engine: Any, project: Any, seeded: dict[str, str]) -> None:
    config = create_score_config(engine, project.id, {"name": "quality", "dataType": "NUMERIC", "minValue": 0,
                                                      "maxValue": 5})  # fmt: skip
    page = f"/project/{project.id}/traces/{seeded['qa']}"
    token = csrf_from(ui.get(page).text)
    above = ui.post(f"{page}/scores", data={"csrf_token": token, "config_id": config.id, "value": "9"})
    assert above.status_code == 400 and "above the config" in above.text and "maxValue 5" in above.text
    word = ui.post(f"{page}/scores", data={"csrf_token": token, "config_id": config.id, "value": "good"})
    assert word.status_code == 400 and "not a number" in word.text
    nameless = ui.post(f"{page}/scores", data={"csrf_token": token, "value": "1"})
    assert nameless.status_code == 400 and "enter a name" in nameless.text
    empty = ui.post(f"{page}/scores", data={"csrf_token": token, "name": "x", "value": ""})
    assert empty.status_code == 400 and "Enter a value" in empty.text
    escaped = ui.post(f"{page}/scores", data={"csrf_token": token, "name": XSS, "data_type": "BOOLEAN",
                                              "value": XSS})  # fmt: skip
    assert escaped.status_code == 400 and "<script>window.__xss" not in escaped.text
    assert [s.id for s in list_scores(engine, project.id, ScoreFilter(sources=["ANNOTATION"])).items] == ["s-ok"]
    # unknown trace or observation, another project's trace: 404
    assert ui.post(f"/project/{project.id}/traces/{tid('nope')}/scores",
                   data={"csrf_token": token, "name": "x", "value": "1"}).status_code == 404  # fmt: skip
    assert ui.post(f"{page}/scores", data={"csrf_token": token, "name": "x", "value": "1",
                                           "observation_id": "missing"}).status_code == 404  # fmt: skip
    assert ui.post(f"/project/{project.id}/traces/{seeded['foreign']}/scores",
                   data={"csrf_token": token, "name": "x", "value": "1"}).status_code == 404  # fmt: skip
    assert ui.post(f"/project/proj-b/traces/{seeded['foreign']}/scores",
                   data={"csrf_token": token, "name": "x", "value": "1"}).status_code == 404  # fmt: skip


def test_annotation_without_csrf_is_refused(ui: Any, engine: Any, project: Any, seeded: dict[str, str]) -> None:
    page = f"/project/{project.id}/traces/{seeded['qa']}"
    response = ui.post(f"{page}/scores", data={"name": "x", "value": "1"})
    assert response.status_code == 403
    assert ui.post(f"{page}/scores", data={"csrf_token": "forged", "name": "x", "value": "1"}).status_code == 403
    assert list_scores(engine, project.id, ScoreFilter(name="x")).items == []


@pytest.mark.parametrize("role", ["MEMBER", "VIEWER"])
def test_roles(client: Any, engine: Any, project: Any, seeded: dict[str, str], role: str) -> None:
    user_id = create_user(engine, "someone@example.com", PASSWORD)
    add_membership(engine, user_id, project.id, role=role)
    login(client, "someone@example.com")
    page = f"/project/{project.id}/traces/{seeded['qa']}"
    html = client.get(page).text
    assert ('id="annotate-form"' in html) == (role == "MEMBER")
    assert client.get(f"/project/{project.id}/scores").status_code == 200
    response = client.post(f"{page}/scores", data={"csrf_token": csrf_from(html), "name": "x", "value": "1"},
                           follow_redirects=False)  # fmt: skip
    stored = list_scores(engine, project.id, ScoreFilter(name="x")).items
    if role == "MEMBER":
        assert response.status_code == 303 and stored[0].author_user_id == user_id
    else:
        assert response.status_code == 403 and stored == []
