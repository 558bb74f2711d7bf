"""Experiment runs as a user of the existing SDK (3.0 to 5.x) makes them, read back through its client.

On a dataset of two items (the task answers one right, one wrong):
- the item-level link path of 3.x: ``with item.run(run_name=...) as span`` per item, scored by
  ``span.score_trace`` (3.x creates the run item through ``POST /dataset-run-items``);
- from 3.x's later minors on, ``dataset.run_experiment`` with item evaluators (numeric, categorical,
  boolean) and a run evaluator (scored on the run): 3.x and 4.x link items through
  ``POST /dataset-run-items``, 5.x only through ``langfuse.experiment.*`` span attributes;
- ``run_experiment`` on local data (no dataset): traces and scores only.
Read back: the dataset run with its items, the runs of the dataset, run items, each item's trace
(3.x, 4.x), scores by trace and by run; 5.x: its ``experiments`` and ``experiment-items`` client.

Usage: python sdk_experiments.py SUMMARY_PATH (configured by LANGFUSE_* and OPENAI_* variables).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sdk_common import Summary, field, jsonable, poll, record_http, run_tag, sdk_version

record_http()

from langfuse import Langfuse  # noqa: E402

MAJOR, MINOR = sdk_version()
TAG = run_tag()
DATASET = f"peer-experiments-{TAG}"
ITEMS = {f"item-a-{TAG}": ({"question": "2+2"}, "4"), f"item-b-{TAG}": ({"question": "capital of France"}, "Paris")}
ANSWERS = {"2+2": "4", "capital of France": "Lyon"}  # item b is answered wrong
LINK_RUN, EXPERIMENT_RUN = f"link-run-{TAG}", f"experiment-run-{TAG}"
summary = Summary("experiments")
langfuse = Langfuse()
HAS_ITEM_RUN = MAJOR == 3
HAS_EXPERIMENTS = hasattr(langfuse, "run_experiment")
started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


def item_input(item: Any) -> Any:
    return item["input"] if isinstance(item, dict) else item.input


def task(*, item: Any, **kwargs: Any) -> str:
    return ANSWERS[item_input(item)["question"]]


def evaluators() -> list[Any]:
    from langfuse import Evaluation

    def exact_match(*, input: Any, output: Any, expected_output: Any = None, **kwargs: Any) -> Any:
        return Evaluation(name="exact_match", value=1.0 if output == expected_output else 0.0, comment="exact")

    def grade(*, input: Any, output: Any, expected_output: Any = None, **kwargs: Any) -> Any:
        passed = output == expected_output
        return Evaluation(name="grade", value="pass" if passed else "fail", data_type="CATEGORICAL")

    def answered(*, input: Any, output: Any, **kwargs: Any) -> Any:
        return Evaluation(name="answered", value=bool(output), data_type="BOOLEAN")

    return [exact_match, grade, answered]


def accuracy(*, item_results: Any, **kwargs: Any) -> Any:
    from langfuse import Evaluation

    values = [e.value for r in item_results for e in r.evaluations if e.name == "exact_match"]
    return Evaluation(name="accuracy", value=sum(values) / max(len(values), 1))


def link_items(dataset: Any) -> list[str]:
    trace_ids = []
    for item in dataset.items:
        with item.run(run_name=LINK_RUN, run_metadata={"path": "link"}, run_description="linked by hand") as span:
            output = task(item=item)
            span.update(output=output)
            span.score_trace(name="exact_match", value=1.0 if output == item.expected_output else 0.0)
            trace_ids.append(span.trace_id)
    return trace_ids


def result_summary(result: Any) -> dict[str, Any]:
    return {
        "experiment_id": field(result, "experiment_id"),
        "dataset_run_id": field(result, "dataset_run_id"),
        "url": field(result, "experiment_url", "dataset_run_url"),
        "items": [
            {
                "trace_id": r.trace_id,
                "output": r.output,
                "evaluations": sorted((e.name, jsonable(e.value)) for e in r.evaluations),
            }
            for r in result.item_results
        ],
        "run_evaluations": [(e.name, e.value) for e in result.run_evaluations],
    }


def run_summary(run: Any) -> dict[str, Any]:
    data = jsonable(run)
    return {
        "id": data.get("id"),
        "name": data.get("name"),
        "description": data.get("description"),
        "metadata": data.get("metadata"),
        "datasetId": data.get("datasetId"),
        "datasetName": data.get("datasetName"),
        "items": sorted(
            (
                {k: i.get(k) for k in ("datasetItemId", "traceId", "observationId", "datasetRunName")}
                for i in data.get("datasetRunItems") or []
            ),
            key=lambda i: i["datasetItemId"] or "",
        ),
    }


def scores_of(**filters: Any) -> list[Any]:
    if MAJOR == 3:
        page = langfuse.api.score_v_2.get(limit=100, **filters)
    elif MAJOR == 4:
        page = langfuse.api.scores.get_many(limit=100, **filters)
    else:
        page = langfuse.api.scores.get_many(limit=100, fields="details,subject", **filters)
    return sorted(
        ((field(s, "name"), jsonable(field(s, "value")), field(s, "string_value")) for s in page.data),
        key=str,
    )


def trace_summary(trace_id: str) -> dict[str, Any]:
    data = jsonable(langfuse.api.trace.get(trace_id))
    return {
        "name": data.get("name"),
        "metadata": data.get("metadata"),
        "environment": data.get("environment"),
        "scores": sorted(
            ((s["name"], s.get("value"), s.get("stringValue")) for s in data.get("scores") or []), key=str
        ),
    }


with summary.step("create_dataset"):
    created = langfuse.create_dataset(name=DATASET, description="experiments of the peer SDK")
    summary["dataset_id"] = created.id
    for item_id, (question, expected) in ITEMS.items():
        langfuse.create_dataset_item(dataset_name=DATASET, id=item_id, input=question, expected_output=expected)
with summary.step("get_dataset"):
    dataset = langfuse.get_dataset(DATASET)
    summary["dataset_items"] = sorted(i.id for i in dataset.items)
if HAS_ITEM_RUN:
    with summary.step("item.run"):
        summary["link_traces"] = link_items(dataset)
if HAS_EXPERIMENTS:
    with summary.step("dataset.run_experiment"):
        result = dataset.run_experiment(
            name="peer-experiment",
            run_name=EXPERIMENT_RUN,
            description="experiment of the peer SDK",
            task=task,
            evaluators=evaluators(),
            run_evaluators=[accuracy],
            metadata={"model": "fake"},
        )
        summary["experiment"] = result_summary(result)
    with summary.step("run_experiment:local"):
        local = langfuse.run_experiment(
            name="peer-local-experiment",
            data=[{"input": {"question": "2+2"}, "expected_output": "4"}],
            task=task,
            evaluators=evaluators()[:1],
        )
        summary["local_experiment"] = result_summary(local)
langfuse.flush()

runs = ([LINK_RUN] if HAS_ITEM_RUN else []) + ([EXPERIMENT_RUN] if HAS_EXPERIMENTS else [])
if MAJOR in (3, 4):
    for run_name in runs:
        with summary.step(f"get_dataset_run:{run_name}"):
            if hasattr(langfuse, "get_dataset_run"):
                run = langfuse.get_dataset_run(dataset_name=DATASET, run_name=run_name)
            else:
                run = langfuse.api.datasets.get_run(dataset_name=DATASET, run_name=run_name)
            summary[f"run:{run_name}"] = run_summary(run)
        if (MAJOR, MINOR) >= (3, 1):  # 3.0's generated list() demands a `response` argument: unusable
            with summary.step(f"dataset_run_items.list:{run_name}"):
                page = langfuse.api.dataset_run_items.list(dataset_id=summary.data.get("dataset_id"), run_name=run_name)
                summary[f"run_items:{run_name}"] = sorted(
                    (field(i, "dataset_item_id"), field(i, "trace_id")) for i in page.data
                )
        with summary.step(f"run_traces:{run_name}"):
            trace_ids = [i["traceId"] for i in summary.data.get(f"run:{run_name}", {}).get("items", [])]
            summary[f"run_traces:{run_name}"] = {t: trace_summary(t) for t in trace_ids}
    with summary.step("get_dataset_runs"):
        if hasattr(langfuse, "get_dataset_runs"):
            page = langfuse.get_dataset_runs(dataset_name=DATASET)
        else:
            page = langfuse.api.datasets.get_runs(dataset_name=DATASET)
        summary["runs"] = sorted(field(r, "name") for r in page.data)
    if HAS_EXPERIMENTS:
        with summary.step("scores:run"):
            run_id = summary.data.get("experiment", {}).get("dataset_run_id")
            summary["run_scores"] = poll(lambda: scores_of(dataset_run_id=run_id), lambda s: len(s) > 0)
else:  # 5.x reads experiments through its experiments client
    experiment_id = summary.data.get("experiment", {}).get("experiment_id")
    with summary.step("experiments.list"):
        page = langfuse.api.experiments.list(from_start_time=started, dataset_id=summary.data.get("dataset_id"))
        summary["experiments"] = [
            {"id": e.id, "name": e.name, "itemCount": e.item_count, "datasetId": e.dataset_id} for e in page.data
        ]
    with summary.step("experiments.list_items"):
        page = langfuse.api.experiments.list_items(
            from_start_time=started, experiment_id=experiment_id, fields="core,io,dataset"
        )
        summary["experiment_items"] = sorted(
            (
                {
                    "traceId": i.trace_id,
                    "experimentItemId": i.experiment_item_id,
                    "experimentName": i.experiment_name,
                    "datasetId": i.experiment_dataset_id,
                    "output": i.output,
                    "expectedOutput": i.expected_output,
                }
                for i in page.data
            ),
            key=lambda i: i["experimentItemId"],
        )
    with summary.step("scores:experiment"):
        summary["run_scores"] = poll(lambda: scores_of(experiment_id=experiment_id), lambda s: len(s) > 0)
    with summary.step("scores:items"):
        traces = [i["trace_id"] for i in summary.data.get("experiment", {}).get("items", [])]
        summary["item_scores"] = {t: scores_of(trace_id=t) for t in traces}
summary["runs_made"] = runs

summary.write()
langfuse.shutdown()
