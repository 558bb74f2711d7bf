"""The demo data: `interactiveai server --demo` twice loads it once, spread over the past 7 days.

A real server subprocess on a SQLite file, started twice on the same data dir as
`scripts/demo-server` does; the counts are read from that file.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from interactiveai.server.demo import load_demo
from tests.support.live_server import PUBLIC_KEY, SECRET_KEY
from tests.support.postgres import free_port

TABLES = ("traces", "observations", "scores", "score_configs", "datasets", "dataset_items", "dataset_run_items")


@contextmanager
def _demo_server(data_dir: Path) -> Iterator[tuple[str, str]]:
    """``interactiveai server --demo`` until its demo line; yields the URL and that line."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERACTIVEAI_")}
    env.update(
        INTERACTIVEAI_INIT_PROJECT_ID="demo",
        INTERACTIVEAI_INIT_PROJECT_PUBLIC_KEY=PUBLIC_KEY,
        INTERACTIVEAI_INIT_PROJECT_SECRET_KEY=SECRET_KEY,
    )
    log = data_dir / f"server-{port}.log"
    with log.open("w") as out:
        command = ["-m", "interactiveai", "server", "--port", str(port), "--data-dir", str(data_dir), "--demo"]
        process = subprocess.Popen([sys.executable, *command], stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 90
        while not (lines := [line for line in log.read_text().splitlines() if line.startswith("demo:")]):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", lines[0]
    finally:
        process.terminate()
        process.wait(timeout=15)


def _counts(data_dir: Path) -> dict[str, int]:
    engine = sa.create_engine(f"sqlite:///{data_dir / 'interactiveai.db'}")
    try:
        with engine.connect() as conn:
            return {table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() for table in TABLES}
    finally:
        engine.dispose()


def _all_traces(api: httpx.Client) -> list[dict[str, Any]]:
    traces: list[dict[str, Any]] = []
    for page in range(1, 10):
        params = {"limit": 100, "page": page, "fields": "core,scores,metrics"}
        body = api.get("/api/public/traces", params=params).json()
        traces += body["data"]
        if page >= body["meta"]["totalPages"]:
            return traces
    raise AssertionError("more demo traces than expected")


@dataclass
class DemoTwice:
    data_dir: Path
    url: str  # the second server, still running
    first_line: str
    second_line: str
    first_counts: dict[str, int]


@pytest.fixture(scope="module")
def demo_twice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTwice]:
    """Two `server --demo` starts on one data dir, as two runs of scripts/demo-server."""
    data_dir = tmp_path_factory.mktemp("demo")
    with _demo_server(data_dir) as (_, first_line):
        first = _counts(data_dir)
    with _demo_server(data_dir) as (url, second_line):
        yield DemoTwice(data_dir, url, first_line, second_line, first)


def test_the_demo_spans_the_past_week_with_variety(demo_twice: DemoTwice) -> None:
    now = dt.datetime.now(dt.UTC)
    with httpx.Client(base_url=demo_twice.url, auth=(PUBLIC_KEY, SECRET_KEY), timeout=30) as api:
        traces = _all_traces(api)
        times = [dt.datetime.fromisoformat(t["timestamp"].replace("Z", "+00:00")) for t in traces]
        assert now - dt.timedelta(days=7, minutes=5) <= min(times) <= now - dt.timedelta(days=6)
        assert max(times) <= now and any(now - t < dt.timedelta(hours=1) for t in times)
        assert len({t.date() for t in times}) >= 7 and len({t.hour for t in times}) >= 16
        for day in range(7):  # every day of the week has traces, so every chart has a shape
            assert any(now - dt.timedelta(days=day + 1) <= t < now - dt.timedelta(days=day) for t in times)
        names = Counter(t["name"] for t in traces)
        assert set(names) == {"support-chat", "summarize-ticket", "index-documents", "support-eval"}
        assert {t["environment"] for t in traces} == {"production", "staging", "development"}
        assert {"v1.4.1", "v1.4.2"} <= {t["release"] for t in traces}
        assert len({t["userId"] for t in traces if t["userId"]}) >= 7
        sessions = Counter(t["sessionId"] for t in traces if t["sessionId"])
        assert len(sessions) >= 30 and max(sessions.values()) >= 3
        latencies = sorted(t["latency"] for t in traces if t["name"] == "support-chat")
        assert latencies[len(latencies) // 2] < latencies[int(len(latencies) * 0.95)]  # percentiles differ
        levels = {level for t in traces for level, n in t["levelCounts"].items() if n}
        assert {"DEBUG", "DEFAULT", "WARNING", "ERROR"} <= levels

        configs = {c["name"]: c for c in api.get("/api/public/score-configs").json()["data"]}
        assert {c["dataType"] for c in configs.values()} == {"NUMERIC", "BOOLEAN", "CATEGORICAL"}
        scores = api.get("/api/public/scores", params={"limit": 100}).json()["data"]
        assert {s["dataType"] for s in scores} == {"NUMERIC", "BOOLEAN", "CATEGORICAL"}
        assert all(s["configId"] == configs[s["name"]]["id"] for s in scores)

        dataset = api.get("/api/public/datasets/support-questions").json()
        assert len(dataset["items"]) == 8 and sorted(dataset["runs"]) == ["prompt-v1", "prompt-v2"]
        run = api.get("/api/public/datasets/support-questions/runs/prompt-v2").json()
        linked = {item["traceId"] for item in run["datasetRunItems"]}
        assert len(linked) == 8 and linked <= {t["id"] for t in traces if t["name"] == "support-eval"}


def test_starting_the_demo_twice_loads_it_once(demo_twice: DemoTwice) -> None:
    first = demo_twice.first_counts
    assert demo_twice.first_line.startswith("demo: loaded ")
    assert first["traces"] == int(demo_twice.first_line.split()[2]) >= 100
    assert first["dataset_run_items"] == 16 and first["score_configs"] == 4
    assert demo_twice.second_line.startswith("demo: already loaded")
    assert _counts(demo_twice.data_dir) == first
    # Even sent again in full at another time of day (ids come from fixed seeds, not from the time; the
    # spread test above runs first), nothing is added.
    other_time = dt.datetime.now(dt.UTC) - dt.timedelta(hours=5, minutes=17)
    assert load_demo(demo_twice.url, PUBLIC_KEY, SECRET_KEY, force=True, now=other_time) == first["traces"]
    assert _counts(demo_twice.data_dir) == first
