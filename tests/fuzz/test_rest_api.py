"""Fuzz the REST API from its own OpenAPI document (Schemathesis), then read everything back.

On each engine: two projects are seeded with one row of every kind through the API (project A
twice: one set to read, one for the DELETE operations to remove); the app is served over real
HTTP; Schemathesis runs every phase (examples, coverage, fuzzing, stateful) with positive and
negative data and every check, as project A. A schema-valid request may only be refused for a
rule the document cannot state (``UNSTATED``: each is said in its operation's description). Then:

- the read-back sweep reads every stored row of both projects through every GET endpoint and,
  for project A, every UI page and JSON twin;
- project B's rows are unchanged and none of them is readable with project A's key.

Everything is reported at once, grouped, with a minimal request per group.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from interactiveai.server.storage.schema import users
from tests.conftest import Project
from tests.fuzz.conftest import Seeded, Served, fuzz_examples, fuzz_timeout, seed_project
from tests.fuzz.schemathesis_run import run_schemathesis
from tests.fuzz.unstated import UNSTATED
from tests.server.ingest.otlp_builders import BASE_NS
from tests.support.read_back import cross_project_probe, project_rows, read_back

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]


def with_examples(document: dict[str, Any], seeded: Seeded, deletable: Seeded, member_id: str) -> dict[str, Any]:
    """The OpenAPI document, its path and query parameters given the seeded rows' ids as examples.

    DELETE operations get the ids of ``deletable``, so that the rows the other operations read
    are still there when they run. Only examples are added: every schema stays as the server
    publishes it.
    """

    def values(rows: Seeded) -> dict[str, Any]:
        return {
            "traceId": rows.trace_id,
            "observationId": rows.observation_id,
            "sessionId": rows.session_id,
            "scoreId": rows.score_id,
            "configId": rows.config_id,
            "datasetName": rows.dataset_name,
            "runName": rows.run_name,
            "itemId": rows.item_id,
            "model_id": rows.model_id,
            "commentId": rows.comment_id,
            "queueId": rows.queue_id,
            "queueItemId": rows.queue_item_id,
            "connectionId": rows.connection_id,
            "evaluatorId": rows.evaluator_id,
            "sourceTraceId": rows.trace_id,
            "userId": "user-42",
            "query": {  # GET /metrics: a day around the seeded trace
                "view": "traces",
                "fromTimestamp": _iso(BASE_NS - 43_200 * 10**9),
                "toTimestamp": _iso(BASE_NS + 43_200 * 10**9),
                "dimensions": [{"field": "name"}],
                "metrics": [{"measure": "count", "aggregation": "count"}, {"measure": "latency", "aggregation": "p95"}],
                "timeDimension": {"granularity": "hour"},
            },
        }

    read, delete = values(seeded), values(deletable)
    # rows that deleting others (a trace with its scores, a queue with its items) cannot take first
    spare = {
        "queueId": deletable.spare_queue_id,
        "queueItemId": deletable.spare_queue_item_id,
        "scoreId": deletable.spare_score_id,
    }
    delete_spare = {**delete, **spare}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            examples = delete if method == "delete" else read
            if method == "delete" and path.endswith(("/items/{queueItemId}", "/scores/{scoreId}")):
                examples = delete_spare
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in ("path", "query") and parameter.get("name") in examples:
                    parameter["example"] = examples[parameter["name"]]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            for example in body.get("examples", []) if isinstance(body, dict) else []:
                _name_stored_rows(example, examples, member_id)
    return document


def _name_stored_rows(example: Any, values: dict[str, Any], member_id: str) -> None:
    """A body example naming rows by id gets ids that exist (an example cannot know them)."""
    if not isinstance(example, dict):
        return
    if example.get("objectType") == "TRACE":  # a comment or a queue item
        example["objectId"] = values["traceId"]
    if "connectionId" in example:  # an evaluator's model connection
        example["connectionId"] = values["connectionId"]
    if set(example) == {"userId"}:  # a queue's reviewer is a member of the project
        example["userId"] = member_id


def _user_id(engine: Any, email: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(users.c.id).where(users.c.email == email)).scalar_one())


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat().replace("+00:00", "Z")


@pytest.mark.timeout(fuzz_timeout(420))
def test_rest_api_fuzz(
    engine: Any, served: Served, project: Project, other_project: Project, ui_member: Any, tmp_path: Path
) -> None:
    with httpx.Client(base_url=served.url, timeout=60) as http:
        seeded = seed_project(http, project, "a")
        deletable = seed_project(http, project, "a-del")
        seed_project(http, other_project, "b")
        other_before = project_rows(engine, other_project.id)

        document = http.get("/api/public/openapi.json").json()
        schema_path = tmp_path / "openapi.json"
        member_id = _user_id(engine, ui_member[0])
        schema_path.write_text(json.dumps(with_examples(document, seeded, deletable, member_id)))
        report_dir = tmp_path / "schemathesis"
        report_dir.mkdir()
        run = run_schemathesis(
            schema_path,
            served.url,
            (project.public_key, project.secret_key),
            report_dir,
            max_examples=fuzz_examples(),
            timeout=fuzz_timeout(300),
        )
        run.allow(UNSTATED)
        output = report_dir / "schemathesis.txt"
        output.write_text(run.output)
        # shown when the test fails: the CLI's summary; its full report (curl commands) and events are kept
        print(run.output[run.output.rfind("=== SUMMARY") :] if "=== SUMMARY" in run.output else run.output[-3000:])
        print(f"full Schemathesis output: {output}; events: {report_dir / 'events.ndjson'}")

        sweep = read_back(http, engine, project.id, project.headers, ui_member)
        other_sweep = read_back(http, engine, other_project.id, other_project.headers)
        isolation = cross_project_probe(http, engine, other_project.id, project.headers)
        other_after = project_rows(engine, other_project.id)
    (report_dir / "server-errors.txt").write_text("\n\n".join(served.errors))

    changed = sorted(table for table in other_before if other_before[table] != other_after.get(table))
    sections = [
        run.report(),
        run.expected_report(),
        sweep.report(),
        "other project: " + other_sweep.report(),
        f"isolation: {len(isolation)} cross-project read(s)" + "".join(f"\n  {p}" for p in isolation[:20]),
        f"isolation: tables of the other project changed by project A's requests: {changed}",
        served.tracebacks(),
    ]
    # Schemathesis warns when an operation only ever answered 404 (its examples named no stored row)
    starved = re.findall(r"Missing test data[^\n]*\n\n((?:  - [^\n]*\n)+)", run.output)
    if starved:
        sections.insert(1, "operations that never reached a stored row (give them examples):\n" + "".join(starved))
    print(
        f"rest fuzz: {run.cases} cases in {run.seconds:.1f}s; sweep {sweep.requests} requests in {sweep.seconds:.1f}s"
    )
    print(run.expected_report())
    if run.failures or starved or sweep.problems or other_sweep.problems or isolation or changed:
        pytest.fail("\n\n".join(sections), pytrace=False)
