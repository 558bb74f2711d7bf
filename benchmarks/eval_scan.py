"""What finding new traces for LLM-as-a-judge costs: the writer with and without the index the
evaluation worker scans (``ix_traces_project_created``, migration 0014), and one scan.

In one process, without HTTP, on fresh SQLite files: the realistic workload's spans written with
the ingestion writer's own function (``write_batch``, one transaction per request), once as
migrated and once without that index (CPU and WAL bytes per span; the baseline is the run
without, in the same process); then one evaluator's scan of the newest 1,000 traces among all
written (``jobs.discover``), repeated.

    .venv/bin/python benchmarks/eval_scan.py --spans 20000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_breakdown import PROJECT, bodies  # noqa: E402
from sqlalchemy import insert, select, update  # noqa: E402

from interactiveai.server.evals import jobs  # noqa: E402
from interactiveai.server.ingest.otlp import decode_protobuf  # noqa: E402
from interactiveai.server.ingest.pricing import Pricing  # noqa: E402
from interactiveai.server.ingest.service import _map_all  # noqa: E402
from interactiveai.server.ingest.writes import write_batch  # noqa: E402
from interactiveai.server.storage import migrate  # noqa: E402
from interactiveai.server.storage.engines import create_db_engine  # noqa: E402
from interactiveai.server.storage.eval_schema import evaluator_jobs, evaluators, llm_connections  # noqa: E402
from interactiveai.server.storage.schema import traces  # noqa: E402
from interactiveai.server.tenancy import create_project  # noqa: E402


def write(decoded: list[Any], with_index: bool, scans: int) -> dict[str, float]:
    pricing = Pricing(None)
    mapped = [_map_all(spans, PROJECT, pricing) for spans in decoded]
    count = sum(len(spans) for spans in mapped)
    with tempfile.TemporaryDirectory(prefix="ia-eval-scan-") as tmp:
        path = Path(tmp) / "db.sqlite"
        engine = create_db_engine(f"sqlite:///{path}")
        migrate.upgrade(engine)
        create_project(engine, "Eval scan", PROJECT)
        with engine.connect() as conn:
            if not with_index:
                conn.exec_driver_sql("DROP INDEX ix_traces_project_created")
            conn.commit()
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            conn.commit()
            began = time.process_time()
            for spans in mapped:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                write_batch(conn, [(PROJECT, spans)])
                conn.exec_driver_sql("COMMIT")
            cpu = time.process_time() - began
            wal = os.path.getsize(str(path) + "-wal")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        figures = {"writer_us_per_span": cpu * 1e6 / count, "wal_bytes_per_span": wal / count}
        if with_index:
            figures["scan_ms"] = scan(engine, scans)
        engine.dispose()
    return figures


def scan(engine: Any, repeats: int) -> float:
    """Median ms of one evaluator's scan of the newest 1,000 traces (jobs inserted, then undone)."""
    with engine.connect() as conn:
        created = sorted(conn.execute(select(traces.c.created_at_us).where(traces.c.project_id == PROJECT)).scalars())
    start = created[max(0, len(created) - jobs.SCAN_BATCH - 1)] - 1
    row = {"project_id": PROJECT, "created_at_us": 0, "updated_at_us": 0}
    with engine.begin() as conn:
        conn.execute(insert(llm_connections).values(id="c", name="c", base_url="http://127.0.0.1:9", model="m", **row))
        conn.execute(
            insert(evaluators).values(
                id="e", name="e", connection_id="c", prompt="{{input}}", score_name="s", score_data_type="NUMERIC",
                delay_ms=0, scan_created_us=start, **row,
            )
        )  # fmt: skip
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        jobs.discover(engine, PROJECT, "e", created[-1] + 1, 0)
        times.append((time.perf_counter() - began) * 1000)
        with engine.begin() as conn:
            conn.execute(evaluator_jobs.delete())
            conn.execute(update(evaluators).values(scan_created_us=start, scan_trace_id=""))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--scans", type=int, default=20)
    args = parser.parse_args()
    decoded = [decode_protobuf(body) for body in bodies("realistic", args.spans, args.batch)]
    print(f"spans: {sum(len(one) for one in decoded)}, traces: {len({s.trace_id for one in decoded for s in one})}")
    without = write(decoded, False, args.scans)
    with_index = write(decoded, True, args.scans)
    for key in ("writer_us_per_span", "wal_bytes_per_span"):
        ratio = with_index[key] / without[key]
        print(f"{key}: without the index {without[key]:.1f}, with it {with_index[key]:.1f} (ratio {ratio:.3f})")
    print(f"one scan of 1,000 new traces: {with_index['scan_ms']:.1f} ms (median of {args.scans})")


if __name__ == "__main__":
    main()
