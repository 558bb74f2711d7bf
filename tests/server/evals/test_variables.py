"""Variables of a trace evaluator read fields of the trace and of its observations by name and
type; a BOOLEAN verdict is stored as the peer stores one. Both engines."""

from __future__ import annotations

import os
from typing import Any

from tests.conftest import Project
from tests.server.evals.conftest import create_evaluator, eval_scores, jobs_of, send_span, wait_for
from tests.server.evals.fake_judge import FakeJudge

PROMPT = "Q: {{input}}\nContext: {{context}}\nModel said: {{draft}} ({{model_type}})\nA: {{output}}"
MAPPING = {
    "context": {"source": "observation", "field": "output", "observationName": "retrieve"},
    "draft": {"source": "observation", "field": "output", "observationType": "GENERATION"},
    "model_type": {"source": "observation", "field": "type", "observationName": "llm", "observationType": "GENERATION"},
}


def test_a_trace_evaluator_reads_its_named_observations(fast_client: Any, project: Project, judge: FakeJudge) -> None:
    judge.verdict = {"score": "yes", "reasoning": "Grounded in the context."}
    evaluator = create_evaluator(
        fast_client,
        project,
        judge,
        prompt=PROMPT,
        variableMapping=MAPPING,
        score={"name": "grounded", "dataType": "BOOLEAN"},
        filter=[],
    )
    trace_id, root = os.urandom(16).hex(), os.urandom(8).hex()
    send_span(
        fast_client, project, trace_id, os.urandom(8).hex(), parent=root, name="retrieve", output="Paris is in France"
    )
    send_span(
        fast_client,
        project,
        trace_id,
        os.urandom(8).hex(),
        parent=root,
        name="llm",
        output="Paris",
        span_type="generation",
    )
    send_span(fast_client, project, trace_id, root, name="qa", input="Where is Paris?", output="In France")
    [job] = wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "done"), what="the evaluation")
    assert judge.prompts() == [
        "Q: Where is Paris?\nContext: Paris is in France\nModel said: Paris (GENERATION)\nA: In France"
    ]
    [score] = eval_scores(fast_client, project, trace_id)
    assert score["observationId"] is None and job["observationId"] is None  # a score of the trace
    assert (score["dataType"], score["value"], score["stringValue"]) == ("BOOLEAN", 1, "True")
    assert score["comment"] == "Grounded in the context."


def test_a_trace_without_the_named_observation_fails_saying_so(
    fast_client: Any, project: Project, judge: FakeJudge
) -> None:
    evaluator = create_evaluator(fast_client, project, judge, prompt=PROMPT, variableMapping=MAPPING, filter=[])
    send_span(fast_client, project, os.urandom(16).hex(), os.urandom(8).hex(), name="qa")
    [job] = wait_for(lambda: jobs_of(fast_client, project, evaluator["id"], "failed"), what="the failed evaluation")
    assert "no observation" in job["error"] and job["attempts"] == 1
    assert judge.requests == []


def test_an_observation_variable_of_a_trace_evaluator_names_its_observation(
    fast_client: Any, project: Project, judge: FakeJudge
) -> None:
    connection = create_evaluator(fast_client, project, judge)["connectionId"]
    body = {
        "name": "unnamed",
        "connectionId": connection,
        "prompt": "{{draft}}",
        "score": {"name": "s", "dataType": "NUMERIC"},
        "variableMapping": {"draft": {"source": "observation", "field": "output"}},
    }
    refused = fast_client.post("/api/public/evaluators", json=body, headers=project.headers)
    assert refused.status_code == 400 and "observationName" in refused.text
    body["variableMapping"] = {"draft": {"source": "trace", "field": "output", "observationName": "llm"}}
    refused = fast_client.post("/api/public/evaluators", json=body, headers=project.headers)
    assert refused.status_code == 400 and "source 'observation' only" in refused.text
    body["variableMapping"] = {"draft": {"source": "observation", "field": "output", "observationName": "llm"}}
    created = fast_client.post("/api/public/evaluators", json=body, headers=project.headers)
    assert created.status_code == 200, created.text
    assert created.json()["variableMapping"] == body["variableMapping"]
