"""Benchmark: the trace list's score, model and release filters and its bounded total, on a seeded
database (benchmarks/seed.py's realistic workload: 3 models, 4 releases, no scores).

Times ``query.ui_traces.list_trace_page`` (the query the page and its JSON twin run) for a first
page of 50 over the past 7 and 30 days: each filter with a common value and with a value no trace
has (the worst case: the whole window is read), and the footer's total. The baseline, in the same
run, is the unfiltered page without a total. Only reads; nothing is written or migrated.

    .venv/bin/python benchmarks/ui_trace_filters.py --db /work/bench-data/sqlite-1m/interactiveai.db
    .venv/bin/python benchmarks/ui_trace_filters.py --database-url postgresql://…/bench_200k [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import func, select  # noqa: E402

from interactiveai.server.query.ui_traces import ScoreCondition, TraceListFilter, list_trace_page  # noqa: E402
from interactiveai.server.storage.engines import create_db_engine  # noqa: E402
from interactiveai.server.storage.schema import traces  # noqa: E402

DAY_US = 86_400 * 1_000_000


def _time(call: Any, runs: int) -> tuple[float, float, float]:
    """(first call, median, max) in milliseconds."""
    seconds = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        call()
        seconds.append((time.perf_counter() - started) * 1000)
    return seconds[0], statistics.median(seconds[1:]), max(seconds[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="a seeded SQLite file")
    parser.add_argument("--database-url", help="a seeded database's URL (PostgreSQL)")
    parser.add_argument("--project", default="bench")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{args.db}"
    engine = create_db_engine(url, pool_size=2)
    with engine.connect() as conn:
        newest = conn.execute(select(func.max(traces.c.timestamp_us)).where(traces.c.project_id == args.project))
        end_us = int(newest.scalar_one())
    cases: list[tuple[str, dict[str, Any], bool]] = [
        ("no filter, no total (baseline)", {}, False),
        ("no filter, total", {}, True),
        ("release common (v1.9.0)", {"releases": ["v1.9.0"]}, True),
        ("release no trace has", {"releases": ["v0.0.0-none"]}, True),
        ("model common (gpt-4o)", {"models": ["gpt-4o"]}, True),
        ("model no trace has", {"models": ["no-such-model"]}, True),
        ("score no trace has", {"score": ScoreCondition("no-such-score", min_value=0.5)}, True),
    ]
    print(f"{url.split('@')[-1]} project {args.project}: first page of 50, ms (first / median / max of {args.runs})")
    for days in (7, 30):
        baseline = None
        for label, filters, with_total in cases:
            filt = TraceListFilter(from_us=end_us - days * DAY_US, **filters)
            outcome: dict[str, Any] = {}

            def call(
                filt: TraceListFilter = filt, with_total: bool = with_total, outcome: dict[str, Any] = outcome
            ) -> None:
                page = list_trace_page(engine, args.project, filt, count_cap=1000 if with_total else None)
                outcome["rows"], outcome["total"], outcome["exact"] = len(page.rows), page.total, page.total_exact

            first, median, worst = _time(call, args.runs)
            baseline = baseline or median
            total = "" if outcome["total"] is None else f"{'' if outcome['exact'] else '≥ '}{outcome['total']:,}"
            print(
                f"{days:>2}d  {label:<32} {first:9.1f} {median:9.1f} {worst:9.1f}  x{median / baseline:7.1f}"
                f"  rows {outcome['rows']:>2}  total {total}"
            )
    engine.dispose()


if __name__ == "__main__":
    main()
