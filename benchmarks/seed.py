"""Fill a project through the real ingestion path with the realistic workload (benchmarks/workload.py).

Starts our server as a subprocess on a SQLite file in ``--data-dir`` (or on ``--database-url``),
posts OTLP/HTTP protobuf exports of ~512 spans from ``--senders`` processes to
``/api/public/otel/v1/traces`` with the project's keys, waits until the API shows every span,
then prints spans/s, client and server CPU per span, bytes on disk per span and the size of each
table. The database stays: other benchmarks (api_lists.py, dashboard.py) read it with the keys
printed at the end.

Ids come from ``(seed, trace index)``, so a run is idempotent and can resume: ``seed.json`` in
the data dir keeps the time window and the first trace index not yet sent.

    .venv/bin/python benchmarks/seed.py --traces 1000000 --data-dir /work/bench-data/sqlite-1m
    .venv/bin/python benchmarks/seed.py --traces 1000000 --database-url postgresql+psycopg://… \\
        --data-dir /work/bench-data/pg-1m
    .venv/bin/python benchmarks/seed.py --sizes-only --data-dir /work/bench-data/sqlite-1m
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import PUBLIC_KEY, SECRET_KEY, _cpu_seconds, _peak_rss_mb, _server, api_count  # noqa: E402
from benchmarks.storage_sizes import print_sizes  # noqa: E402
from benchmarks.workload import SPANS_PER_TRACE, Workload  # noqa: E402

AUTH = "Basic " + base64.b64encode(f"{PUBLIC_KEY}:{SECRET_KEY}".encode()).decode()
CHUNK = 1000  # traces a sender takes at a time; the resume point moves by whole chunks
PATH = "/api/public/otel/v1/traces"


def _sender(port: int, workload: Workload, batch: int, chunks: Any, done: Any) -> None:
    """Take chunks of trace indexes, post their requests, report (first index, spans, CPU s)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Authorization": AUTH, "Content-Type": "application/x-protobuf"}
    while (first := chunks.get()) is not None:
        cpu = time.process_time()
        spans = 0
        stop = min(first + CHUNK, workload.traces)
        for body, count in workload.requests(first, stop, batch):
            for attempt in range(100):
                conn.request("POST", PATH, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status not in (429, 503):  # back off as an exporter would, then resend
                    break
                time.sleep(min(0.05 * (attempt + 1), 1.0))
            if response.status != 200:
                raise RuntimeError(f"POST {PATH}: {response.status}")
            spans += count
        done.put((first, spans, time.process_time() - cpu))
    conn.close()


def _manifest(data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    path = data_dir / "seed.json"
    if path.exists():
        state: dict[str, Any] = json.loads(path.read_text())
        if state["traces"] != args.traces or state["seed"] != args.seed:
            raise SystemExit(f"{path} was seeded with other --traces/--seed: {state}")
        return state
    hour = 3_600_000_000_000
    return {"traces": args.traces, "seed": args.seed, "end_ns": time.time_ns() // hour * hour, "next_trace": 0}


def seed(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    state = _manifest(data_dir, args)
    workload = Workload(args.traces, seed=args.seed, end_ns=state["end_ns"])
    first = state["next_trace"]
    pending = list(range(first, args.traces, CHUNK))
    env = {"INTERACTIVEAI_INIT_USER_EMAIL": "admin@example.com", "INTERACTIVEAI_INIT_USER_PASSWORD": "bench-password"}
    with _server(data_dir, args.database_url, args.workers, extra_env=env) as (url, server):
        port = int(url.rsplit(":", 1)[1])
        ctx = mp.get_context("fork")  # the senders share the parent's text corpus
        chunks, done = ctx.Queue(), ctx.Queue()
        for chunk in pending:
            chunks.put(chunk)
        senders = [
            ctx.Process(target=_sender, args=(port, workload, args.batch, chunks, done)) for _ in range(args.senders)
        ]
        for _ in senders:
            chunks.put(None)
        began, cpu_before = time.perf_counter(), _cpu_seconds(server.pid)
        for process in senders:
            process.start()
        finished: set[int] = set()
        spans_sent, client_cpu, last_print = 0, 0.0, began
        while len(finished) < len(pending):
            if not any(process.is_alive() for process in senders) and done.empty():
                raise RuntimeError("every sender stopped before the end (see above)")
            try:
                chunk, spans, cpu = done.get(timeout=5)
            except Exception:  # queue.Empty: check the senders again
                continue
            finished.add(chunk)
            spans_sent, client_cpu = spans_sent + spans, client_cpu + cpu
            while state["next_trace"] < args.traces and state["next_trace"] in finished:
                state["next_trace"] = min(state["next_trace"] + CHUNK, args.traces)
            (data_dir / "seed.json").write_text(json.dumps(state))
            now = time.perf_counter()
            if now - last_print >= args.progress_seconds or len(finished) == len(pending):
                last_print = now
                server_us = (_cpu_seconds(server.pid) - cpu_before) / spans_sent * 1e6
                print(
                    f"{len(finished) * CHUNK:>9,} / {len(pending) * CHUNK:,} traces, {spans_sent:,} spans, "
                    f"{spans_sent / (now - began):,.0f} spans/s posted, client {client_cpu / spans_sent * 1e6:.0f} "
                    f"µs/span, server {server_us:.0f} µs/span, RSS {_peak_rss_mb(server.pid):.0f} MB",
                    flush=True,
                )
        for process in senders:
            process.join()
        acknowledged = time.perf_counter()
        expected = (args.traces - first) * SPANS_PER_TRACE
        visible = api_count(url, "/api/public/observations", args.traces * SPANS_PER_TRACE)
        while visible < args.traces * SPANS_PER_TRACE and time.perf_counter() - acknowledged < 600:
            time.sleep(2)
            visible = api_count(url, "/api/public/observations", args.traces * SPANS_PER_TRACE)
        ended = time.perf_counter()
        server_cpu = _cpu_seconds(server.pid) - cpu_before
        rss = _peak_rss_mb(server.pid)
    return {
        "traces_sent": args.traces - first,
        "spans_sent": spans_sent,
        "spans_expected": expected,
        "observations_visible": visible,
        "senders": args.senders,
        "seconds": round(ended - began, 1),
        "spans_per_second": round(spans_sent / (ended - began)) if spans_sent else 0,
        "client_cpu_us_per_span": round(client_cpu / max(spans_sent, 1) * 1e6, 1),
        "server_cpu_us_per_span": round(server_cpu / max(spans_sent, 1) * 1e6, 1),
        "server_peak_rss_mb": round(rss, 1),
        "client_max_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "ok": visible == args.traces * SPANS_PER_TRACE,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=10_000, help="Traces in the project (5 spans each).")
    parser.add_argument("--data-dir", default="/work/bench-data/sqlite", help="Server data dir (SQLite file, log).")
    parser.add_argument("--database-url", help="Store into this database instead of the data dir's SQLite file.")
    parser.add_argument("--senders", type=int, default=max(1, (os.cpu_count() or 2) - 1), help="Sender processes.")
    parser.add_argument("--batch", type=int, default=512, help="Spans per request, as a batch exporter sends.")
    parser.add_argument("--workers", type=int, default=1, help="Server worker processes.")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--progress-seconds", type=float, default=15.0)
    parser.add_argument("--sizes-only", action="store_true", help="Only print the sizes of an existing database.")
    args = parser.parse_args()
    database_url = args.database_url or f"sqlite:///{Path(args.data_dir) / 'interactiveai.db'}"
    if not args.sizes_only:
        result = seed(args)
        for key, value in result.items():
            print(f"{key:>24}: {value}")
    state = json.loads((Path(args.data_dir) / "seed.json").read_text())
    print_sizes(database_url, state["traces"] * SPANS_PER_TRACE)
    print(f"{'database':>24}: {database_url}")
    print(f"{'project':>24}: id bench, public key {PUBLIC_KEY}, secret key {SECRET_KEY}")
    print(f"{'UI login':>24}: admin@example.com / bench-password")
    hours = state["end_ns"] // 3_600_000_000_000
    print(f"{'time window':>24}: 30 days ending {time.strftime('%Y-%m-%d %H:00 UTC', time.gmtime(hours * 3600))}")


if __name__ == "__main__":
    main()
