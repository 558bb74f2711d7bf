"""Benchmark: the dashboard's aggregates over 30 days at 1 M traces / 5 M observations (target ≤ 300 ms).

Seeds a SQLite file (or ``--database-url`` PostgreSQL) through the real migrations, with one
``INSERT … SELECT`` per table over a generated integer sequence (a recursive CTE on SQLite,
``generate_series`` on PostgreSQL): the rows never pass through Python, so 6 M rows take a few
minutes on 2 cores. Values are spread deterministically (a multiplicative hash of the row
number): 30 days of traces, five names, 5,000 users, two environments, 2 % error traces;
five observations per trace (a span, two generations on four models, a tool, a retriever).

Then builds the roll-ups (``rollups.refresher.rebuild``, timed: what a server does in the
background after the upgrade that adds them) and times, over the last 24 h, 7 d and 30 d, each
dashboard function and the whole ``dashboard()`` bundle from the roll-ups against the exact scans
(``query/metrics_exact.py``) in the same run: the first call, then the median and max of
``--runs`` more. Windows end at "now" (not on an hour), as the dashboard's do.

    .venv/bin/python benchmarks/dashboard.py [--traces 1000000] [--runs 5] [--db PATH] [--database-url URL]

``--db PATH`` keeps (and reuses) the SQLite file between runs.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PROJECT = "bench"
DAY_US = 86_400_000_000
TARGET_MS = 300.0


def _sql(dialect: str, n: int, start_us: int, step_us: int) -> list[str]:
    """The seeding statements for ``n`` traces starting at ``start_us``, one every ``step_us``."""
    if dialect == "sqlite":
        seq = f"WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < {n - 1})"
        tid, oid = "printf('%032x', i)", "printf('%016x', i * 5 + k)"
        rows = "seq"
    else:
        seq = f"WITH seq(i) AS (SELECT generate_series(0, {n - 1})::bigint)"
        tid, oid = "lpad(to_hex(i), 32, '0')", "lpad(to_hex(i * 5 + k), 16, '0')"
        rows = "seq"
    h = "((i * 2654435761) % 4294967296)"  # a deterministic spread of each row number
    ts = f"({start_us} + i * {step_us} + {h} % {step_us})"
    latency = f"(200000 + {h} % 5000000)"
    names = (
        "CASE i % 5 WHEN 0 THEN 'chat' WHEN 1 THEN 'search' WHEN 2 THEN 'agent' WHEN 3 THEN 'summarize' "
        "ELSE 'classify' END"
    )
    env = f"CASE WHEN {h} % 10 = 0 THEN 'staging' ELSE 'production' END"
    boolean_false = "0" if dialect == "sqlite" else "false"
    traces_sql = f"""{seq}
        INSERT INTO traces (project_id, id, timestamp_us, end_time_us, name, name_explicit, user_id, session_id,
            environment, tags, metadata, input_explicit, output_explicit, public, bookmarked, latency_us,
            observation_count, level, debug_count, default_count, warning_count, error_count,
            input_tokens, output_tokens, total_tokens, input_cost, output_cost, total_cost, created_at_us,
            updated_at_us)
        SELECT '{PROJECT}', {tid}, {ts}, {ts} + {latency}, {names}, {boolean_false}, 'user-' || ({h} % 5000),
            'session-' || (i / 4), {env}, '[]', '{{}}', {boolean_false}, {boolean_false}, {boolean_false},
            {boolean_false}, {latency}, 5,
            CASE WHEN {h} % 50 = 0 THEN 'ERROR' WHEN {h} % 20 = 0 THEN 'WARNING' ELSE 'DEFAULT' END,
            0, 5, CASE WHEN {h} % 20 = 0 THEN 1 ELSE 0 END, CASE WHEN {h} % 50 = 0 THEN 1 ELSE 0 END,
            1000 + {h} % 1000, 200 + {h} % 300, 1200 + {h} % 1000 + {h} % 300,
            0.001 * (1 + {h} % 7), 0.002 * (1 + {h} % 5), 0.001 * (1 + {h} % 7) + 0.002 * (1 + {h} % 5),
            {ts}, {ts}
        FROM {rows}"""
    otype = (
        "CASE k WHEN 0 THEN 'SPAN' WHEN 1 THEN 'GENERATION' WHEN 2 THEN 'TOOL' WHEN 3 THEN 'GENERATION' "
        "ELSE 'RETRIEVER' END"
    )
    model = (
        f"CASE WHEN k = 1 THEN (CASE {h} % 2 WHEN 0 THEN 'gpt-4o' ELSE 'gpt-4o-mini' END) "
        f"WHEN k = 3 THEN (CASE {h} % 3 WHEN 0 THEN 'claude-3-5-sonnet' ELSE 'gemini-1.5-pro' END) ELSE NULL END"
    )
    generation = "(k = 1 OR k = 3)"
    start = f"({ts} + k * 1000)"
    duration = f"(CASE WHEN k = 0 THEN {latency} ELSE ({latency} / 3) END)"
    ks = "(SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) ks"
    obs_sql = f"""{seq}
        INSERT INTO observations (project_id, trace_id, id, parent_observation_id, type, name, start_time_us,
            end_time_us, completion_start_time_us, level, environment, metadata, model, usage_details, cost_details,
            input_tokens, output_tokens, total_tokens, input_cost, output_cost, total_cost, created_at_us,
            trace_created_at_us)
        SELECT '{PROJECT}', {tid}, {oid}, CASE WHEN k = 0 THEN NULL ELSE printf('%016x', i * 5) END, {otype},
            'step-' || k, {start}, {start} + {duration},
            CASE WHEN {generation} THEN {start} + {duration} / 4 ELSE NULL END,
            CASE WHEN k = 2 AND {h} % 50 = 0 THEN 'ERROR' ELSE 'DEFAULT' END, {env}, '{{}}', {model}, '{{}}', '{{}}',
            CASE WHEN {generation} THEN 500 + {h} % 500 ELSE 0 END,
            CASE WHEN {generation} THEN 100 + {h} % 150 ELSE 0 END,
            CASE WHEN {generation} THEN 600 + {h} % 500 + {h} % 150 ELSE 0 END,
            CASE WHEN {generation} THEN 0.0005 * (1 + {h} % 7) ELSE NULL END,
            CASE WHEN {generation} THEN 0.001 * (1 + {h} % 5) ELSE NULL END,
            CASE WHEN {generation} THEN 0.0005 * (1 + {h} % 7) + 0.001 * (1 + {h} % 5) ELSE NULL END,
            {start}, {ts}
        FROM {rows}, {ks}"""
    if dialect != "sqlite":
        obs_sql = obs_sql.replace("printf('%016x', i * 5)", "lpad(to_hex(i * 5), 16, '0')")
    scores_sql = f"""{seq}
        INSERT INTO scores (project_id, id, trace_id, name, value, data_type, source, metadata, environment,
            timestamp_us, created_at_us, updated_at_us)
        SELECT '{PROJECT}', 's' || i, {tid}, CASE (i / 10) % 2 WHEN 0 THEN 'quality' ELSE 'helpfulness' END,
            ({h} % 100) / 100.0, 'NUMERIC', 'EVAL', '{{}}', {env}, {ts}, {ts}, {ts}
        FROM {rows} WHERE i % 10 = 0"""
    return [traces_sql, obs_sql, scores_sql]


def seed(engine: Engine, n: int, end_us: int) -> None:
    from interactiveai.server.storage.schema import traces
    from interactiveai.server.tenancy import create_project

    with engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(traces).where(traces.c.project_id == PROJECT)).scalar_one()
    if have == n:
        print(f"reusing {have:,} traces")
        return
    create_project(engine, "Dashboard benchmark", PROJECT)
    start_us = end_us - 30 * DAY_US
    step = 30 * DAY_US // n
    statements = _sql(engine.dialect.name, n, start_us, step)
    for label, statement in zip(("traces", "observations", "scores"), statements, strict=True):
        began = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text(statement))
        print(f"seeded {label} in {time.perf_counter() - began:.1f} s", flush=True)
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    else:
        # What autovacuum does soon after a bulk load: statistics, and the visibility map that lets
        # PostgreSQL answer from the covering indexes without visiting the table.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, float]:
    """(first call, median, max) in ms."""
    samples = []
    for _ in range(runs + 1):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return samples[0], statistics.median(samples[1:]), max(samples[1:])


def _cases(engine: Engine, from_us: int, to_us: int, daily: Any, exact: Any, query: Any) -> list[Any]:
    """(label, from roll-ups, exact scan) of each timed call over ``[from_us, to_us)``."""
    from interactiveai.server.query import metrics
    from interactiveai.server.query.metrics_base import MetricsFilter

    window = MetricsFilter(from_us, to_us)
    production = MetricsFilter(from_us, to_us, environments=["production"])
    cases = []
    names = ["summary", "volume_series", "model_series", "latency_series", "model_usage"]
    names += ["generation_latency", "top_users", "score_summary", "dashboard"]
    for name, f in [(n, window) for n in names] + [("summary", production)]:
        label = f"{name}{', env' if f.environments else ''}"
        cases.append(
            (
                label,
                functools.partial(getattr(metrics, name), engine, PROJECT, f),
                functools.partial(getattr(exact, name), engine, PROJECT, f),
            )
        )
    cases.append(
        (
            "/metrics/daily",
            functools.partial(daily.daily_metrics, engine, PROJECT, window),
            functools.partial(daily.exact_daily_metrics, engine, PROJECT, window),
        )
    )
    bodies = {
        "/metrics traces by name, day": {
            "view": "traces",
            "dimensions": [{"field": "name"}],
            "timeDimension": {"granularity": "day"},
            "metrics": [
                {"measure": "count", "aggregation": "count"},
                {"measure": "totalCost", "aggregation": "sum"},
                {"measure": "latency", "aggregation": "p95"},
            ],
        },
        "/metrics model calls by model": {
            "view": "observations",
            "dimensions": [{"field": "model"}],
            "filters": [
                {
                    "column": "model",
                    "operator": "any of",
                    "value": ["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "gemini-1.5-pro"],
                }
            ],
            "metrics": [{"measure": "totalTokens", "aggregation": "sum"}, {"measure": "latency", "aggregation": "p50"}],
        },
    }
    for label, body in bodies.items():
        q = query.parse_query({**body, "fromTimestamp": from_us, "toTimestamp": to_us}, lambda v, _n: int(v))
        cases.append(
            (
                label,
                functools.partial(query.run_query, engine, PROJECT, q),
                functools.partial(query.run_exact_query, engine, PROJECT, q),
            )
        )
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", type=Path, default=None, help="SQLite file to create or reuse")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from interactiveai.server.clock import now_us
    from interactiveai.server.storage import migrate
    from interactiveai.server.storage.engines import create_db_engine

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{args.db or Path(tmp.name) / 'dashboard.db'}"
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    end_us = now_us() // DAY_US * DAY_US + DAY_US  # the end of today: reused files keep their 30 days
    seed(engine, args.traces, end_us)

    from interactiveai.server.query import metrics_daily, metrics_exact, metrics_query
    from interactiveai.server.rollups.refresher import rebuild

    began = time.perf_counter()
    hours = rebuild(engine, PROJECT)
    print(f"roll-ups rebuilt ({hours:,} hours) in {time.perf_counter() - began:.1f} s", flush=True)

    now = now_us()
    print(f"\n{engine.dialect.name}, {args.traces:,} traces over 30 days, {args.runs} runs; target {TARGET_MS:.0f} ms")
    print(f"{'query':34} {'roll-ups: first':>15} {'median':>8} {'max':>8} {'exact: first':>13} {'median':>8}  ratio")
    for days in (1, 7, 30):
        for label, rolled, exact in _cases(
            engine, now - days * DAY_US, now, metrics_daily, metrics_exact, metrics_query
        ):
            first, median, worst = timed(rolled, args.runs)
            exact_first, exact_median, _ = timed(exact, 1)
            print(
                f"{days:>2} d {label:29} {first:15.1f} {median:8.1f} {worst:8.1f} {exact_first:13.1f} "
                f"{exact_median:8.1f}  {median / exact_median:5.2f}x",
                flush=True,
            )
    engine.dispose()


if __name__ == "__main__":
    main()
