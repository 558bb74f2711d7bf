"""Experiment runs in the UI: each run's aggregates on the dataset page, and runs compared item by
item with differences from the baseline marked (both engines)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.query.seed import SECOND, add_score, add_trace, trace_id

API = "/api/public"


@pytest.fixture
def experiment(ui: Any, engine: Any, project: Any) -> dict[str, Any]:
    """Three items; run "v1" answers all three (one wrong, one failed), run "v2" answers two."""
    h = project.headers
    dataset = ui.post(f"{API}/datasets", json={"name": "capitals"}, headers=h).json()
    items = [
        ui.post(f"{API}/dataset-items", json={"datasetName": "capitals", **body}, headers=h).json()
        for body in (
            {"input": {"country": "France"}, "expectedOutput": "Paris"},
            {"input": {"country": "Japan"}, "expectedOutput": "Tokyo"},
            {"input": {"country": "<script>x</script>"}, "expectedOutput": "?"},
        )
    ]
    answers = {
        "v1": [("Paris", 1.0, "ok", None), ("Kyoto", 0.0, "bad", None), ("<img src=x>", None, None, "ERROR")],
        "v2": [("Paris", 1.0, "ok", None), ("Tokyo", 1.0, "ok", None)],
    }
    n = 0
    for run, outputs in answers.items():
        for item, (output, score, label, level) in zip(items, outputs, strict=False):
            n += 1
            tid = trace_id(n)
            add_trace(
                engine,
                project.id,
                tid,
                output=output,
                latency_us=n * SECOND,
                total_cost=0.001 * n,
                level=level or "DEFAULT",
            )
            if score is not None:
                add_score(engine, project.id, f"s-{n}", trace_id=tid, name="exact", value=score)
                add_score(
                    engine,
                    project.id,
                    f"c-{n}",
                    trace_id=tid,
                    name="verdict",
                    value=None,
                    string_value=label,
                    data_type="CATEGORICAL",
                )
            link = {"runName": run, "datasetItemId": item["id"], "traceId": tid}
            assert ui.post(f"{API}/dataset-run-items", json=link, headers=h).status_code == 200
    runs = {r["name"]: r["id"] for r in ui.get(f"{API}/datasets/capitals/runs", headers=h).json()["data"]}
    return {"dataset": dataset, "items": items, "runs": runs}


def test_dataset_page_lists_runs_with_aggregates(ui: Any, project: Any, experiment: dict[str, Any]) -> None:
    base = f"/project/{project.id}/datasets/{experiment['dataset']['id']}"
    data = ui.get(f"{base}.json").json()
    runs = {r["name"]: r for r in data["runs"]}
    v1 = runs["v1"]
    assert (v1["items"], v1["errors"], v1["tracesFound"]) == (3, 1, 3)
    assert v1["avgLatencyMs"] == pytest.approx(2000) and v1["totalCost"] == pytest.approx(0.006)
    scores = {s["name"]: s for s in v1["scores"]}
    assert scores["exact"]["mean"] == pytest.approx(0.5) and scores["verdict"]["categories"] == {"ok": 1, "bad": 1}
    page = ui.get(base).text
    assert 'id="compare-runs"' in page and "Compare selected runs" in page


def test_compare_marks_differences_and_escapes(ui: Any, project: Any, experiment: dict[str, Any]) -> None:
    base = f"/project/{project.id}/datasets/{experiment['dataset']['id']}/compare"
    runs = experiment["runs"]
    data = ui.get(f"{base}.json", params=[("runs", runs["v2"]), ("runs", runs["v1"])]).json()  # oldest first
    assert [r["name"] for r in data["runs"]] == ["v1", "v2"]
    rows = {row["id"]: row for row in data["items"]}
    france, japan, odd = (rows[item["id"]] for item in experiment["items"])
    assert france["runs"][0]["matchesExpected"] and not france["runs"][1]["differsFromBaseline"]
    tokyo = japan["runs"][1]
    assert tokyo["differsFromBaseline"] and tokyo["matchesExpected"]
    assert {s["name"]: s["trend"] for s in tokyo["scores"]} == {"exact": "up", "verdict": "changed"}
    assert odd["runs"][1] is None and odd["runs"][0]["level"] == "ERROR"

    page = ui.get(base, params=[("runs", runs["v1"]), ("runs", runs["v2"])]).text
    assert "<script>x</script>" not in page and "<img src=x>" not in page
    assert "≠ baseline" in page and "= expected" in page and "not run" in page

    single = ui.get(f"/project/{project.id}/datasets/{experiment['dataset']['id']}/runs/{runs['v2']}")
    assert single.status_code == 200 and "Run v2" in single.text  # the run link the SDKs print
    assert ui.get(base, params={"runs": "not-a-run"}).status_code == 404
