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


@pytest.mark.postgres
def test_replicas_claiming_at_once_take_disjoint_jobs(postgres_server_url: str) -> None:
    """Four engines (four replicas' pools) claim the same due jobs in the same instant."""
    import threading

    from sqlalchemy import insert

    from interactiveai.server.clock import now_us
    from interactiveai.server.evals import jobs
    from interactiveai.server.storage.eval_schema import evaluator_jobs, evaluators, llm_connections

    url = create_database(postgres_server_url)
    engines = [create_db_engine(url, pool_size=2) for _ in range(4)]
    migrate.upgrade(engines[0])
    project = _make_project(engines[0], "proj-a")
    now = now_us()
    row = {"project_id": project.id, "created_at_us": now, "updated_at_us": now}
    with engines[0].begin() as conn:
        conn.execute(insert(llm_connections).values(id="c", name="c", base_url="http://127.0.0.1:9", model="m", **row))
        conn.execute(
            insert(evaluators).values(
                id="e", name="e", connection_id="c", prompt="{{input}}", score_name="s", score_data_type="NUMERIC",
                delay_ms=0, scan_created_us=now, **row,
            )
        )  # fmt: skip
        conn.execute(
            insert(evaluator_jobs),
            [
                {"id": f"j{n}", "evaluator_id": "e", "trace_id": f"t{n}", "status": "pending", "next_attempt_us": 0,
                 **row}
                for n in range(40)
            ],
        )  # fmt: skip
    start = threading.Barrier(len(engines))
    taken: list[list[str]] = [[] for _ in engines]

    def replica(number: int) -> None:
        start.wait()
        while claimed := jobs.claim(engines[number], 3, now_us(), 60_000_000, 3):
            taken[number].extend(job.id for job in claimed)

    threads = [threading.Thread(target=replica, args=(n,)) for n in range(len(engines))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        every = [job for mine in taken for job in mine]
        assert sorted(every) == sorted(f"j{n}" for n in range(40))  # each job claimed by exactly one replica
    finally:
        for engine in engines:
            engine.dispose()
