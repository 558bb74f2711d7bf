"""Our REST API's JSON read by the existing SDK's own generated API models (its ``api`` client).

Runs inside a compat venv holding one release of that SDK (3.x, 4.x or 5.x): only the standard
library, httpx and the SDK are imported. Against our live server (LANGFUSE_* in the environment)
it creates a trace through the SDK, scores of every type through ``POST /scores``, a dataset with
items that change, and a run item; then it reads each back through the SDK's client, which
validates every response with its models, and writes what it read as JSON to argv[1]. A response
the models refuse is recorded under ``errors`` with the step's name.

Each release reads through the routes it has: 5.x has no trace, v1 observation or run routes.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from langfuse import Langfuse

MAJOR = int(importlib.metadata.version("langfuse").split(".")[0])
TAG = os.environ["PEER_RUN"]
HOST = os.environ["LANGFUSE_HOST"]
AUTH = (os.environ["LANGFUSE_PUBLIC_KEY"], os.environ["LANGFUSE_SECRET_KEY"])
out: dict[str, Any] = {"sdk_version": importlib.metadata.version("langfuse"), "major": MAJOR, "tag": TAG, "errors": {}}


@contextmanager
def step(name: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # a response the SDK's models refuse is the finding
        out["errors"][name] = f"{type(exc).__name__}: {exc}"[:3000]
        traceback.print_exc()


def get(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


def iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def poll(read: Callable[[], Any], ready: Callable[[Any], bool], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if ready(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


def score_view(score: Any) -> dict[str, Any]:
    return {
        name: get(score, attr)
        for name, attr in (
            ("dataType", "data_type"),
            ("value", "value"),
            ("stringValue", "string_value"),
            ("name", "name"),
        )
    }


def item_view(item: Any) -> dict[str, Any]:
    return {
        "id": item.id,
        "input": item.input,
        "metadata": item.metadata,
        "status": str(get(item, "status").value if hasattr(get(item, "status"), "value") else get(item, "status")),
        # a field 3.x's model does not declare is kept under its wire name
        "mediaReferences": get(item, "media_references" if hasattr(item, "media_references") else "mediaReferences"),
    }


lf = Langfuse(public_key=AUTH[0], secret_key=AUTH[1], host=HOST)
api = lf.api
trace_id = ""

with step("projects"):
    projects = api.projects.get()
    project = projects.data[0]
    out["project"] = {
        "id": project.id,
        "organization": {"id": project.organization.id, "name": project.organization.name},
    }
    out["trace_url"] = lf.get_trace_url(trace_id="ab" * 16)

with step("trace"):
    with lf.start_as_current_observation(name=f"rest-{TAG}", as_type="span") as root:
        trace_id = root.trace_id
        with lf.start_as_current_observation(
            name="llm", as_type="generation", model="gpt-4o", model_parameters={"temperature": 0.2, "max_tokens": 64}
        ) as generation:
            generation.update(output="hello", usage_details={"input": 10, "output": 2})
    lf.flush()
    out["trace_id"] = trace_id

with step("scores"):
    scores = [
        {"name": "tone", "value": "polite", "dataType": "CATEGORICAL"},
        {"name": "quality", "value": 0.9, "dataType": "NUMERIC"},
        {"name": "ok", "value": 1, "dataType": "BOOLEAN"},
        {"name": "remark", "value": "fine", "dataType": "TEXT"},
    ]
    for score in scores:
        httpx.post(f"{HOST}/api/public/scores", json={"traceId": trace_id, **score}, auth=AUTH).raise_for_status()

if MAJOR < 5:
    with step("trace_get"):
        trace = poll(lambda: api.trace.get(trace_id), lambda t: len(t.observations) >= 2 and len(t.scores) >= 4)
        out["trace_scores"] = sorted((score_view(s) for s in trace.scores), key=lambda s: s["name"])
        generation = next(o for o in trace.observations if o.name == "llm")
        out["model_parameters"] = generation.model_parameters

    with step("trace_list_filter"):
        by_name = [{"type": "string", "column": "name", "operator": "=", "value": f"rest-{TAG}"}]
        listed = api.trace.list(filter=json.dumps(by_name), fields="core,scores")
        out["trace_list_ids"] = [t.id for t in listed.data]
        none = [*by_name, {"type": "number", "column": "latency", "operator": ">", "value": 3600}]
        out["trace_list_none"] = [t.id for t in api.trace.list(filter=json.dumps(none)).data]

    with step("observations_filter"):
        observations = api.observations if MAJOR == 3 else api.legacy.observations_v1
        generations = [
            {"type": "string", "column": "traceId", "operator": "=", "value": trace_id},
            {"type": "stringOptions", "column": "type", "operator": "any of", "value": ["GENERATION"]},
        ]
        found = observations.get_many(filter=json.dumps(generations))
        out["observation_names"] = [o.name for o in found.data]
        out["observation_model_parameters"] = [o.model_parameters for o in found.data]

    with step("scores_list"):
        listed_scores = api.score_v_2.get(trace_id=trace_id) if MAJOR == 3 else api.scores.get_many(trace_id=trace_id)
        out["listed_scores"] = sorted((score_view(s) for s in listed_scores.data), key=lambda s: s["name"])

dataset = f"rest-{TAG}"
with step("datasets"):
    lf.create_dataset(name=dataset)
    lf.create_dataset_item(dataset_name=dataset, id=f"a-{TAG}", input={"q": 1})
    lf.create_dataset_item(dataset_name=dataset, id=f"b-{TAG}", input={"q": 2}, metadata={"m": 1})
    time.sleep(0.05)
    between = dt.datetime.now(dt.UTC)
    time.sleep(0.05)
    lf.create_dataset_item(dataset_name=dataset, id=f"a-{TAG}", input={"q": "changed"})
    lf.create_dataset_item(dataset_name=dataset, id=f"b-{TAG}", status="ARCHIVED")
    out["items_now"] = sorted(
        (item_view(i) for i in api.dataset_items.list(dataset_name=dataset).data), key=lambda i: i["id"]
    )
    then = api.dataset_items.list(dataset_name=dataset, version=between)
    out["items_then"] = sorted((item_view(i) for i in then.data), key=lambda i: i["id"])
    out["item_get"] = item_view(api.dataset_items.get(id=f"a-{TAG}"))
    fetched = lf.get_dataset(dataset)
    out["dataset_items"] = sorted(i.id for i in fetched.items)
    out["dataset_metadata"] = get(fetched, "metadata")

if MAJOR < 5:
    with step("runs"):
        if MAJOR == 3:
            api.dataset_run_items.create(request={"runName": "run-1", "datasetItemId": f"a-{TAG}", "traceId": trace_id})
        else:
            api.dataset_run_items.create(run_name="run-1", dataset_item_id=f"a-{TAG}", trace_id=trace_id)
        run = api.datasets.get_run(dataset_name=dataset, run_name="run-1")
        out["run"] = {
            "name": run.name,
            "metadata": run.metadata,
            "items": [i.dataset_item_id for i in run.dataset_run_items],
        }
        out["runs"] = [r.name for r in api.datasets.get_runs(dataset_name=dataset).data]
        run_items = api.dataset_run_items.list(dataset_id=get(fetched, "id"), run_name="run-1")
        out["run_items"] = [(i.dataset_item_id, i.trace_id) for i in run_items.data]

lf.shutdown()
with open(sys.argv[1], "w") as file:
    json.dump(out, file, indent=1, default=iso)
