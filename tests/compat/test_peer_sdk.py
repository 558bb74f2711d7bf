"""The existing SDK (the most widely used open-source LLM-tracing SDK) against our server, as its
users run it: each major release (3.x, 4.x, 5.x at their latest, and 3.0, whose API differs) in
its own virtual environment runs the scenario scripts of tests/compat/peer_sdk/ (traces, scores,
datasets, experiment runs), which read everything back through the SDK's own API client and write
a summary. Each test checks that summary (what the SDK's user sees, and that none of the SDK's
requests was refused) and then the same data through our REST API.

Expectations are what the SDK's user expects from the peer server whose API it was written for
(reference/sdk-behaviour.md, server-behaviour.md): e.g. model parameters come back as strings,
usage keys as sent, categorical scores with ``value`` and ``stringValue``, archived dataset items
not listed, a dataset as it stood at ``version``.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.compat.conftest import CompatServer
from tests.support.compat_venv import compat_venv
from tests.support.fake_openai import FakeOpenAI

SCENARIOS = Path(__file__).parent / "peer_sdk"
RELEASES = {  # lower bounds are the releases these tests were written against
    "3.0": ["langfuse>=3.0.9,<3.1", "openai>=1.40"],
    "3.x": ["langfuse>=3.15,<4", "openai>=1.40"],
    "4.x": ["langfuse>=4.18,<5", "openai>=1.40"],
    "5.x": ["langfuse>=5.2,<6", "openai>=1.40"],
}
_RUNS: dict[tuple[str, str, str], dict[str, Any]] = {}

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("release", list(RELEASES))]


class Problems(list[str]):
    """Soft checks: every difference is listed in one failure, so one run shows all of them."""

    def check(self, condition: object, message: str) -> None:
        if not condition:
            self.append(message)

    def equal(self, actual: object, expected: object, what: str) -> None:
        self.check(actual == expected, f"{what}: got {actual!r}, expected {expected!r}")

    def contains(self, actual: Any, expected: dict[str, Any], what: str) -> None:
        actual = actual if isinstance(actual, dict) else {}
        missing = {k: v for k, v in expected.items() if actual.get(k) != v}
        self.check(not missing, f"{what}: expected {missing!r} within {actual!r}")

    def sdk_clean(self, summary: dict[str, Any]) -> None:
        """No SDK call raised, and no request of the SDK was refused by our server."""
        for step, error in summary["errors"].items():
            self.append(f"SDK {summary['sdk_version']} step {step!r} raised {error}")
        for request in summary["requests"]:
            status = request["status"]
            if status is None or status >= 400:
                self.append(f"SDK {summary['sdk_version']}: {request['method']} {request['path']} answered {status}")

    def done(self) -> None:
        assert not self, f"{len(self)} problem(s):\n- " + "\n- ".join(dict.fromkeys(self))


def run_scenario(release: str, scenario: str, server: CompatServer, fake: FakeOpenAI, tmp_path: Path) -> dict[str, Any]:
    """Run ``sdk_<scenario>.py`` of ``release`` against ``server`` once per engine; its summary."""
    key = (server.dialect, release, scenario)
    if key not in _RUNS:
        venv = compat_venv(f"langfuse-{release}", RELEASES[release])
        out = tmp_path / f"{scenario}.json"
        tag = f"{release}-{server.dialect}-{uuid.uuid4().hex[:8]}"
        env = {
            "LANGFUSE_HOST": server.url,  # 3.0 reads only this one
            "LANGFUSE_BASE_URL": server.url,
            "LANGFUSE_PUBLIC_KEY": server.public_key,
            "LANGFUSE_SECRET_KEY": server.secret_key,
            "OPENAI_BASE_URL": fake.base_url,
            "OPENAI_API_KEY": "sk-fake",
            "PEER_RUN": tag,
        }
        venv.run(SCENARIOS / f"sdk_{scenario}.py", str(out), env=env, timeout=240)
        _RUNS[key] = json.loads(out.read_text())
    return _RUNS[key]


@pytest.fixture
def peer(live_server_for_compat: CompatServer, fake_openai: FakeOpenAI, tmp_path: Path) -> Any:
    def run(release: str, scenario: str) -> dict[str, Any]:
        return run_scenario(release, scenario, live_server_for_compat, fake_openai, tmp_path)

    return run


# --- traces -------------------------------------------------------------------------------------


def expected_trees(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per trace: trace attributes and {observation name: (type, parent name, fields expected)}."""
    old = not summary.get("has_observation_types")  # 3.0: no retriever or tool types yet
    decorated = {
        "pipeline": ("SPAN", None, {"input": {"args": ["What is OTel?"], "kwargs": {}}}),
        "retrieve": ("SPAN" if old else "RETRIEVER", "pipeline", {}),
        "answer": (
            "GENERATION",
            "pipeline",
            {
                "model": "gpt-4o-mini",
                "modelParameters": {"temperature": "0.2", "max_tokens": "64"},
                "usageDetails": {"input": 100, "output": 20, "total": 120},
                "costDetails": {"input": 0.001, "output": 0.002},
                "metadata": {"step": "answer"},
                "output": "Answer to What is OTel? from 2 docs",
            },
        ),
    }
    context = {
        "cm-root": ("SPAN", None, {"input": {"q": "hi"}, "output": {"answer": "hello"}, "metadata": {"origin": "cm"}}),
        "cm-generation": (
            "GENERATION",
            "cm-root",
            {
                "model": "gpt-4o",
                "usageDetails": {"prompt_tokens": 30, "completion_tokens": 10, "total": 40},
                "costDetails": {"total": 0.0042},
                "input": [{"role": "user", "content": "hi"}],
                "output": {"role": "assistant", "content": "hello"},
                "metadata": {"kind": "chat"},
            },
        ),
        "cm-event": ("EVENT", "cm-root", {"input": {"e": 1}, "output": "done"}),
    }
    if not old:
        context["cm-tool"] = ("TOOL", "cm-root", {"input": {"city": "Paris"}, "output": {"temp": 21}})
    # the drop-in sends OpenAI's usage object: its details become input_/output_ keys, taken out
    # of input and output, as the reference maps that object
    chat_usage = {"input": 32, "output": 12, "input_cached_tokens": 10, "output_reasoning_tokens": 5, "total": 59}
    openai = {
        "openai-root": ("SPAN", None, {}),
        "chat-call": (
            "GENERATION",
            "openai-root",
            {
                "model": "gpt-4o-mini",
                "input": [{"role": "user", "content": "What is 2+2?"}],
                "output": {"role": "assistant", "content": "Echo: What is 2+2?"},
                "usageDetails": chat_usage,
            },
        ),
        "stream-call": ("GENERATION", "openai-root", {"output": "Echo: Stream please", "usageDetails": chat_usage}),
    }
    if summary.get("traces_embeddings"):
        openai["embed-call"] = ("EMBEDDING", "openai-root", {"model": "text-embedding-3-small", "input": "embed me"})
    return {
        "decorated": {
            "trace": {"name": "peer-decorated", "tags": ["decorated", "peer-sdk"], "metadata": {"flow": "decorated"}},
            "totalCost": 0.003,
            "observations": decorated,
        },
        "context": {
            # the root span's metadata joins the trace's (its experiment runs read it there)
            "trace": {
                "name": "peer-context",
                "tags": ["context", "peer-sdk"],
                "metadata": {"flow": "context", "origin": "cm"},
            },
            "totalCost": 0.0042,
            "observations": context,
        },
        "openai": {"trace": {"name": "peer-openai", "tags": [], "metadata": {}}, "observations": openai},
    }


