"""Benchmark: the dashboard (cold) and the metrics endpoints on a seeded database.

Reads a database filled by benchmarks/seed.py (or any seeded one): ``--db PATH`` opens a SQLite
file read-only (nothing is migrated or written), ``--database-url`` a PostgreSQL one. Every call
goes through the real app in process (an ASGI client; the project's API key for the public API,
the benchmark's UI user for the dashboard's JSON, as benchmarks/api_lists.py does).

Cases, each over the last 24 hours, 7 days and 30 days (windows ending now, as users ask):

- the dashboard's JSON **cold**: the app's dashboard cache is emptied before every call, so each
  one computes every tile and chart (the first load of a range a user sees);
- ``GET /api/public/metrics/daily`` (its default page of 50 days);
- ``GET /api/public/metrics`` queries a user of the peer's API sends: trace count per hour,
  cost and p95 latency per model (observations), tokens per trace name.

The figures are p50 and p95 of ``--runs`` calls after one warm-up (which warms the database's
pages, not the dashboard cache). The baseline measured in the same run is the same dashboard
bundle computed by exact scans of the rows (``query/metrics_exact.py``), once per window
(``--no-baseline`` skips it: tens of seconds at 1 M traces).

    .venv/bin/python benchmarks/aggregates.py --db /work/bench-data/sqlite-1m/interactiveai.db \
        --project bench --public-key pk-bench --secret-key sk-…
    .venv/bin/python benchmarks/aggregates.py --database-url postgresql+psycopg://… --project bench …
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from api_lists import iso  # noqa: E402
from sqlalchemy import Engine, select  # noqa: E402

TARGET_MS = 300.0
WINDOWS = {"24h": 24 * 3600, "7d": 7 * 86400, "30d": 30 * 86400}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, round(len(ordered) * 0.95) - 1)]


def timed(call: Callable[[], Any], runs: int, before: Callable[[], None] = lambda: None) -> tuple[float, float]:
    """p50 and p95 (ms) of ``runs`` calls after a warm-up; ``before`` runs untimed before each."""
    before()
    call()
    samples = []
    for _ in range(runs):
        before()
        began = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (response.status_code, response.text[:300])
    return percentiles(samples)


def read_ui_as_member(app: Any, engine: Engine, project: str) -> None:
    """UI requests run as a member of the project (a login would write a session row)."""
    from interactiveai.server.storage.schema import memberships, users
    from interactiveai.server.ui.auth import User

    query = select(users).join(memberships, memberships.c.user_id == users.c.id)
    with engine.connect() as conn:
        row = conn.execute(query.where(memberships.c.project_id == project).limit(1)).mappings().one()
    user = User(row["id"], row["email"], row["name"], bool(row["is_admin"]), "")

    @app.middleware("http")
    async def as_member(request: Any, call_next: Any) -> Any:
        request.state.ui_user = user
        return await call_next(request)


def metrics_queries(from_iso: str, to_iso: str) -> dict[str, dict[str, Any]]:
    window = {"fromTimestamp": from_iso, "toTimestamp": to_iso}
    return {
        "traces per hour": {
            "view": "traces",
            "metrics": [{"measure": "count", "aggregation": "count"}],
            "timeDimension": {"granularity": "hour"},
            **window,
        },
        "cost + p95 latency by model": {
            "view": "observations",
            "dimensions": [{"field": "providedModelName"}],
            "metrics": [{"measure": "totalCost", "aggregation": "sum"}, {"measure": "latency", "aggregation": "p95"}],
            **window,
        },
        "tokens by trace name": {
            "view": "traces",
            "dimensions": [{"field": "name"}],
            "metrics": [{"measure": "totalTokens", "aggregation": "sum"}],
            **window,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="SQLite file, opened read-only")
    parser.add_argument("--database-url", help="PostgreSQL URL instead of --db")
    parser.add_argument("--project", default="bench")
    parser.add_argument("--public-key", default="pk-bench")
    parser.add_argument("--secret-key", required=True)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-baseline", action="store_true", help="skip the exact scans")
    parser.add_argument("--skip", action="append", default=[], help="skip the cases whose label contains this")
    args = parser.parse_args()
    if bool(args.db) == bool(args.database_url):
        parser.error("give --db or --database-url")

    from fastapi.testclient import TestClient

    from interactiveai.server.app import create_app
    from interactiveai.server.clock import now_us
    from interactiveai.server.query import metrics_exact
    from interactiveai.server.query.metrics_base import MetricsFilter
    from interactiveai.server.settings import load_settings
    from interactiveai.server.storage.engines import create_db_engine

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///file:{args.db.resolve()}?mode=ro&uri=true"
    engine = create_db_engine(url)
    settings = load_settings(data_dir=Path(tmp.name), database_url=url)
    app = create_app(settings, engine=engine, run_migrations=False, first_start=False)
    read_ui_as_member(app, engine, args.project)
    token = base64.b64encode(f"{args.public_key}:{args.secret_key}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}

    def empty_dashboard_cache() -> None:
        if hasattr(app.state, "dashboard_cache"):
            del app.state.dashboard_cache

    # No lifespan: no writer, refresher or evaluation worker starts on the database.
    client = TestClient(app)
    print(f"\n{engine.dialect.name}: project {args.project!r}, p50/p95 of {args.runs} runs; target {TARGET_MS:.0f} ms")
    print(f"{'case':48} {'p50 ms':>8} {'p95 ms':>8} {'exact scans ms':>15}")
    for label, seconds in WINDOWS.items():
        to_us = now_us()
        from_iso, to_iso = iso(to_us - seconds * 1_000_000), iso(to_us)
        path = f"/project/{args.project}/dashboard.json"
        p50, p95 = timed(lambda r=label, u=path: client.get(u, params={"range": r}), args.runs, empty_dashboard_cache)
        baseline = ""
        if not args.no_baseline:
            window = MetricsFilter(to_us - seconds * 1_000_000, to_us)
            began = time.perf_counter()
            metrics_exact.dashboard(engine, args.project, window)
            baseline = f"{(time.perf_counter() - began) * 1000:15.0f}"
        print(f"{'dashboard cold ' + label:48} {p50:8.1f} {p95:8.1f} {baseline}", flush=True)
        daily = {"fromTimestamp": from_iso, "toTimestamp": to_iso}
        p50, p95 = timed(lambda q=daily: client.get("/api/public/metrics/daily", params=q, headers=headers), args.runs)
        print(f"{'metrics/daily ' + label:48} {p50:8.1f} {p95:8.1f}", flush=True)
        for name, query in metrics_queries(from_iso, to_iso).items():
            if any(skip in name for skip in args.skip):
                continue
            params = {"query": json.dumps(query)}
            p50, p95 = timed(lambda q=params: client.get("/api/public/metrics", params=q, headers=headers), args.runs)
            print(f"{'metrics ' + name + ' ' + label:48} {p50:8.1f} {p95:8.1f}", flush=True)
    p50, p95 = timed(lambda: client.get("/api/public/metrics/daily", headers=headers), args.runs)
    print(f"{'metrics/daily, default window':48} {p50:8.1f} {p95:8.1f}", flush=True)
    engine.dispose()


if __name__ == "__main__":
    main()
