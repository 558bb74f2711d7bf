"""SDK burst: 100,000 observations from one thread as fast as it can, default settings, none lost.

Run: ``.venv/bin/python benchmarks/sdk_burst.py [--n 100000] [--repeat 1] [--overhead-n 30000] [--overhead-repeat 3]``

One thread calls a nested ``@observe`` function (an outer observation around an inner one, so
``--n`` observations are ``--n / 2`` calls) in a tight loop, with a client built with default
settings (only the keys and the host given), then calls ``flush()``. The OTLP receiver runs in
another process (``benchmarks/sdk_overhead.py --serve``: it counts span ids, so retried requests
are not counted twice) and the burst runs in a fresh process of its own.

Printed per run: spans sent, received and lost (sent minus received; the SDK's own drop counters
too), ``flush()``'s result, the wall time of the loop and of the flush, the CPU per observation
(caller thread, and the whole process: caller plus export threads), the peak backlog the SDK held
(spans accepted and not yet delivered, its memory estimate, and how many were still span objects
waiting to be encoded) and the process's peak RSS.

Then, against the same receiver in the same run, the SDK overhead of ``benchmarks/sdk_overhead.py``
(its ``baseline`` and ``observe`` measurements, interleaved, best of ``--overhead-repeat``): CPU per
observation of ``@observe`` against the bare OTel SDK with its stock OTLP/HTTP exporter. Targets
(DESIGN §7): 0 spans lost; ``@observe`` <= 0.4 x bare OTel. The exit status is 1 if a span was lost.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OVERHEAD = ROOT / "benchmarks" / "sdk_overhead.py"
WARMUP = 200
"""Observations before the burst (connection opened, threads started); delivered and counted too."""


# -- one burst (in its own process) -------------------------------------------------------------


def burst(base_url: str, n: int) -> dict[str, Any]:
    import gc
    import resource

    from opentelemetry.sdk.trace import TracerProvider

    from interactiveai import InteractiveAI, observe

    # Defaults: only what says where to send. A provider of its own, so that nothing else is on it.
    client = InteractiveAI(
        public_key="pk-burst", secret_key="sk-burst", host=base_url, tracer_provider=TracerProvider()
    )

    @observe
    def inner(i: int) -> dict[str, int]:
        return {"r": i + 2}

    @observe
    def outer(i: int) -> dict[str, int]:
        return inner(i)

    for i in range(WARMUP // 2):
        outer(i)
    warm_ok = client.flush(timeout=30)
    processor: Any = client._current_processor()
    queue = processor._queue  # span objects not yet encoded (a diagnostic only)
    gc.collect()
    peak_spans = peak_bytes = peak_objects = 0
    wall0, cpu0, caller0 = time.perf_counter(), time.process_time(), time.thread_time()
    for i in range(n // 2):
        outer(i)
        if i & 1023 == 0:  # a sample every 2,048 observations: ~1 µs each, nothing per call
            stats = processor.stats
            peak_spans = max(peak_spans, stats.queued)
            peak_bytes = max(peak_bytes, getattr(stats, "queued_bytes", 0))  # (older SDKs: no byte count)
            peak_objects = max(peak_objects, len(queue))
    loop_wall, caller = time.perf_counter() - wall0, time.thread_time() - caller0
    at_loop_end = processor.stats
    flush0 = time.perf_counter()
    ok = client.flush(timeout=120)
    flush_wall = time.perf_counter() - flush0
    cpu = time.process_time() - cpu0
    stats = processor.stats
    client.shutdown(timeout=10)
    per_obs = 1e6 / n
    return {
        "warmup_flush_ok": warm_ok,
        "flush_ok": ok,
        "loop_s": loop_wall,
        "flush_s": flush_wall,
        "caller_us": caller * per_obs,
        "cpu_us": cpu * per_obs,
        "peak_queued": max(peak_spans, at_loop_end.queued),
        "peak_queued_mb": max(peak_bytes, getattr(at_loop_end, "queued_bytes", 0)) / 2**20,
        "peak_unencoded": peak_objects,
        "queued_at_loop_end": at_loop_end.queued,
        "exported": stats.exported,
        "dropped_queue_full": stats.dropped_queue_full,
        "dropped_export_failed": stats.dropped_export_failed,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# -- the orchestrator ---------------------------------------------------------------------------


def _ask(receiver: subprocess.Popen[str], command: str) -> str:
    assert receiver.stdin is not None and receiver.stdout is not None
    receiver.stdin.write(command + "\n")
    receiver.stdin.flush()
    return receiver.stdout.readline().strip()


def _wait_count(receiver: subprocess.Popen[str], expected: int, timeout: float = 30) -> dict[str, int]:
    """The receiver's counts once it has ``expected`` spans, or when ``timeout`` has passed (a span
    the SDK acknowledged must already be there; the wait covers only the receiver's bookkeeping)."""
    deadline = time.monotonic() + timeout
    while True:
        counts: dict[str, int] = json.loads(_ask(receiver, "count"))
        if counts["unique"] >= expected or time.monotonic() > deadline:
            return counts
        time.sleep(0.1)