def check_observations(problems: Problems, observations: list[dict[str, Any]], tree: dict[str, Any], what: str) -> None:
    by_name = {o["name"]: o for o in observations}
    problems.equal(sorted(by_name), sorted(tree), f"{what}: observation names")
    for name, (kind, parent, fields) in tree.items():
        observation = by_name.get(name)
        if observation is None:
            continue
        problems.equal(observation["type"], kind, f"{what} {name}: type")
        parent_id = by_name[parent]["id"] if parent in by_name else None
        problems.equal(observation["parentObservationId"], parent_id, f"{what} {name}: parent")
        for field, value in fields.items():
            actual = observation.get(field)
            if field in ("input", "output") and isinstance(actual, str) and not isinstance(value, str):
                actual = json.loads(actual)  # v2 observations: input and output are the raw text sent
            if isinstance(value, dict) and field != "input" and field != "output":
                problems.contains(actual, value, f"{what} {name}: {field}")
            else:
                problems.equal(actual, value, f"{what} {name}: {field}")
    stream = by_name.get("stream-call")
    if stream is not None:
        problems.check(stream.get("completionStartTime"), f"{what} stream-call: no completionStartTime")


def check_trace(
    problems: Problems, trace: dict[str, Any], expected: dict[str, Any], summary: dict[str, Any], what: str
) -> None:
    attributes = expected["trace"]
    problems.equal(trace.get("name"), attributes["name"], f"{what}: name")
    problems.equal(sorted(trace.get("tags") or []), attributes["tags"], f"{what}: tags")
    problems.contains(trace.get("metadata"), attributes["metadata"], f"{what}: metadata")
    if "totalCost" in expected:
        problems.check(
            abs((trace.get("totalCost") or 0) - expected["totalCost"]) < 1e-9,
            f"{what}: totalCost {trace.get('totalCost')!r}, expected {expected['totalCost']}",
        )
    check_observations(problems, trace.get("observations") or [], expected["observations"], what)


