"""Benchmark: the trace detail page of a 10,000-observation trace (server time and page weight).

Builds a SQLite (or ``--database-url`` PostgreSQL) database with one trace of N observations
(a realistic tree: an agent, nested chains, generations with chat payloads of ~1 KB each), then
times, in-process through the ASGI app with a logged-in session:

- the JSON twin ``/project/{pid}/traces/{id}.json`` (what the page renders the tree from),
- the HTML page (the same data embedded, plus the header),
- one observation's payload ``…/observations/{oid}.json`` (fetched on selection),
- the query layer's ``get_trace_detail`` for comparison (every observation with its payloads).

It prints medians and p95 of ``--runs`` requests, and the bytes sent (raw and gzip).
``--comments N`` adds N comments to the trace and its observations (which the page reads with it),
and ten times as many on other objects of the project, which it must not read.

    .venv/bin/python benchmarks/ui_trace_detail.py [--observations 10000] [--runs 20] [--comments 0]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build(engine: Any, n: int) -> tuple[str, str]:
    from interactiveai.server.clock import now_us
    from interactiveai.server.storage.schema import observations, traces
    from interactiveai.server.tenancy import add_membership, create_project, create_user

    create_project(engine, "Bench", "proj-bench")
    add_membership(engine, create_user(engine, "bench@example.com", "bench password"), "proj-bench")
    trace_id = "b" * 32
    base = now_us() - 60_000_000
    messages = json.dumps(
        [
            {"role": "system", "content": "You are a careful assistant. " * 10},
            {"role": "user", "content": "Summarise the following document: " + "lorem ipsum " * 50},
        ]
    )
    answer = json.dumps({"role": "assistant", "content": "Here is the summary. " * 20})
    rows = []
    for k in range(n):
        parent = None if k == 0 else f"{(k - 1) // 8:016x}"
        generation = k % 3 == 2
        rows.append(
            {
                "project_id": "proj-bench",
                "trace_id": trace_id,
                "id": f"{k:016x}",
                "parent_observation_id": parent,
                "type": "GENERATION" if generation else ("AGENT" if k == 0 else "CHAIN"),
                "name": f"step-{k}",
                "start_time_us": base + k * 500,
                "end_time_us": base + k * 500 + 20_000,
                "completion_start_time_us": base + k * 500 + 5_000 if generation else None,
                "level": "DEFAULT",
                "environment": "default",
                "input": messages if generation else json.dumps({"k": k, "query": "lorem ipsum " * 20}),
                "output": answer if generation else json.dumps({"ok": True, "items": list(range(20))}),
                "metadata": json.dumps({"step": k}),
                "model": "gpt-4o-mini" if generation else None,
                "usage_details": json.dumps({"input": 300, "output": 120} if generation else {}),
                "cost_details": json.dumps({"input": 0.000045, "output": 0.000072} if generation else {}),
                "input_tokens": 300 if generation else 0,
                "output_tokens": 120 if generation else 0,
                "total_tokens": 420 if generation else 0,
                "total_cost": 0.000117 if generation else None,
                "created_at_us": base,
                "trace_created_at_us": base,
            }
        )
    end = base + (n - 1) * 500 + 20_000
    with engine.begin() as conn:
        conn.execute(
            insert(traces).values(
                project_id="proj-bench",
                id=trace_id,
                timestamp_us=base,
                end_time_us=end,
                name="bench",
                latency_us=end - base,
                observation_count=n,
                default_count=n,
                level="DEFAULT",
                created_at_us=base,
                updated_at_us=base,
            )
        )
        for start in range(0, n, 2000):
            conn.execute(insert(observations), rows[start : start + 2000])
    return trace_id, f"{n // 2:016x}"


def add_comments(engine: Any, trace_id: str, observation_count: int, count: int) -> None:
    """``count`` comments on the trace and every k-th observation; ten times as many elsewhere."""
    from interactiveai.server.clock import now_us
    from interactiveai.server.storage.review_schema import comments

    now = now_us()
    step = max(1, observation_count // max(count, 1))
    rows = []
    for k in range(count * 11):
        mine = k < count
        object_type = "TRACE" if mine and k % 10 == 0 else "OBSERVATION"
        object_id = trace_id if object_type == "TRACE" else f"{(k * step) % observation_count:016x}"
        if not mine:  # another trace's, or an observation id no trace of this one has
            object_id = f"{k:032x}" if k % 2 else f"f{k:015x}"
        rows.append(
            {
                "project_id": "proj-bench",
                "id": f"c-{k}",
                "object_type": object_type,
                "object_id": object_id,
                "content": "Looks wrong: the answer cites the wrong document.\nSee step 3. " * 3,
                "author_user_id": None,
                "created_at_us": now + k,
                "updated_at_us": now + k,
            }
        )
    with engine.begin() as conn:
        for start in range(0, len(rows), 2000):
            conn.execute(insert(comments), rows[start : start + 2000])


def timed(fn: Any, runs: int) -> tuple[float, float, float, Any]:
    """Fastest, median and p95 of ``runs`` calls in ms (the fastest is the least disturbed by a busy
    machine), and the last result."""
    samples = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return samples[0], statistics.median(samples), samples[int(len(samples) * 0.95) - 1], result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--comments", type=int, default=0, help="comments on the trace and its observations")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from interactiveai.server.app import create_app
    from interactiveai.server.query.traces import get_trace_detail
    from interactiveai.server.settings import load_settings
    from interactiveai.server.storage import migrate
    from interactiveai.server.storage.engines import create_db_engine

    data_dir = Path(tempfile.mkdtemp(prefix="ia-ui-bench-"))
    url = args.database_url or f"sqlite:///{data_dir / 'bench.db'}"
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    trace_id, middle = build(engine, args.observations)
    add_comments(engine, trace_id, args.observations, args.comments)
    app = create_app(load_settings(data_dir=data_dir, database_url=url), engine=engine, first_start=False)
    base = f"/project/proj-bench/traces/{trace_id}"
    with TestClient(app) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token is not None
        client.post("/login", data={"email": "bench@example.com", "password": "bench password", "csrf_token": token[1]})
        for _ in range(2):  # warm caches
            client.get(base + ".json")
        results = {
            "JSON twin (tree data)": timed(lambda: client.get(base + ".json"), args.runs),
            "HTML page (data embedded)": timed(lambda: client.get(base), args.runs),
            "one observation's payload": timed(lambda: client.get(f"{base}/observations/{middle}.json"), args.runs),
        }
        detail = timed(lambda: get_trace_detail(engine, "proj-bench", trace_id), max(3, args.runs // 4))
        names = ("app.css", "comments.css", "common.js", "render.js", "trace-nav.js", "trace.js")
        static = sum(len(client.get(f"/static/{name}").content) for name in names)
    print(f"{engine.dialect.name}, {args.observations:,} observations, {args.comments:,} comments, {args.runs} runs")
    print(f"{'what':32} {'fastest':>9} {'median':>9} {'p95':>9} {'bytes':>11} {'gzip':>10}")
    for label, (fastest, median, p95, response) in results.items():
        body = response.content
        sizes = f"{len(body):11,} {len(gzip.compress(body)):10,}"
        print(f"{label:32} {fastest:7.1f}ms {median:7.1f}ms {p95:7.1f}ms {sizes}")
    fastest, median, p95, _ = detail
    print(f"{'query layer get_trace_detail':32} {fastest:7.1f}ms {median:7.1f}ms {p95:7.1f}ms (all payloads)")
    print(f"static JS+CSS: {static:,} bytes (cached after the first page)")
    engine.dispose()


if __name__ == "__main__":
    main()
