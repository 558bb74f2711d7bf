"""Caller-thread cost of one ``@observe`` call (the SDK span path), without the network.

Run: ``.venv/bin/python benchmarks/sdk_span_path.py [--n 50000] [--repeat 5] [--profile]``

The client exports through a no-op exporter (``span_exporter=``), so the figures are the caller
thread's CPU (``time.thread_time()``) per observation: starting, filling, ending and handing the
span to the export processor. Reported with the garbage collector on (as applications run) and
off (the pure-Python path), best of ``--repeat``. For the whole pipeline (export thread and
delivery over HTTP) use ``benchmarks/sdk_overhead.py``.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


class _NullExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _setup(n: int) -> Any:
    from interactiveai import InteractiveAI, observe

    client = InteractiveAI(
        public_key="pk-bench",
        secret_key="sk-bench",
        host="http://127.0.0.1:9",
        tracer_provider=TracerProvider(shutdown_on_exit=False),
        span_exporter=_NullExporter(),
        max_queue_size=n + 10,
        flush_at=512,
    )

    @observe
    def work(i: int) -> dict[str, int]:
        return {"r": i + 2}

    return client, work


def _loop(work: Any, n: int) -> float:
    start = time.thread_time()
    for i in range(n):
        work(i)
    return time.thread_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile one loop instead of timing")
    args = parser.parse_args()
    client, work = _setup(args.n)
    _loop(work, 2000)
    client.flush()
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        _loop(work, args.n)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return
    for label, gc_on in (("gc on", True), ("gc off", False)):
        best = float("inf")
        for _ in range(args.repeat):
            gc.collect()
            if not gc_on:
                gc.disable()
            try:
                best = min(best, _loop(work, args.n))
            finally:
                gc.enable()
            client.flush()
        print(f"@observe caller, {label:6s}: {best / args.n * 1e6:6.2f} µs/obs")
    client.shutdown()


if __name__ == "__main__":
    main()