def test_traces_read_back_through_the_sdk(release: str, peer: Any, live_server_for_compat: CompatServer) -> None:
    summary = peer(release, "traces")
    problems = Problems()
    problems.sdk_clean(summary)
    ids, trees = summary["ids"], expected_trees(summary)
    user, session = summary["user"], summary["session"]
    for key, expected in trees.items():
        if summary["major"] in (3, 4):  # 5.x has no trace reads
            trace = summary.get(f"trace:{key}") or {}
            check_trace(problems, trace, expected, summary, f"SDK trace.get {key}")
            problems.equal(trace.get("userId"), user, f"SDK trace.get {key}: userId")
            problems.equal(trace.get("sessionId"), session, f"SDK trace.get {key}: sessionId")
        observations = summary.get(f"observations:{key}") or []
        check_observations(problems, observations, expected["observations"], f"SDK observations {key}")
        if summary["major"] == 4:
            legacy = summary.get(f"observations_v1:{key}") or []
            check_observations(problems, legacy, expected["observations"], f"SDK observations v1 {key}")
    if summary["major"] in (3, 4):
        problems.equal(summary.get("trace_list"), ["peer-context", "peer-decorated", "peer-openai"], "trace.list")
        problems.equal(summary.get("trace_list_tags"), [ids["decorated"]], "trace.list by user and tag")
        problems.equal(summary.get("session_traces"), sorted(ids[k] for k in trees), "sessions.get traces")
    problems.equal(
        summary.get("trace_url"),
        f"{live_server_for_compat.url}/project/{live_server_for_compat.project_id}/traces/{ids['decorated']}",
        "get_trace_url",
    )
    problems.done()


def test_traces_through_our_api(release: str, peer: Any, live_server_for_compat: CompatServer) -> None:
    summary = peer(release, "traces")
    server, problems = live_server_for_compat, Problems()
    ids, trees = summary["ids"], expected_trees(summary)
    user, session = summary["user"], summary["session"]
    for key, expected in trees.items():
        trace = server.get(f"traces/{ids[key]}")
        check_trace(problems, trace, expected, summary, f"GET /traces/{key}")
        problems.equal(trace.get("userId"), user, f"GET /traces/{key}: userId")
        problems.equal(trace.get("sessionId"), session, f"GET /traces/{key}: sessionId")
        listed = server.get("observations", traceId=ids[key], limit=100)["data"]
        check_observations(problems, listed, expected["observations"], f"GET /observations {key}")
    by_session = server.get("traces", sessionId=session, limit=50)["data"]
    problems.equal(sorted(t["id"] for t in by_session), sorted(ids[k] for k in trees), "GET /traces?sessionId")
    session_detail = server.get(f"sessions/{session}")
    problems.equal(sorted(t["id"] for t in session_detail["traces"]), sorted(ids[k] for k in trees), "GET /sessions")
    problems.done()


