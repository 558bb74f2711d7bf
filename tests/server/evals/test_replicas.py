"""Two servers on one PostgreSQL database, each with its evaluation worker: every trace is
judged and scored once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from interactiveai.server.storage import migrate
from interactiveai.server.storage.engines import create_db_engine
from tests.conftest import _make_project
from tests.server.evals.conftest import create_evaluator, eval_scores, jobs_of, make_app, send_span, wait_for
from tests.server.evals.fake_judge import FakeJudge
from tests.support.postgres import create_database

TRACES = 12


@pytest.mark.postgres
def test_two_workers_on_one_postgresql_score_each_trace_once(
    postgres_server_url: str, judge: FakeJudge, tmp_path: Path
) -> None:
    judge.delay_seconds = 0.05  # calls overlap: both workers are busy at once
    url = create_database(postgres_server_url)
    engine = create_db_engine(url, pool_size=5)
    migrate.upgrade(engine)
    project = _make_project(engine, "proj-a")
    second_engine = create_db_engine(url, pool_size=5)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    try:
        with (
            TestClient(make_app(engine, tmp_path / "a", eval_concurrency=3)) as first,
            TestClient(make_app(second_engine, tmp_path / "b", eval_concurrency=3)) as second,
        ):
            evaluator = create_evaluator(first, project, judge, filter=[], delaySeconds=0.1)
            traces = [os.urandom(16).hex() for _ in range(TRACES)]
            for number, trace_id in enumerate(traces):
                send_span(first if number % 2 else second, project, trace_id, os.urandom(8).hex())
            wait_for(
                lambda: len(jobs_of(second, project, evaluator["id"], "done")) == TRACES,
                timeout=60,
                what="every trace evaluated",
            )
            jobs = jobs_of(first, project, evaluator["id"])
            assert sorted(j["traceId"] for j in jobs) == sorted(traces)
            assert {j["attempts"] for j in jobs} == {1}
            assert len(judge.requests) == TRACES  # no trace was judged twice
            for trace_id in traces:
                assert len(eval_scores(first, project, trace_id)) == 1
    finally:
        second_engine.dispose()
        engine.dispose()
