"""Benchmark: the trace list page on a large project (server time of the HTML page and its JSON twin).

Fills a database with N traces over 30 days (payloads of ~2 KB, tags, users, sessions, metadata)
and times first pages with the default 7-day window, with filters, sorted by cost, with a
full-text search, and a deep keyset page, through the ASGI app with a logged-in session.

    .venv/bin/python benchmarks/ui_trace_list.py [--traces 200000] [--runs 15] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa".split()


def build(engine: Any, n: int) -> None:
    from interactiveai.server.clock import now_us
    from interactiveai.server.storage.schema import trace_tags, traces
    from interactiveai.server.tenancy import add_membership, create_project, create_user

    create_project(engine, "Bench", "proj-bench")
    add_membership(engine, create_user(engine, "bench@example.com", "bench password"), "proj-bench")
    rnd = random.Random(7)
    now = now_us()
    span = 30 * 86400 * 1_000_000
    batch: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    for i in range(n):
        ts = now - int(span * i / n)
        tags = sorted(rnd.sample(["prod", "rag", "v2", "beta", "eval"], rnd.randint(0, 2)))
        question = " ".join(rnd.choices(WORDS, k=12))
        level = rnd.choices(["DEFAULT", "WARNING", "ERROR"], [90, 7, 3])[0]
        batch.append(
            {
                "project_id": "proj-bench",
                "id": f"{i:032x}",
                "timestamp_us": ts,
                "end_time_us": ts + rnd.randint(100_000, 9_000_000),
                "name": rnd.choice(["qa-pipeline", "support-bot", "translate", "summarise", "agent-run"]),
                "user_id": f"user-{rnd.randint(1, 5000)}",
                "session_id": f"session-{i // 5}",
                "environment": rnd.choice(["production", "staging"]),
                "release": "2026.11",
                "version": "v3",
                "tags": json.dumps(tags),
                "metadata": json.dumps({"customer": f"c{rnd.randint(1, 300)}", "plan": rnd.choice(["free", "pro"])}),
                "input": json.dumps({"messages": [{"role": "user", "content": question + " lorem ipsum " * 80}]}),
                "output": json.dumps({"role": "assistant", "content": "answer " + " ".join(rnd.choices(WORDS, k=150))}),
                "latency_us": rnd.randint(100_000, 9_000_000),
                "observation_count": 6,
                "level": level,
                "default_count": 5,
                "warning_count": 1 if level == "WARNING" else 0,
                "error_count": 1 if level == "ERROR" else 0,
                "input_tokens": 400,
                "output_tokens": 120,
                "total_tokens": 520,
                "input_cost": 0.00006,
                "output_cost": rnd.random() * 0.001,
                "total_cost": 0.00006 + rnd.random() * 0.001,
                "created_at_us": ts,
                "updated_at_us": ts,
            }
        )
        tag_rows += [
            {"project_id": "proj-bench", "tag": t, "trace_created_at_us": ts, "trace_id": f"{i:032x}"} for t in tags
        ]
        if len(batch) == 5000:
            _flush(engine, traces, trace_tags, batch, tag_rows)
    _flush(engine, traces, trace_tags, batch, tag_rows)


def _flush(engine: Any, traces: Any, trace_tags: Any, batch: list[Any], tag_rows: list[Any]) -> None:
    if batch:
        with engine.begin() as conn:
            conn.execute(insert(traces), batch)
            if tag_rows:
                conn.execute(insert(trace_tags), tag_rows)
    batch.clear()
    tag_rows.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from interactiveai.server.app import create_app
    from interactiveai.server.settings import load_settings
    from interactiveai.server.storage import migrate
    from interactiveai.server.storage.engines import create_db_engine

    data_dir = Path(tempfile.mkdtemp(prefix="ia-ui-list-bench-"))
    url = args.database_url or f"sqlite:///{data_dir / 'bench.db'}"
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    started = time.perf_counter()
    build(engine, args.traces)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    print(f"{engine.dialect.name}: {args.traces:,} traces loaded in {time.perf_counter() - started:.0f}s")
    app = create_app(load_settings(data_dir=data_dir, database_url=url), engine=engine, first_start=False)
    base = "/project/proj-bench/traces"
    cases = {
        "first page, last 7 days": "",
        "all time": "?range=all",
        "env + tag + level filters": "?env=production&tag=rag&level=WARNING",
        "one user, all time": "?range=all&user=user-42",
        "metadata customer=c7": "?meta=customer%3Dc7",
        "latency ≥ 8 s, cost ≤ $0.0005": "?lat_min=8&cost_max=0.0005",
        "sorted by cost": "?sort=cost",
        "full-text search (2 words)": "?q=bravo+kilo",
    }
    with TestClient(app) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token is not None
        client.post("/login", data={"email": "bench@example.com", "password": "bench password", "csrf_token": token[1]})
        deep = client.get(base + ".json?limit=50").json()
        for _ in range(20):  # walk 20 pages forward for a deep keyset cursor (fewer at a smoke-test size)
            if not deep["meta"]["nextCursor"]:
                break
            deep = client.get(base + ".json?limit=50&cursor=" + deep["meta"]["nextCursor"]).json()
        if deep["meta"]["nextCursor"]:
            cases["keyset page 21"] = "?cursor=" + deep["meta"]["nextCursor"]
        print(f"{'case':34} {'JSON median':>12} {'p95':>8} {'HTML median':>12} {'rows':>5}")
        for label, query in cases.items():
            json_times, html_times = [], []
            rows = 0
            for _ in range(args.runs):
                t0 = time.perf_counter()
                response = client.get(base + ".json" + query)
                json_times.append((time.perf_counter() - t0) * 1000)
                rows = len(response.json()["data"])
                t0 = time.perf_counter()
                client.get(base + query)
                html_times.append((time.perf_counter() - t0) * 1000)
            json_times.sort()
            p95 = json_times[int(len(json_times) * 0.95) - 1]
            print(
                f"{label:34} {statistics.median(json_times):10.1f}ms {p95:6.1f}ms "
                f"{statistics.median(html_times):10.1f}ms {rows:5}"
            )
    engine.dispose()


if __name__ == "__main__":
    main()
