"""Rows no version of the server should write, written straight into the database (as an older
version, a migration or a hand-made fix could have): every list, detail and page still answers.

DESIGN §8: whatever is stored is readable by every endpoint and page, and readers degrade per
value: a JSON column that cannot be shown as a tree is shown as its text, a time outside what a
datetime can hold is shown as the nearest one, a non-finite score value as missing. One bad row
never fails a whole list. The REST operations come from the app's OpenAPI document.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
import pytest
from sqlalchemy import insert, update

from interactiveai.server.storage import eval_schema, review_schema, schema
from tests.server.api.routes_table import API, operations
from tests.server.query.seed import T0, add_observation, add_score, add_trace, obs_id, trace_id

DEEP = "[" * 300 + "]" * 300
POISON_JSON = {
    "deeper than orjson writes": DEEP,
    "an object with a deep member": '{"a": ' + DEEP + ', "b": "kept"}',
    "deeper than orjson reads": "[" * 5000 + "]" * 5000,
    "not JSON": "{not json",
    "NaN literal": '{"a": NaN}',
    "integer beyond 64 bits": '{"n": 18446744073709551616, "m": -99999999999999999999}',
    "lone surrogate escape": '{"s": "\\ud800"}',
    "NUL escape": '{"x": "a\\u0000b"}',
    "empty": "",
}
BIG = 2**61  # far beyond year 9999 in microseconds, yet room for sums of two
POISON_TIMES = [BIG, -BIG, 0, T0]
POISON_VALUES = [float("inf"), float("-inf"), float("nan"), 1e308]


def _poison(engine: Any, project_id: str) -> dict[str, list[str]]:
    """One row of each kind per poison; returns the ids, per path parameter name."""
    ids: dict[str, list[str]] = {k: [] for k in ("traceId", "observationId", "sessionId", "scoreId", "configId")}
    ids.update({k: [] for k in ("datasetName", "runName", "itemId", "datasetId", "userId")})
    ids.update({k: [] for k in ("commentId", "queueId", "queueItemId", "connectionId", "evaluatorId")})
    for n, bad in enumerate(POISON_JSON.values(), 1):
        ts = POISON_TIMES[n % len(POISON_TIMES)]
        tid, session, user = trace_id(n), f"session-{n}", f"user-{n}"
        add_trace(engine, project_id, tid, timestamp_us=ts, latency_us=BIG if n % 2 else None)
        with engine.begin() as conn:
            conn.execute(
                update(schema.traces)
                .where(schema.traces.c.project_id == project_id, schema.traces.c.id == tid)
                .values(input=bad, output=bad, metadata=bad, tags=bad, session_id=session, user_id=user)
            )
        add_observation(
            engine,
            project_id,
            tid,
            obs_id(n),
            start_time_us=ts,
            end_time_us=BIG,
            completion_start_time_us=-BIG if n % 2 else BIG,
            input=bad,
            output=bad,
            metadata=bad,
            model_parameters=bad,
            usage_details=bad,
            cost_details=bad,
        )
        value = POISON_VALUES[n % len(POISON_VALUES)]
        add_score(engine, project_id, f"score-{n}", trace_id=tid, timestamp_us=ts, metadata=bad, value=value)
        add_score(engine, project_id, f"huge-{n}", trace_id=tid, timestamp_us=ts, value=1e308)
        add_score(
            engine, project_id, f"label-{n}", session_id=session, metadata=bad, data_type="CATEGORICAL", value=1e308
        )
        with engine.begin() as conn:
            conn.execute(
                insert(schema.score_configs).values(
                    project_id=project_id,
                    id=f"config-{n}",
                    name=f"config {n}",
                    data_type="CATEGORICAL",
                    is_archived=False,
                    categories=bad,
                    created_at_us=ts,
                    updated_at_us=BIG,
                )
            )
            dataset = {"project_id": project_id, "dataset_id": f"dataset-{n}"}
            conn.execute(
                insert(schema.datasets).values(
                    project_id=project_id,
                    id=f"dataset-{n}",
                    name=f"ds-{n}",
                    metadata=bad,
                    created_at_us=ts,
                    updated_at_us=BIG,
                )
            )
            conn.execute(
                insert(schema.dataset_items).values(
                    **dataset,
                    id=f"item-{n}",
                    input=bad,
                    expected_output=bad,
                    metadata=bad,
                    source_trace_id=tid,
                    status="ACTIVE",
                    created_at_us=ts,
                    updated_at_us=-BIG,
                )
            )
            conn.execute(
                insert(schema.dataset_runs).values(
                    **dataset, id=f"run-{n}", name=f"run-{n}", metadata=bad, created_at_us=ts, updated_at_us=BIG
                )
            )
            conn.execute(
                insert(schema.dataset_run_items).values(
                    project_id=project_id,
                    id=f"run-item-{n}",
                    dataset_run_id=f"run-{n}",
                    dataset_item_id=f"item-{n}",
                    trace_id=tid,
                    created_at_us=ts,
                )
            )
        with engine.begin() as conn:
            conn.execute(
                insert(review_schema.comments).values(
                    project_id=project_id,
                    id=f"comment-{n}",
                    object_type="TRACE",
                    object_id=tid,
                    content=bad or "-",
                    author_user_id=f"ghost-{n}",
                    created_at_us=ts,
                    updated_at_us=BIG,
                )
            )
            conn.execute(
                insert(review_schema.annotation_queues).values(
                    project_id=project_id,
                    id=f"queue-{n}",
                    name=f"queue {n}",
                    description=bad,
                    score_config_ids=bad,
                    created_at_us=ts,
                    updated_at_us=BIG,
                )
            )
            conn.execute(
                insert(review_schema.annotation_queue_items).values(
                    project_id=project_id,
                    id=f"queue-item-{n}",
                    queue_id=f"queue-{n}",
                    object_type="TRACE",
                    object_id=tid,
                    status="COMPLETED" if n % 2 else "PENDING",
                    completed_at_us=BIG if n % 2 else None,
                    completed_by_user_id=f"ghost-{n}",
                    created_at_us=ts,
                    updated_at_us=-BIG,
                )
            )
            conn.execute(
                insert(eval_schema.llm_connections).values(
                    project_id=project_id,
                    id=f"connection-{n}",
                    name=f"judge {n}",
                    base_url=bad or "-",
                    model=bad or "-",
                    api_key_hint=None,
                    params=bad,
                    created_at_us=ts,
                    updated_at_us=BIG,
                )
            )
            conn.execute(
                insert(eval_schema.evaluators).values(
                    project_id=project_id,
                    id=f"evaluator-{n}",
                    name=f"evaluator {n}",
                    enabled=False,
                    connection_id=f"connection-{n}",
                    prompt=bad or "-",
                    variable_mapping=bad,
                    score_name="judged",
                    score_data_type="CATEGORICAL",
                    score_categories=bad,
                    filter=bad,
                    delay_ms=BIG,
                    scan_created_us=ts,
                    created_at_us=ts,
                    updated_at_us=-BIG,
                )
            )
        for key, value in (
            ("connectionId", f"connection-{n}"),
            ("evaluatorId", f"evaluator-{n}"),
            ("commentId", f"comment-{n}"),
            ("queueId", f"queue-{n}"),
            ("queueItemId", f"queue-item-{n}"),
            ("traceId", tid),
            ("observationId", obs_id(n)),
            ("sessionId", session),
            ("scoreId", f"score-{n}"),
            ("configId", f"config-{n}"),
            ("datasetName", f"ds-{n}"),
            ("runName", f"run-{n}"),
            ("itemId", f"item-{n}"),
            ("datasetId", f"dataset-{n}"),
            ("userId", user),
        ):
            ids[key].append(value)
    return ids


@pytest.fixture
def poisoned(engine: Any, project: Any) -> dict[str, list[str]]:
    return _poison(engine, project.id)


def _problems(client: Any, urls: list[str], headers: dict[str, str] | None = None) -> list[str]:
    found = []
    for url in urls:
        response = client.get(url, headers=headers or {})
        if response.status_code != 200:
            found.append(f"GET {url} -> {response.status_code}: {response.text[:300]}")
        elif url.split("?", 1)[0].endswith((".json",)) or url.startswith(API):
            response.json()  # valid JSON (no NaN)
    return found


def test_every_api_read_answers(client: Any, project: Any, poisoned: dict[str, list[str]]) -> None:
    window = {"view": "traces", "fromTimestamp": "2025-12-31T00:00:00Z", "toTimestamp": "2026-01-02T00:00:00Z"}
    metrics = [
        {**window, "view": view, "metrics": [{"measure": m, "aggregation": a} for m in ("latency", "totalCost")]}
        for view in ("traces", "observations")
        for a in ("avg", "max", "p95")
    ]
    urls = []
    for op in operations(client):
        if op.method != "get" or op.path.startswith(f"{API}/models/"):
            continue
        for n in range(len(POISON_JSON)):
            values = {name: quote(found[n], safe="") for name, found in poisoned.items()}
            url = op.url(values)
            if op.path == f"{API}/metrics":  # its one required parameter is the query
                urls += [f"{url}?query={quote(orjson.dumps(q).decode())}" for q in metrics]
                break
            since = {"fromStartTime": "2000-01-01T00:00:00Z"}  # the experiment lists' required start
            required = {p.name: since.get(p.name) or poisoned[p.name][n] for p in op.query if p.required}
            urls.append(url + ("?" + "&".join(f"{k}={quote(v)}" for k, v in required.items()) if required else ""))
            if not op.path_params and not required:
                break  # a list: once is enough
    urls += [
        f"{API}/traces?fields=core,io,scores,observations,metrics&orderBy={o}" for o in ("latency.desc", "name.asc")
    ]
    urls += [f"{API}/dataset-items?datasetName={name}" for name in poisoned["datasetName"]]
    problems = _problems(client, sorted(set(urls)), project.headers)
    assert not problems, "\n".join(problems)


def test_every_ui_page_and_twin_answers(ui: Any, project: Any, poisoned: dict[str, list[str]]) -> None:
    base = f"/project/{project.id}"
    urls = []
    for suffix in ("", ".json"):
        urls += [
            f"{base}/traces{suffix}?range=all&sort={s}&dir={d}"
            for s in ("timestamp", "name", "latency", "cost", "level")
            for d in ("asc", "desc")
        ]
        urls += [f"{base}/{page}{suffix}?range=all" for page in ("sessions", "users", "scores", "dashboard")]
        urls += [f"{base}/dashboard{suffix}?range=30d", f"{base}/datasets{suffix}", f"{base}/settings{suffix}"]
        urls += [f"{base}/queues{suffix}", f"{base}/evaluators{suffix}"]
        urls += [f"{base}/scores{suffix}?range=all&type=CATEGORICAL", f"{base}/scores{suffix}?range=all&name=quality"]
        for n in range(len(POISON_JSON)):
            urls += [
                f"{base}/traces/{poisoned['traceId'][n]}{suffix}",
                f"{base}/sessions/{poisoned['sessionId'][n]}{suffix}",
            ]
            urls += [
                f"{base}/users/{poisoned['userId'][n]}{suffix}",
                f"{base}/datasets/{poisoned['datasetId'][n]}{suffix}",
                f"{base}/datasets/{poisoned['datasetId'][n]}/compare{suffix}?runs={poisoned['runName'][n]}",
                f"{base}/queues/{poisoned['queueId'][n]}{suffix}",
            ]
            if not suffix:
                queue = f"{base}/queues/{poisoned['queueId'][n]}/review"
                urls += [queue, f"{queue}?item={poisoned['queueItemId'][n]}"]
    for n in range(len(POISON_JSON)):
        trace = f"{base}/traces/{poisoned['traceId'][n]}"
        urls += [f"{trace}/io.json", f"{trace}/observations/{poisoned['observationId'][n]}.json"]
    problems = _problems(ui, urls)
    assert not problems, "\n".join(problems)


def test_every_cursor_page_of_the_trace_list_answers(ui: Any, project: Any, poisoned: dict[str, list[str]]) -> None:
    for sort in ("timestamp", "name", "latency", "tokens", "cost", "observations", "level"):
        seen: list[str] = []
        cursor = None
        for _ in range(len(POISON_JSON) + 1):
            url = f"/project/{project.id}/traces.json?range=all&sort={sort}&limit=2" + (
                f"&cursor={cursor}" if cursor else ""
            )
            response = ui.get(url)
            assert response.status_code == 200, f"{url}: {response.text[:300]}"
            body = response.json()
            seen += [row["id"] for row in body["data"]]
            cursor = body["meta"]["nextCursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(poisoned["traceId"]), sort


def test_deep_values_read_as_their_text(client: Any, project: Any, poisoned: dict[str, list[str]]) -> None:
    deep, member = poisoned["traceId"][0], poisoned["traceId"][1]
    trace = client.get(f"{API}/traces/{deep}", headers=project.headers).json()
    assert trace["input"] == DEEP and trace["observations"][0]["modelParameters"] == DEEP
    assert trace["metadata"] == {}  # metadata is an object: text that is not one reads as empty
    trace = client.get(f"{API}/traces/{member}", headers=project.headers).json()
    assert trace["input"] == {"a": DEEP, "b": "kept"}
    assert trace["metadata"]["b"] == "kept"


def _trace_at(ts: int) -> str:
    return trace_id(next(n for n in range(1, len(POISON_JSON) + 1) if POISON_TIMES[n % len(POISON_TIMES)] == ts))


def test_times_read_as_the_nearest_representable(client: Any, project: Any, poisoned: dict[str, list[str]]) -> None:
    late = client.get(f"{API}/traces/{_trace_at(BIG)}", headers=project.headers).json()
    assert late["timestamp"] == "9999-12-31T23:59:59.999Z"
    assert late["observations"][0]["completionStartTime"] in ("9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00.000Z")
    early = client.get(f"{API}/traces/{_trace_at(-BIG)}", headers=project.headers).json()
    assert early["timestamp"] == "0001-01-01T00:00:00.000Z"


def test_non_finite_score_values_read_as_missing(ui: Any, client: Any, project: Any, poisoned: dict[str, Any]) -> None:
    listed = client.get(f"{API}/scores?limit=100", headers=project.headers).json()["data"]
    values = {s["id"]: s["value"] for s in listed}
    infinite = next(n for n in range(1, len(POISON_JSON) + 1) if POISON_VALUES[n % len(POISON_VALUES)] == float("inf"))
    assert values[f"score-{infinite}"] is None and values["huge-1"] == 1e308
    # values beyond 1e300 (which the API refuses) are left out of the summary's average
    body = ui.get(f"/project/{project.id}/scores.json?range=all").json()
    assert {s["name"]: s["average"] for s in body["summary"]}["quality"] is None
