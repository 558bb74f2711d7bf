"""Ingestion throughput, end to end: OTLP posted → committed → visible through the REST API.

Starts a real server subprocess (as users run it), pre-encodes realistic protobuf exports (trees of
traces with generations, usage, cost and I/O), posts them from several client processes over
keep-alive connections, and measures spans/s from the first post to the moment the API shows
every trace, plus the server's peak RSS (VmHWM, the API's reads at the end included) and its
largest RSS while the clients post (sampled every 50 ms). Target (DESIGN §7): ≥ 20,000 spans/s
on SQLite, ≥ 10,000 spans/s on PostgreSQL, RSS ≤ 400 MB.

    .venv/bin/python benchmarks/ingest.py                       # SQLite in a temp data dir
    .venv/bin/python benchmarks/ingest.py --database postgresql # throwaway PostgreSQL
    .venv/bin/python benchmarks/ingest.py --workload realistic  # only the realistic payload mix

Two workloads, each on a fresh server: ``small`` (~100-byte payloads in our convention, the
baseline) and ``realistic`` (benchmarks/workload.py: 1-8 KB payloads, three conventions); by
default both run, and the ratio of their spans/s, server CPU per span and bytes on disk per span
is printed.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import multiprocessing as mp
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.storage_sizes import postgres_sizes, sqlite_sizes  # noqa: E402
from benchmarks.workload import Workload  # noqa: E402
from tests.server.ingest.otlp_builders import (  # noqa: E402
    ResourceSpec,
    encode_json,
    encode_protobuf,
    gzipped,
    realistic_trace,
)
from tests.support.postgres import create_database, free_port, postgres_server  # noqa: E402

PUBLIC_KEY, SECRET_KEY = "pk-bench", "sk-bench-5b1e9d3c7a2f4e6b8d0c1a3e5f7b9d2c"  # >= 32 chars, as the server asks
AUTH = "Basic " + base64.b64encode(f"{PUBLIC_KEY}:{SECRET_KEY}".encode()).decode()
SPANS_PER_TRACE = 5  # realistic_trace(generations=2, tools=2): root agent, 2 generations, 2 tools


def _tree_pids(pid: int) -> list[int]:
    """The server process and its descendants (the worker processes of `--workers N`)."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            pids += _tree_pids(int(child))
    return pids