# --- scores -------------------------------------------------------------------------------------


def expected_scores(summary: dict[str, Any]) -> dict[str, tuple[str, Any, str]]:
    """Score name -> (dataType, value, target): categorical values are their label."""
    configs = summary.get("configs") or {}
    text = {"feedback": ("TEXT", "Clear and short", "trace")} if summary.get("has_text") else {}
    return text | {
        "relevance": ("NUMERIC", 0.87, "observation"),
        "tone": ("CATEGORICAL", "friendly", "observation"),
        "latency-ok": ("BOOLEAN", 1.0, "observation"),
        "correct": ("BOOLEAN", 1.0, "trace"),
        "sentiment": ("CATEGORICAL", "positive", "trace"),
        "stars": ("NUMERIC", 4.0, "trace"),
        "hallucination": ("BOOLEAN", 0.0, "observation"),
        configs.get("numeric:name", "quality"): ("NUMERIC", 7.5, "trace"),
        configs.get("categorical:name", "verdict"): ("CATEGORICAL", "good", "trace"),
        configs.get("boolean:name", "approved"): ("BOOLEAN", 1.0, "observation"),
        "upserted": ("NUMERIC", 0.9, "trace"),
        "after-refused": ("NUMERIC", 1.0, "trace"),  # sent in one batch with a refused score
    }


def score_value(score: dict[str, Any]) -> Any:
    """What a score says, in every API generation: v1/v2 put a categorical label in stringValue
    (value is its category's number, or 0), v3 in value; booleans are 1/0 (v3: true/false)."""
    if score["dataType"] in ("CATEGORICAL", "TEXT"):
        return score["stringValue"] if score.get("stringValue") is not None else score["value"]
    if isinstance(score.get("value"), bool):
        return 1.0 if score["value"] else 0.0
    return score.get("value")


def check_scores(
    problems: Problems, scores: list[dict[str, Any]], summary: dict[str, Any], what: str, *, v3: bool = False
) -> None:
    ids, configs, expected = summary["ids"], summary.get("configs") or {}, expected_scores(summary)
    by_name: dict[str, list[dict[str, Any]]] = {}
    for score in scores:
        by_name.setdefault(score["name"], []).append(score)
    problems.equal(sorted(by_name), sorted(expected), f"{what}: score names")
    for name, (data_type, value, target) in expected.items():
        found = by_name.get(name) or []
        if not found:
            continue
        problems.equal(len(found), 1, f"{what} {name}: how many")
        score = found[0]
        problems.equal(score["dataType"], data_type, f"{what} {name}: dataType")
        problems.equal(score_value(score), value, f"{what} {name}: value")
        problems.equal(score["traceId"], ids.get("trace"), f"{what} {name}: traceId")
        observation = ids.get("generation") if target == "observation" else None
        problems.equal(score["observationId"], observation, f"{what} {name}: observationId")
        if data_type == "CATEGORICAL" and not v3:  # v1/v2: the label's category number, or 0
            number = 1.0 if name == configs.get("categorical:name") else 0.0
            problems.equal(score["value"], number, f"{what} {name}: numeric value of a categorical score")
        if data_type == "BOOLEAN" and not v3:
            label = "True" if value else "False"
            problems.equal(score.get("stringValue"), label, f"{what} {name}: stringValue of a boolean score")
    for key in ("numeric", "categorical", "boolean"):
        for score in by_name.get(configs.get(f"{key}:name", ""), []):
            problems.equal(score["configId"], configs.get(key), f"{what} {score['name']}: configId")
    for score in by_name.get("hallucination", []):
        problems.equal(score["metadata"], {"judge": "rule"}, f"{what} hallucination: metadata")
    for score in by_name.get("upserted", []):
        problems.equal(score["id"], ids.get("fixed-score"), f"{what} upserted: id")


