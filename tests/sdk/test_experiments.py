"""Datasets and experiments through the SDK against a real server (its own SQLite file).

The SDK side does not depend on the engine; the server's dataset run storage is covered on both
engines by tests/server/api. Everything is read back through the public REST API.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

from interactiveai import InteractiveAI, observe
from interactiveai.sdk.datasets import DatasetError, DatasetItem
from interactiveai.sdk.experiments import Evaluation, ExperimentItemResult
from tests.support.live_server import LiveServer, live_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("experiments")) as running:
        yield running


@pytest.fixture
def client(server: LiveServer) -> Iterator[InteractiveAI]:
    sdk = InteractiveAI(
        public_key=server.public_key, secret_key=server.secret_key, host=server.url, flush_interval=0.05
    )
    yield sdk
    sdk.shutdown(timeout=10)


def api(server: LiveServer, path: str, **params: Any) -> Any:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    request = urllib.request.Request(server.url + "/api/public" + path + query, headers=server.auth_header)
    with urllib.request.urlopen(request, timeout=10) as response:
        return orjson.loads(response.read())


def eventually(read: Callable[[], Any], ready: Callable[[Any], bool], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if ready(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def exact_match(*, input: Any, output: Any, expected_output: Any, **_: Any) -> Evaluation:
    return Evaluation(name="exact", value=output == expected_output, comment=f"{output!r} vs {expected_output!r}")


async def length(*, output: Any, **_: Any) -> list[Evaluation]:
    return [Evaluation(name="length", value=len(str(output))), Evaluation(name="tone", value="neutral")]


def broken_evaluator(**_: Any) -> Evaluation:
    raise RuntimeError("evaluator bug")


def accuracy(*, item_results: list[ExperimentItemResult], **_: Any) -> Evaluation:
    hits = [e.value for r in item_results for e in r.evaluations if e.name == "exact"]
    return Evaluation(name="accuracy", value=sum(1 for h in hits if h) / len(hits))


@observe(as_type="generation")
def fake_model(question: str) -> str:
    if "fail" in question:
        raise ValueError("model refused")
    return question.upper()


def upper_task(*, item: Any, **_: Any) -> str:
    return fake_model(item.input["question"] if isinstance(item, DatasetItem) else item["input"])


def test_dataset_experiment_links_runs_scores_and_traces(client: InteractiveAI, server: LiveServer) -> None:
    client.create_dataset(name="qa/golden", description="golden answers", metadata={"owner": "eval"})
    for question, expected in [("hi", "HI"), ("abc", "abd"), ("please fail", "")]:
        client.create_dataset_item(
            dataset_name="qa/golden", input={"question": question}, expected_output=expected, metadata={"q": question}
        )
    archived = client.create_dataset_item(dataset_name="qa/golden", input={"question": "old"})
    client.create_dataset_item(dataset_name="qa/golden", id=archived.id, input={"question": "old"}, status="ARCHIVED")

    dataset = client.get_dataset("qa/golden")
    assert dataset.name == "qa/golden" and dataset.description == "golden answers"
    assert sorted(item.input["question"] for item in dataset.items) == ["abc", "hi", "please fail"]
    assert {item.dataset_name for item in dataset.items} == {"qa/golden"}

    result = dataset.run_experiment(
        name="upper",
        run_name="upper v1",
        description="uppercases",
        task=upper_task,
        evaluators=[exact_match, length, broken_evaluator],
        run_evaluators=[accuracy],
        metadata={"prompt": "v1"},
    )
    assert result.run_name == "upper v1" and len(result.item_results) == 3
    assert [r.error for r in result.item_results if r.error] == ["ValueError: model refused"]
    by_question = {r.item.input["question"]: r for r in result.item_results}
    assert by_question["hi"].output == "HI"
    assert {e.name: e.value for e in by_question["hi"].evaluations} == {"exact": True, "length": 2, "tone": "neutral"}
    assert result.run_evaluations[0].value == 0.5
    assert result.dataset_run_id and result.dataset_run_url
    assert result.dataset_run_url.endswith(f"/datasets/{dataset.id}/runs/{result.dataset_run_id}")
    summary = str(result)
    assert "succeeded: 2, failed: 1" in summary and "exact: mean 0.5 (n=2)" in summary
    assert "tone: neutral ×2" in summary and result.dataset_run_url in summary

    run = api(server, "/datasets/qa%2Fgolden/runs/upper%20v1")
    assert run["id"] == result.dataset_run_id and run["description"] == "uppercases"
    assert run["metadata"] == {"prompt": "v1"}
    linked = {i["datasetItemId"]: i["traceId"] for i in run["datasetRunItems"]}
    assert linked == {r.item.id: r.trace_id for r in result.item_results}

    hi_trace = eventually(
        lambda: api(server, f"/traces/{by_question['hi'].trace_id}") if _exists(server, by_question["hi"]) else {},
        lambda t: len(t.get("observations", [])) == 2 and len(t.get("scores", [])) == 3,
    )
    assert hi_trace["input"] == {"question": "hi"} and hi_trace["output"] == "HI"
    assert {o["name"] for o in hi_trace["observations"]} == {"experiment-item-run", "fake_model"}
    assert {s["name"] for s in hi_trace["scores"]} == {"exact", "length", "tone"}
    run_scores = eventually(
        lambda: api(server, "/v2/scores", datasetRunId=result.dataset_run_id)["data"], lambda rows: len(rows) == 1
    )
    assert run_scores[0]["name"] == "accuracy" and run_scores[0]["value"] == 0.5
    failed = by_question["please fail"]
    failed_trace = eventually(
        lambda: api(server, "/observations", traceId=failed.trace_id)["data"], lambda d: len(d) == 2
    )
    assert {o["level"] for o in failed_trace} == {"ERROR"}


def _exists(server: LiveServer, result: ExperimentItemResult) -> bool:
    return bool(api(server, "/observations", traceId=result.trace_id)["data"])


async def test_local_data_with_async_task_inside_a_running_loop(client: InteractiveAI, server: LiveServer) -> None:
    async def task(*, item: dict[str, Any], **_: Any) -> str:
        await asyncio.sleep(0.01)
        return str(item["input"])[::-1]

    data = [{"input": f"item-{n}", "expected_output": f"{n}-meti"} for n in range(6)]
    result = client.run_experiment(name="reverse", data=data, task=task, evaluators=[exact_match], max_concurrency=2)
    assert [r.output for r in result.item_results] == [f"{n}-meti" for n in range(6)]
    assert all(r.evaluations[0].value is True for r in result.item_results)
    assert result.dataset_run_id is None and result.dataset_run_url is None
    assert len({r.trace_id for r in result.item_results}) == 6
    traces = eventually(
        lambda: api(server, "/traces", name="experiment-item-run", limit=50)["data"], lambda d: len(d) >= 6
    )
    assert {f"item-{n}" for n in range(6)} <= {t["input"] for t in traces if isinstance(t["input"], str)}


def test_dataset_errors_raise_clearly(client: InteractiveAI) -> None:
    with pytest.raises(DatasetError, match="no-such-dataset.*HTTP 404"):
        client.get_dataset("no-such-dataset")
    disabled = InteractiveAI(public_key="", secret_key="", tracing_enabled=False)
    with pytest.raises(DatasetError, match="disabled"):
        disabled.get_dataset("qa/golden")


def test_item_runs_are_one_trace_each_with_the_task_spans_nested(client: InteractiveAI, server: LiveServer) -> None:
    result = client.run_experiment(name="nested", data=[{"input": "x"}], task=lambda *, item, **_: fake_model("nest"))
    (only,) = result.item_results
    observations = eventually(
        lambda: api(server, "/observations", traceId=only.trace_id)["data"], lambda d: len(d) == 2
    )
    root = next(o for o in observations if o["name"] == "experiment-item-run")
    child = next(o for o in observations if o["name"] == "fake_model")
    assert child["parentObservationId"] == root["id"] and child["type"] == "GENERATION"
    assert root["metadata"]["experiment_name"] == "nested"