def _peak_rss_mb(pid: int) -> float:
    """Peak RSS of the server: summed over its worker processes when there are several."""
    total = 0.0
    for member in _tree_pids(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
    return total


@contextlib.contextmanager
def _server(
    data_dir: Path,
    database_url: str | None,
    workers: int = 1,
    bypass_cost: bool = False,
    extra_env: dict[str, str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERACTIVEAI_")}
    env.update(
        INTERACTIVEAI_INIT_PROJECT_ID="bench",
        INTERACTIVEAI_INIT_PROJECT_NAME="Benchmark",
        INTERACTIVEAI_INIT_PROJECT_PUBLIC_KEY=PUBLIC_KEY,
        INTERACTIVEAI_INIT_PROJECT_SECRET_KEY=SECRET_KEY,
        INTERACTIVEAI_LOG_LEVEL="warning",
    )
    if database_url:
        env["INTERACTIVEAI_DATABASE_URL"] = database_url
    if bypass_cost:  # benchmark-only switch, read by ingest/pricing.py: no cost calculator
        env["INTERACTIVEAI_BENCHMARK_BYPASS_COST_CALCULATOR"] = "1"
    env.update(extra_env or {})
    log = open(data_dir / "server.log", "ab")
    command = [sys.executable, "-m", "interactiveai", "server", "--port", str(port), "--data-dir", str(data_dir)]
    command += ["--workers", str(workers)]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError((data_dir / "server.log").read_text())
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url + "/api/public/health", timeout=1) as response:
                    if response.status == 200:
                        break
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _rss_mb(pid: int) -> float:
    """Current RSS of the server (summed over its processes); 0 once it is gone."""
    total = 0.0
    with contextlib.suppress(OSError):
        for member in _tree_pids(pid):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
    return total


class _RssSampler(threading.Thread):
    """Largest RSS of the server while the clients post (the API reads afterwards fill page caches:
    VmHWM alone cannot tell ingestion's memory from theirs)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, _rss_mb(self.pid))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server's processes: steadier than wall time on a shared machine."""
    total = 0
    for member in _tree_pids(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _postmaster_pid(database_url: str) -> int:
    """The pid of the PostgreSQL server listening on the URL's port (the throwaway cluster)."""
    port = database_url.rsplit(":", 1)[1].split("/", 1)[0]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"postgres") and b"-p" in args and port.encode() in args:
            return int(cmdline.parent.name)
    raise RuntimeError(f"no PostgreSQL server found on port {port}")


def _postgres_cpu_seconds(postmaster: int | None) -> float:
    """CPU time of one PostgreSQL cluster: its postmaster and every process it started, the ones
    that exited included (their time is the postmaster's cutime/cstime). Other clusters on the
    machine (other sessions' seeds and tests) are not counted."""
    if postmaster is None:
        return 0.0
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    total = sum(int(value) for value in fields[11:15])
    for child in Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split():
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each live thread of the server process, by thread id."""
    ticks = os.sysconf("SC_CLK_TCK")
    threads = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        threads[int(task.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return threads


def _thread_names(profile: str) -> dict[int, str]:
    """Thread id → Python thread name, from py-spy's stacks (``thread (TID): NAME;…``)."""
    names = {}
    for line in Path(profile).read_text().splitlines():
        head = line.split(";", 1)[0]
        if head.startswith("thread (") and "): " in head:
            tid, name = head[len("thread (") :].split("): ", 1)
            names[int(tid, 0)] = name.rsplit(" ", 1)[0] if name.endswith(")") else name
    return names


def _cpu_by_thread(before: dict[int, float], after: dict[int, float], names: dict[int, str]) -> dict[str, float]:
    """CPU seconds while ingesting, by thread name (the worker threads summed); threads that ended
    meanwhile are left out (their time is in the process total)."""
    by_name: dict[str, float] = {}
    for tid, seconds in after.items():
        name = names.get(tid, "unnamed (no Python frames sampled)")
        if name.startswith(("AnyIO worker thread", "ThreadPoolExecutor")):
            name = "worker threads (decode, map, API reads)"
        by_name[name] = by_name.get(name, 0.0) + seconds - before.get(tid, 0.0)
    return by_name


def _profiler(pid: int, path: str | None) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the server (collapsed stacks), for finding where ingestion spends its time."""
    if not path:
        return None
    spy = Path(sys.executable).parent / "py-spy"
    command = [
        str(spy),
        "record",
        "--pid",
        str(pid),
        "--format",
        "raw",
        "--rate",
        "250",
        "--threads",
        "--idle",
        "-o",
        path,
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # let it attach before the load starts
    return process


def _make_bodies(
    seed: int, requests: int, traces_per_request: int, wire: str, priced: bool, workload: str
) -> tuple[list[bytes], int]:
    """Distinct traces in every request (re-sends would be deduplicated, not written); and the spans.

    ``priced``: the generations carry no cost of their own, so the server prices them from the
    catalog (the calculator's full path) instead of keeping the provided cost.
    ``workload``: ``small`` is ~100-byte payloads in our convention; ``realistic`` is
    benchmarks/workload.py (1-8 KB payloads, three conventions, protobuf only).
    """
    if workload == "realistic":
        mix = Workload(requests * traces_per_request, seed=1000 + seed)
        batch = traces_per_request * SPANS_PER_TRACE
        encoded = list(mix.requests(0, mix.traces, spans_per_request=batch))
        return [body for body, _ in encoded], sum(spans for _, spans in encoded)
    bodies = []
    for _ in range(requests):
        spans = [s for _ in range(traces_per_request) for s in realistic_trace()]
        if priced:
            for span in spans:
                span.attributes.pop("interactiveai.observation.cost_details", None)
        resources = [ResourceSpec(spans, {"service.name": f"bench-{seed}"})]
        if wire == "protobuf":
            bodies.append(encode_protobuf(resources))
        else:  # OTLP/JSON with gzip, what the SDK sends
            bodies.append(gzipped(encode_json(resources)))
    return bodies, requests * traces_per_request * SPANS_PER_TRACE


def _client(
    port: int,
    seed: int,
    requests: int,
    traces_per_request: int,
    wire: str,
    priced: bool,
    workload: str,
    ready: Any,
    start: Any,
    results: Any,
) -> None:
    bodies, _ = _make_bodies(seed, requests, traces_per_request, wire, priced, workload)
    ready.release()
    start.wait()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": AUTH, "Content-Type": "application/x-protobuf"}
    if wire == "json":
        headers.update({"Content-Type": "application/json", "Content-Encoding": "gzip"})
    statuses: dict[int, int] = {}
    retries = 0
    for body in bodies:
        while True:
            conn.request("POST", "/v1/traces", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status in (429, 503):  # back off as an SDK would, then resend
                retries += 1
                time.sleep(0.05)
                continue
            statuses[response.status] = statuses.get(response.status, 0) + 1
            break
    conn.close()
    results.put((statuses, retries, sum(len(b) for b in bodies)))


def api_count(url: str, path: str, expected: int, auth: str = AUTH) -> int:
    """How many rows the API lists, when it is ``expected`` or near it: meta.totalItems is exact
    only up to a bound (query/pagination.py), so the row at position ``expected`` is asked for."""
    separator = "&" if "?" in path else "?"

    def rows_from(position: int) -> int:
        request = urllib.request.Request(
            f"{url}{path}{separator}limit=1&page={position}", headers={"Authorization": auth}
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            body = json.loads(response.read())
        return len(body["data"]) if body["data"] else 0

    if expected < 1 or not rows_from(expected):
        request = urllib.request.Request(f"{url}{path}{separator}limit=1", headers={"Authorization": auth})
        with urllib.request.urlopen(request, timeout=600) as response:
            return min(int(json.loads(response.read())["meta"]["totalItems"]), max(expected - 1, 0))
    return expected + rows_from(expected + 1)  # expected + 1: more rows than sent


def _server_env(args: argparse.Namespace) -> dict[str, str]:
    return dict(item.split("=", 1) for item in args.server_env)


def run(args: argparse.Namespace, database_url: str | None, workload: str) -> dict[str, Any]:
    requests_per_client = max(1, args.spans // (args.clients * args.batch))
    traces_per_request = max(1, args.batch // SPANS_PER_TRACE)
    total_traces = requests_per_client * args.clients * traces_per_request
    total_spans = total_traces * SPANS_PER_TRACE
    with (
        tempfile.TemporaryDirectory(prefix="ia-bench-") as tmp,
        _server(Path(tmp), database_url, args.workers, args.bypass_cost_calculator, _server_env(args)) as (
            url,
            server,
        ),
    ):
        port = int(url.rsplit(":", 1)[1])
        ctx = mp.get_context("fork")
        ready, start, results = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
        clients = [
            ctx.Process(
                target=_client,
                args=(
                    port,
                    i,
                    requests_per_client,
                    traces_per_request,
                    args.wire,
                    args.server_priced,
                    workload,
                    ready,
                    start,
                    results,
                ),
            )
            for i in range(args.clients)
        ]
        for process in clients:
            process.start()
        for _ in clients:  # every body is encoded before the clock starts
            if not ready.acquire(timeout=900):
                raise RuntimeError("a client process failed while encoding its requests")
        spy = _profiler(server.pid, args.profile)
        postmaster = _postmaster_pid(database_url) if database_url else None
        cpu_before = _cpu_seconds(server.pid)
        threads_before = _thread_cpu(server.pid)
        db_cpu_before = _postgres_cpu_seconds(postmaster)
        sampler = _RssSampler(server.pid)
        sampler.start()
        began = time.perf_counter()
        start.set()
        outcomes = [results.get(timeout=1800) for _ in clients]
        acknowledged = time.perf_counter()
        sampler.done.set()
        for process in clients:
            process.join()
        visible_traces = api_count(url, "/api/public/traces?fields=core", total_traces)
        visible = time.perf_counter()
        visible_spans = api_count(url, "/api/public/observations", total_spans)
        rss = _peak_rss_mb(server.pid)
        cpu = _cpu_seconds(server.pid) - cpu_before
        threads_after = _thread_cpu(server.pid)
        db_cpu = _postgres_cpu_seconds(postmaster) - db_cpu_before
        if database_url:
            disk_bytes = postgres_sizes(database_url)[0]
        else:
            disk_bytes = sqlite_sizes(str(Path(tmp) / "interactiveai.db"))[0]
        if spy is not None:
            spy.send_signal(2)  # py-spy writes its output on SIGINT
            spy.wait(timeout=60)
            by_thread = _cpu_by_thread(threads_before, threads_after, _thread_names(args.profile))
            thread_cpu = {name: round(seconds / total_spans * 1e6, 1) for name, seconds in sorted(by_thread.items())}
    statuses: dict[int, int] = {}
    if spy is None:
        thread_cpu = {}
    for status_counts, _, _ in outcomes:
        for status, count in status_counts.items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "workload": workload,
        "database": args.database,
        "wire": "protobuf" if args.wire == "protobuf" else "OTLP/JSON + gzip",
        "clients": args.clients,
        "cost_calculator": "bypassed" if args.bypass_cost_calculator else "on",
        "costs": "priced by the server" if args.server_priced or workload == "realistic" else "provided by the client",
        "spans_per_request": traces_per_request * SPANS_PER_TRACE,
        "spans": total_spans,
        "traces_visible": visible_traces,
        "spans_visible": visible_spans,
        "statuses": statuses,
        "retries_429_503": sum(o[1] for o in outcomes),
        "mb_posted": round(sum(o[2] for o in outcomes) / 1e6, 1),
        "seconds_to_acknowledged": round(acknowledged - began, 2),
        "seconds_to_visible": round(visible - began, 2),
        "spans_per_second": round(total_spans / (visible - began)),
        "server_peak_rss_mb": round(rss, 1),
        "server_rss_mb_ingesting": round(sampler.peak, 1),
        "server_cpu_us_per_span": round(cpu / total_spans * 1e6, 1),
        "postgres_cpu_us_per_span": round(db_cpu / total_spans * 1e6, 1) if args.database == "postgresql" else None,
        "server_cpu_us_per_span_by_thread": thread_cpu or "(with --profile)",
        "bytes_on_disk_per_span": round(disk_bytes / total_spans),
        "load_average_1m": os.getloadavg()[0],
        "ok": visible_traces == total_traces and visible_spans == total_spans,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--spans", type=int, default=200_000, help="Total spans to post.")
    parser.add_argument("--batch", type=int, default=250, help="Spans per request (multiple of 5).")
    parser.add_argument("--clients", type=int, default=4, help="Concurrent client processes.")
    parser.add_argument("--wire", choices=["protobuf", "json"], default="protobuf", help="json: gzipped, as the SDK.")
    parser.add_argument("--workers", type=int, default=1, help="Server worker processes (`server --workers`).")
    parser.add_argument(
        "--bypass-cost-calculator",
        action="store_true",
        help="Benchmark-only: the server skips the cost calculator (keeps provided costs only), to measure its share.",
    )
    parser.add_argument(
        "--server-priced",
        action="store_true",
        help="Generations carry usage but no cost, so the server prices them from the catalog.",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="An environment variable for the server (repeatable), e.g. INTERACTIVEAI_INGEST_QUEUE_BYTES=1048576.",
    )
    parser.add_argument(
        "--profile",
        help="Write py-spy stacks of the server here and split its CPU by thread (py-spy names them; it adds "
        "its own overhead to the server's CPU).",
    )
    parser.add_argument(
        "--workload",
        choices=["both", "small", "realistic"],
        default="both",
        help="small: ~100-byte payloads (the baseline); realistic: benchmarks/workload.py (protobuf only).",
    )
    args = parser.parse_args()
    if args.workload != "small" and args.wire == "json":
        parser.error("the realistic workload is sent as protobuf only: use --workload small with --wire json")
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    workloads = ["small", "realistic"] if args.workload == "both" else [args.workload]
    results = []
    for workload in workloads:  # each on a fresh server and database
        if args.database == "postgresql":
            with postgres_server() as server_url:
                results.append(run(args, create_database(server_url), workload))
        else:
            results.append(run(args, None, workload))
    target = 20_000 if args.database == "sqlite" else 10_000
    for result in results:
        for key, value in result.items():
            print(f"{key:>24}: {value}")
        meets = result["spans_per_second"] >= target and result["server_peak_rss_mb"] <= 400
        print(
            f"{'target':>24}: {'meets' if meets else 'MISSES'} ≥ {target} spans/s and ≤ 400 MB "
            f"(ratio {result['spans_per_second'] / target:.2f})"
        )
    if len(results) == 2:
        small, realistic = results
        print(
            f"{'realistic / small':>24}: spans/s x{realistic['spans_per_second'] / small['spans_per_second']:.2f}, "
            f"server CPU per span x{realistic['server_cpu_us_per_span'] / small['server_cpu_us_per_span']:.2f} "
            f"(+{realistic['server_cpu_us_per_span'] - small['server_cpu_us_per_span']:.0f} µs), "
            f"bytes per span x{realistic['bytes_on_disk_per_span'] / small['bytes_on_disk_per_span']:.1f}"
        )


if __name__ == "__main__":
    main()