def test_scores_read_back_through_the_sdk(release: str, peer: Any) -> None:
    summary = peer(release, "scores")
    problems = Problems()
    problems.sdk_clean(summary)
    v3 = summary["major"] == 5  # 5.x reads GET /v3/scores
    check_scores(problems, summary.get("scores:trace") or [], summary, "SDK scores by trace", v3=v3)
    if summary["major"] in (3, 4):
        check_scores(problems, summary.get("trace_scores") or [], summary, "SDK trace.get scores")
    on_observation = sorted(s["name"] for s in summary.get("scores:observation") or [])
    expected = sorted(n for n, (_, _, target) in expected_scores(summary).items() if target == "observation")
    problems.equal(on_observation, expected, "SDK scores by observation")
    session = summary.get("scores:session") or []
    problems.equal(
        [(s["name"], s["value"], s["sessionId"]) for s in session],
        [(summary["session_score"], 3.0, summary["session"])],
        "SDK scores by session",
    )
    one = summary.get("scores:by_id") or {}
    problems.equal((one.get("id"), one.get("value")), (summary["ids"].get("fixed-score"), 0.9), "SDK score by id")
    problems.done()


def test_scores_through_our_api(release: str, peer: Any, live_server_for_compat: CompatServer) -> None:
    summary = peer(release, "scores")
    server, problems = live_server_for_compat, Problems()
    ids = summary["ids"]
    check_scores(
        problems, server.get("scores", traceId=ids["trace"], limit=100)["data"], summary, "GET /scores?traceId"
    )
    check_scores(problems, server.get(f"traces/{ids['trace']}")["scores"], summary, "GET /traces/{id} scores")
    session = server.get("scores", sessionId=summary["session"], limit=100)["data"]
    problems.equal(
        [(s["name"], s["value"], s["sessionId"], s["traceId"]) for s in session],
        [(summary["session_score"], 3.0, summary["session"], None)],
        "GET /scores?sessionId",
    )
    one = server.get(f"scores/{ids['fixed-score']}")
    problems.equal((one["name"], one["value"]), ("upserted", 0.9), "GET /scores/{id}")
    for key in ("numeric", "categorical", "boolean"):
        config = server.get(f"score-configs/{summary['configs'][key]}")
        problems.equal(config["name"], summary["configs"][f"{key}:name"], f"GET /score-configs/{key}")
    problems.done()


# --- datasets -----------------------------------------------------------------------------------


def expected_items(summary: dict[str, Any], *, at_version: bool = False) -> dict[str, dict[str, Any]]:
    """Item id -> fields: now (item 1 upserted, item 3 archived: not listed), or before the changes."""
    items = summary["items"]
    first = {"input": {"question": "2+2"}, "status": "ACTIVE"}
    if at_version:
        return {
            items["item-1"]: {**first, "expectedOutput": "4", "metadata": {"level": "easy"}},
            items["item-2"]: {"input": "capital of France", "expectedOutput": "Paris", "metadata": None},
            items["item-3"]: {"input": {"question": "to archive"}, "status": "ACTIVE", "expectedOutput": None},
        }
    return {
        items["item-1"]: {**first, "expectedOutput": "four", "metadata": {"level": "easy", "revision": 2}},
        items["item-2"]: {
            "input": "capital of France",
            "expectedOutput": "Paris",
            "metadata": None,
            "status": "ACTIVE",
        },
    }


def check_items(problems: Problems, items: list[dict[str, Any]], expected: dict[str, Any], what: str) -> None:
    by_id = {item["id"]: item for item in items}
    problems.equal(sorted(by_id), sorted(expected), f"{what}: item ids")
    for item_id, fields in expected.items():
        for field, value in fields.items():
            if item_id in by_id:
                problems.equal(by_id[item_id].get(field), value, f"{what} {item_id}: {field}")


def test_datasets_read_back_through_the_sdk(release: str, peer: Any) -> None:
    summary = peer(release, "datasets")
    problems = Problems()
    problems.sdk_clean(summary)
    dataset = summary.get("dataset") or {}
    problems.equal(
        (dataset.get("description"), dataset.get("metadata")), ("peer SDK dataset", {"owner": "qa"}), "get_dataset"
    )
    check_items(problems, dataset.get("items") or [], expected_items(summary), "get_dataset")
    check_items(problems, summary.get("item_list") or [], expected_items(summary), "dataset_items.list")
    if summary["has_version"]:
        at_version = (summary.get("dataset_at_version") or {}).get("items") or []
        check_items(problems, at_version, expected_items(summary, at_version=True), "get_dataset(version=)")
    created = summary.get("created_item") or {}
    problems.equal((created.get("status"), created.get("metadata")), ("ACTIVE", None), "create_dataset_item answer")
    problems.equal((summary.get("archived_item") or {}).get("status"), "ARCHIVED", "archiving upsert answer")
    problems.equal((summary.get("item_by_id") or {}).get("expectedOutput"), "Paris", "dataset_items.get")
    problems.done()