def _run(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="observations in the burst (even)")
    parser.add_argument("--repeat", type=int, default=1, help="bursts (each in a fresh process)")
    parser.add_argument("--overhead-n", type=int, default=30_000, help="observations per overhead measurement")
    parser.add_argument("--overhead-repeat", type=int, default=3, help="0 skips the overhead measurement")
    parser.add_argument("--burst", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.burst:
        print(json.dumps(burst(args.base_url, args.n)))
        return

    env = {**os.environ, "PYTHONPATH": str(ROOT), "INTERACTIVEAI_DEBUG": "false"}
    receiver = subprocess.Popen(
        [sys.executable, str(OVERHEAD), "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    lost_any = False
    try:
        assert receiver.stdout is not None
        base_url = receiver.stdout.readline().strip()
        print(f"SDK burst: {args.n:,} observations (nested @observe) from one thread, default settings")
        for run in range(args.repeat):
            _ask(receiver, "clear")
            result = _run([__file__, "--burst", "--base-url", base_url, "--n", str(args.n)], env)
            sent = args.n + WARMUP
            counts = _wait_count(receiver, sent)
            lost = sent - counts["unique"]
            lost_any = lost_any or lost != 0
            requests = counts.get("requests", 0)  # the receiver counts them since "clear" (warm-up included)
            print(
                f"\nrun {run + 1}: sent {sent:,} (burst {args.n:,} + warm-up {WARMUP}), received {counts['unique']:,}"
                f" ({counts['total'] - counts['unique']} duplicates), lost {lost:,};"
                f" SDK: dropped {result['dropped_queue_full']} (buffer full) + {result['dropped_export_failed']}"
                f" (export failed), flush() -> {result['flush_ok']}"
            )
            if requests:
                print(f"  requests: {requests} ({counts['total'] / requests:,.0f} spans each on average)")
            print(
                f"  wall: loop {result['loop_s']:.2f} s + flush {result['flush_s']:.2f} s;"
                f" CPU per observation: caller {result['caller_us']:.1f} µs, process {result['cpu_us']:.1f} µs"
            )
            print(
                f"  peak backlog: {result['peak_queued']:,} spans, {result['peak_queued_mb']:.1f} MB estimated"
                f" ({result['peak_unencoded']:,} still span objects); at loop end {result['queued_at_loop_end']:,};"
                f" peak RSS {result['max_rss_mb']:.0f} MB"
            )
        if args.overhead_repeat > 0:
            runs: dict[str, list[dict[str, float]]] = {"baseline": [], "observe": []}
            for _ in range(args.overhead_repeat):
                for variant in runs:  # interleaved: drift in machine load hits both alike
                    _ask(receiver, "clear")
                    n = args.overhead_n
                    result = _run([str(OVERHEAD), "--measure", variant, "--base-url", base_url, "--n", str(n)], env)
                    counts = _wait_count(receiver, n + 1000)
                    if counts["unique"] != n + 1000:
                        raise SystemExit(f"{variant}: receiver got {counts}, expected {n + 1000} spans")
                    runs[variant].append(result)
            best = {variant: min(r["us_per_obs"] for r in results) for variant, results in runs.items()}
            print(
                f"\nSDK overhead, same run (sdk_overhead.py, {args.overhead_n:,} observations, best of"
                f" {args.overhead_repeat}, CPU of caller + export threads per observation):"
            )
            for variant, results in runs.items():
                listed = ", ".join(f"{r['us_per_obs']:.1f}" for r in results)
                print(f"  {variant:9s} {best[variant]:6.1f} µs/obs   (runs: {listed})")
            print(f"  @observe / bare OTel = {best['observe'] / best['baseline']:.2f} (target <= 0.40)")
    finally:
        if receiver.stdin is not None:
            receiver.stdin.close()
        receiver.wait(10)
    print(f"\n0 spans lost: {'yes' if not lost_any else 'NO'}")
    if lost_any:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
