"""Benchmark: the dashboard's aggregates over 30 days at 1 M traces / 5 M observations (target ≤ 300 ms).

Seeds a SQLite file (or ``--database-url`` PostgreSQL) through the real migrations, with one
``INSERT … SELECT`` per table over a generated integer sequence (a recursive CTE on SQLite,
``generate_series`` on PostgreSQL): the rows never pass through Python, so 6 M rows take a few
minutes on 2 cores. Values are spread deterministically (a multiplicative hash of the row
number): 30 days of traces, five names, 5,000 users, two environments, 2 % error traces;
five observations per trace (a span, two generations on four models, a tool, a retriever).

Then times each query function of ``query/metrics.py`` over the last 30 days (``--runs`` runs,
median and max), and the whole ``dashboard()`` bundle the page reads.

    .venv/bin/python benchmarks/dashboard.py [--traces 1000000] [--runs 5] [--db PATH] [--database-url URL]

``--db PATH`` keeps (and reuses) the SQLite file between runs.
"""

from __future__ import annotations

import argparse
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


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    fn()  # warm the page cache and the statement cache
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", type=Path, default=None, help="SQLite file to create or reuse")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from interactiveai.server.clock import now_us
    from interactiveai.server.query import metrics
    from interactiveai.server.query.metrics_base import MetricsFilter
    from interactiveai.server.storage import migrate
    from interactiveai.server.storage.engines import create_db_engine

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{args.db or Path(tmp.name) / 'dashboard.db'}"
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    end_us = now_us() // DAY_US * DAY_US + DAY_US  # the end of today: reused files keep their 30 days
    seed(engine, args.traces, end_us)

    window = MetricsFilter(end_us - 30 * DAY_US, end_us)
    production = MetricsFilter(end_us - 30 * DAY_US, end_us, environments=["production"])
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("summary (tiles)", lambda: metrics.summary(engine, PROJECT, window)),
        ("volume_series (day)", lambda: metrics.volume_series(engine, PROJECT, window)),
        ("model_series (day)", lambda: metrics.model_series(engine, PROJECT, window)),
        ("latency_series (day)", lambda: metrics.latency_series(engine, PROJECT, window)),
        ("model_usage", lambda: metrics.model_usage(engine, PROJECT, window)),
        ("generation_latency", lambda: metrics.generation_latency(engine, PROJECT, window)),
        ("top_users", lambda: metrics.top_users(engine, PROJECT, window)),
        ("score_summary", lambda: metrics.score_summary(engine, PROJECT, window)),
        ("summary, env=production", lambda: metrics.summary(engine, PROJECT, production)),
        ("dashboard() bundle", lambda: metrics.dashboard(engine, PROJECT, window)),
    ]
    print(f"\n{engine.dialect.name}, {args.traces:,} traces over 30 days, {args.runs} runs; target {TARGET_MS:.0f} ms")
    print(f"{'query':28} {'median ms':>10} {'max ms':>10}  vs target")
    for name, fn in cases:
        median, worst = timed(fn, args.runs)
        print(f"{name:28} {median:10.1f} {worst:10.1f}  {median / TARGET_MS:5.2f}x", flush=True)
    engine.dispose()


if __name__ == "__main__":
    main()