def test_datasets_through_our_api(release: str, peer: Any, live_server_for_compat: CompatServer) -> None:
    summary = peer(release, "datasets")
    server, problems = live_server_for_compat, Problems()
    name = f"peer-dataset-{summary['items']['item-1'].removeprefix('item-1-')}"
    dataset = server.get(f"v2/datasets/{name}")
    problems.equal((dataset["description"], dataset["metadata"]), ("peer SDK dataset", {"owner": "qa"}), "GET dataset")
    listed = server.get("dataset-items", datasetName=name, limit=50)["data"]
    check_items(problems, listed, expected_items(summary), "GET /dataset-items")
    for item in listed:
        problems.equal(item.get("mediaReferences"), [], f"GET /dataset-items {item['id']}: mediaReferences")
    then = server.get("dataset-items", datasetName=name, version=summary["before_changes"], limit=50)["data"]
    check_items(problems, then, expected_items(summary, at_version=True), "GET /dataset-items?version=")
    archived = server.get(f"dataset-items/{summary['items']['item-3']}")
    problems.equal(archived["status"], "ARCHIVED", "GET /dataset-items/{archived id}: still readable by id")
    problems.done()


# --- experiment runs ----------------------------------------------------------------------------


def test_experiments_read_back_through_the_sdk(release: str, peer: Any) -> None:
    summary = peer(release, "experiments")
    problems = Problems()
    problems.sdk_clean(summary)
    items = sorted(summary.get("dataset_items") or [])
    problems.equal(len(items), 2, "get_dataset items")
    right = items[0] if items else "item-a"  # the task answers item a right, item b wrong
    if "link_traces" in summary:  # 3.x: item.run()
        run = summary.get(f"run:{summary['runs_made'][0]}") or {}
        problems.equal((run.get("description"), run.get("metadata")), ("linked by hand", {"path": "link"}), "link run")
        linked = {i["datasetItemId"]: i["traceId"] for i in run.get("items") or []}
        problems.equal(sorted(linked), items, "link run: items")
        problems.equal(sorted(linked.values()), sorted(summary["link_traces"]), "link run: traces")
        traces = summary.get(f"run_traces:{summary['runs_made'][0]}") or {}
        for item_id, trace_id in linked.items():
            trace = traces.get(trace_id) or {}
            problems.contains(trace.get("metadata"), {"dataset_item_id": item_id}, f"link run trace of {item_id}")
            exact = 1.0 if item_id == right else 0.0
            problems.equal(
                [s[:2] for s in trace.get("scores") or []], [["exact_match", exact]], f"link trace {item_id}"
            )
    experiment = summary.get("experiment")
    if experiment is None and summary["major"] == 3 and summary["minor"] == 0:
        problems.equal(summary.get("runs"), summary["runs_made"], "get_runs")
        problems.done()
        return
    experiment = experiment or {"items": []}
    outputs = sorted(i["output"] for i in experiment["items"])
    problems.equal(outputs, ["4", "Lyon"], "run_experiment: item outputs")
    problems.equal(experiment.get("run_evaluations"), [["accuracy", 0.5]], "run_experiment: run evaluation")
    traces = sorted(i["trace_id"] for i in experiment["items"])
    if summary["major"] in (3, 4):
        problems.check(experiment.get("dataset_run_id"), "run_experiment: no dataset_run_id")
        run_name = summary["runs_made"][-1]
        run = summary.get(f"run:{run_name}") or {}
        problems.equal(run.get("id"), experiment.get("dataset_run_id"), "dataset run id")
        problems.equal(run.get("metadata"), {"model": "fake"}, "dataset run metadata")
        linked = {i["datasetItemId"]: i["traceId"] for i in run.get("items") or []}
        problems.equal(sorted(linked), items, "dataset run items")
        problems.equal(sorted(linked.values()), traces, "dataset run item traces")
        for item_id, trace_id in linked.items():
            trace = (summary.get(f"run_traces:{run_name}") or {}).get(trace_id) or {}
            expected_metadata = {"experiment_name": "peer-experiment", "dataset_item_id": item_id}
            problems.contains(trace.get("metadata"), expected_metadata, f"experiment trace of {item_id}: metadata")
            grade = "pass" if item_id == right else "fail"
            names = {s[0]: (s[1], s[2]) for s in trace.get("scores") or []}
            problems.equal(names.get("grade", (None, None))[1], grade, f"experiment trace of {item_id}: grade")
            problems.equal(names.get("exact_match", (None,))[0], 1.0 if grade == "pass" else 0.0, f"exact of {item_id}")
        problems.equal(sorted(summary.get("runs") or []), sorted(summary["runs_made"]), "get_dataset_runs")
        problems.equal([s[:2] for s in summary.get("run_scores") or []], [["accuracy", 0.5]], "scores of the run")
    else:
        found = {e["id"]: e for e in summary.get("experiments") or []}
        mine = found.get(experiment.get("experiment_id")) or {}
        problems.equal((mine.get("itemCount"), mine.get("name")), (2, summary["runs_made"][-1]), "experiments.list")
        listed = summary.get("experiment_items") or []
        problems.equal(sorted(i["traceId"] for i in listed), traces, "experiments.list_items: traces")
        problems.equal(sorted(i["experimentItemId"] for i in listed), items, "experiments.list_items: item ids")
        problems.equal([s[:2] for s in summary.get("run_scores") or []], [["accuracy", 0.5]], "scores of the run")
        for trace_id, scores in (summary.get("item_scores") or {}).items():
            problems.equal(sorted(s[0] for s in scores), ["answered", "exact_match", "grade"], f"scores {trace_id}")
    problems.done()


def test_experiments_through_our_api(release: str, peer: Any, live_server_for_compat: CompatServer) -> None:
    summary = peer(release, "experiments")
    server, problems = live_server_for_compat, Problems()
    items = sorted(summary.get("dataset_items") or [])
    tag = summary["runs_made"][0].split("-run-", 1)[1]
    dataset = f"peer-experiments-{tag}"
    runs = {r["name"]: r for r in server.get(f"datasets/{dataset}/runs", limit=50)["data"]}
    problems.equal(sorted(runs), sorted(summary["runs_made"]), "GET /datasets/{name}/runs")
    for run_name in summary["runs_made"]:
        run = server.get(f"datasets/{dataset}/runs/{run_name}")
        linked = {i["datasetItemId"]: i["traceId"] for i in run["datasetRunItems"]}
        problems.equal(sorted(linked), items, f"GET run {run_name}: items")
        for item_id, trace_id in linked.items():
            trace = server.get(f"traces/{trace_id}")
            problems.check(trace["observations"], f"run {run_name}: trace of {item_id} has no observations")
            problems.check(trace["scores"], f"run {run_name}: trace of {item_id} has no scores")
    experiment = summary.get("experiment")
    if experiment is not None:
        run = runs.get(summary["runs_made"][-1]) or {}
        expected_id = experiment.get("dataset_run_id") or experiment.get("experiment_id")
        problems.equal(run.get("id"), expected_id, "the experiment's run id")
        scores = server.get("scores", datasetRunId=expected_id, limit=50)["data"] if expected_id else []
        problems.equal([(s["name"], s["value"]) for s in scores], [("accuracy", 0.5)], "GET /scores?datasetRunId")
        url = experiment.get("url")  # the link the SDK prints: a page of ours (sign-in first), not a 404
        problems.check(url, "run_experiment gave no link to its results")
        if url:
            opened = httpx.get(url, follow_redirects=False)
            problems.equal((opened.status_code, "/login" in opened.headers.get("location", "")), (303, True), url)
        local = summary.get("local_experiment") or {"items": []}
        for item in local["items"]:
            trace = server.get(f"traces/{item['trace_id']}")
            problems.equal([s["name"] for s in trace["scores"]], ["exact_match"], "local experiment trace scores")
    problems.done()
