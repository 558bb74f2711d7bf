"""SDK overhead: CPU per observation, caller + export thread, every span delivered over loopback.

Run: ``.venv/bin/python benchmarks/sdk_overhead.py [--n 30000] [--repeat 3]``

Each measurement runs in a fresh Python process (same interpreter, same imports warmed up by a
1,000-observation warm-up that is not counted) and reports ``time.process_time()`` (all threads
of that process: the caller *and* the export thread) over the loop plus the final flush. The
OTLP receiver runs in a separate process so its decoding CPU is not counted; it decodes every
request and the benchmark fails unless it received every span exactly once.

Variants, same run, same receiver:

* ``baseline``: bare OTel SDK: ``TracerProvider`` + ``BatchSpanProcessor`` + the stock
  ``opentelemetry-exporter-otlp-proto-http`` ``OTLPSpanExporter``; a plain
  ``with tracer.start_as_current_span(...)`` setting the same three small attributes
  @observe writes (type, input JSON, output JSON).
* ``otel+ours``: the same plain spans through our ``ExportProcessor`` + ``OtlpHttpExporter``
  (isolates the export path from the decorator); ``otel+ours-plain``: the same without gzip.
* ``observe``: ``@observe`` functions with small input/output, client configured with the
  receiver as host and nothing else (default settings): the whole SDK as users run it.

Every variant must deliver every span: the stock processor gets a queue that holds the whole run,
ours run with their default memory bound (``max_queue_bytes``), which holds it.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 1000
VARIANTS = ("baseline", "otel+ours", "otel+ours-plain", "observe")


# -- the receiver process ---------------------------------------------------------------------


def serve() -> None:
    """Run the test receiver; answer "count" / "clear" lines on stdin, exit on EOF."""
    sys.path.insert(0, str(ROOT))
    from tests.support.otlp_receiver import OtlpReceiver

    # Ids only: fully decoding every span into dicts would make the receiver the bottleneck, and a
    # slow receiver keeps spans queued (alive) longer, which changes the sender's GC cost.
    with OtlpReceiver(keep_spans=False) as receiver:
        print(receiver.base_url, flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "count":
                counts = {"unique": receiver.span_count(), "total": receiver.total_span_count()}
                print(json.dumps(counts | {"requests": len(receiver.requests)}), flush=True)
            elif command == "clear":
                receiver.clear()
                print("ok", flush=True)


# -- one measurement (in its own process) -------------------------------------------------------


def _text(chars: int, seed: int) -> str:
    """Prose-like text (words, punctuation, a few quotes and non-ASCII), like prompts and answers."""
    words = ["the", "model", "answered", "question", "context", "retrieved", '"quoted"', "naïve", "café", "data,"]
    out: list[str] = []
    size = 0
    while size < chars:
        word = words[(seed * 7 + len(out) * 13) % len(words)]
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:chars]


def _plain_loop(tracer: Any, start: int, n: int, payload: int = 0) -> None:
    dumps = json.dumps
    for i in range(start, start + n):
        text = _text(payload, i) if payload else ""
        with tracer.start_as_current_span("work") as span:
            span.set_attribute("interactiveai.observation.type", "span")
            span.set_attribute("interactiveai.observation.input", dumps({"args": [i, text], "kwargs": {}}))
            span.set_attribute("interactiveai.observation.output", dumps({"r": i + 2, "text": text[: payload // 2]}))


def measure(variant: str, base_url: str, n: int) -> dict[str, float]:
    """Build the variant's pipeline, warm up, then time N observations plus the flush."""
    from opentelemetry.sdk.trace import TracerProvider

    queue = n + WARMUP + 1  # every span must be delivered: the stock processor may not drop on a full queue
    endpoint = base_url + "/api/public/otel/v1/traces"
    provider = TracerProvider(shutdown_on_exit=False)
    if variant == "baseline":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint), max_queue_size=queue, max_export_batch_size=512)
        )
        tracer = provider.get_tracer("bench")

        def run(start: int, count: int) -> None:
            _plain_loop(tracer, start, count)

        flush = provider.force_flush
    elif variant.startswith("otel+ours"):
        from interactiveai.sdk.export import ExportProcessor, OtlpHttpExporter

        compression = "none" if variant.endswith("-plain") else "gzip"
        exporter = OtlpHttpExporter(
            endpoint, headers={"Authorization": "Basic cGs6c2s="}, timeout=10, compression=compression
        )
        provider.add_span_processor(
            ExportProcessor(exporter, max_export_batch_size=512, schedule_delay=5.0, export_timeout=10)
        )
        tracer = provider.get_tracer("interactiveai-sdk", "0.1.0", attributes={"public_key": "pk-bench"})

        def run(start: int, count: int) -> None:
            _plain_loop(tracer, start, count)

        flush = provider.force_flush
    else:
        from interactiveai import InteractiveAI, observe

        client = InteractiveAI(public_key="pk-bench", secret_key="sk-bench", host=base_url, tracer_provider=provider)

        @observe
        def work(i: int) -> dict[str, int]:
            return {"r": i + 2}

        def run(start: int, count: int) -> None:
            for i in range(start, start + count):
                work(i)

        flush = client.flush
    run(0, WARMUP)
    flush()
    import gc

    gc.collect()
    wall0, cpu0, caller0 = time.perf_counter(), time.process_time(), time.thread_time()
    run(WARMUP, n)
    flush()
    wall, cpu, caller = time.perf_counter() - wall0, time.process_time() - cpu0, time.thread_time() - caller0
    per_obs = 1e6 / n
    return {
        "us_per_obs": cpu * per_obs,
        "caller_us": caller * per_obs,
        "export_us": (cpu - caller) * per_obs,
        "wall_s": wall,
    }


# -- encoders alone ----------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(tag: bytes, payload: bytes) -> bytes:
    return tag + _varint(len(payload)) + payload


def _pb_attributes(tag: bytes, attributes: Any) -> bytes:
    parts = []
    for key, value in getattr(attributes, "_dict", attributes).items():
        if type(value) is str:
            any_value = _field(b"\x0a", value.encode())
        elif type(value) is bool:
            any_value = b"\x10\x01" if value else b"\x10\x00"
        elif type(value) is int:
            any_value = b"\x18" + _varint(value & 0xFFFFFFFFFFFFFFFF)
        else:
            any_value = b"\x21" + struct.pack("<d", float(value))
        parts.append(_field(tag, _field(b"\x0a", key.encode()) + _field(b"\x12", any_value)))
    return b"".join(parts)


def protobuf_prototype(spans: list[Any]) -> bytes:
    """A pure-Python protobuf ``ExportTraceServiceRequest`` writer, fast paths only (one resource
    and scope, string/bool/int/float attributes, no events or links): the best case for protobuf."""
    pack_q = struct.Struct("<Q").pack
    out = []
    for span in spans:
        trace_id, span_id, _, flags, _, _ = span._context
        parts = [b"\x0a\x10", trace_id.to_bytes(16, "big"), b"\x12\x08", span_id.to_bytes(8, "big")]
        if span._parent is not None:
            parts += [b"\x22\x08", span._parent[1].to_bytes(8, "big")]
        parts += [_field(b"\x2a", span._name.encode()), b"\x30", _varint(span._kind.value + 1)]
        parts += [b"\x39", pack_q(span._start_time), b"\x41", pack_q(span._end_time)]
        parts.append(_pb_attributes(b"\x4a", span._attributes))
        parts.append(b"\x85\x01" + struct.pack("<I", int(flags) | 0x100))
        out.append(_field(b"\x12", b"".join(parts)))
    scope = spans[0].instrumentation_scope
    scope_bytes = _field(b"\x0a", scope.name.encode()) + _field(b"\x12", (scope.version or "").encode())
    scope_spans = _field(b"\x0a", scope_bytes) + b"".join(out)
    resource = _pb_attributes(b"\x0a", spans[0].resource.attributes)
    return _field(b"\x0a", _field(b"\x0a", resource) + _field(b"\x12", scope_spans))


def encoders(n: int, payload: int) -> None:
    """CPU per span of each candidate wire encoding, on N fresh spans encoded once each in batches
    of 512 (cold, as in the export thread), plus the request size per span."""
    import gc
    import zlib

    import orjson
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as protobuf_request
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from interactiveai.sdk.export.encoder import encode_spans
    from interactiveai.sdk.export.otlp_objects import spans_to_request

    memory = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    _plain_loop(provider.get_tracer("interactiveai-sdk", "0.1.0", attributes={"public_key": "pk"}), 0, n, payload)
    spans = list(memory.get_finished_spans())
    batches = [spans[i : i + 512] for i in range(0, n, 512)]
    candidates: dict[str, Any] = {
        "protobuf (stock encoder)": lambda b: protobuf_request(b).SerializeToString(),
        "protobuf (hand-rolled prototype)": protobuf_prototype,
        "OTLP/JSON dicts + orjson": lambda b: orjson.dumps(spans_to_request(b)),
        "OTLP/JSON text (ours)": encode_spans,
    }
    # The prototype must produce what the stock encoder does, or its timing means nothing.
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    stock, prototype = ExportTraceServiceRequest(), ExportTraceServiceRequest()
    stock.ParseFromString(protobuf_request(batches[0]).SerializeToString())
    prototype.ParseFromString(protobuf_prototype(batches[0]))
    stock_span, prototype_span = (
        stock.resource_spans[0].scope_spans[0].spans[0],
        prototype.resource_spans[0].scope_spans[0].spans[0],
    )
    stock_span.flags = prototype_span.flags  # the stock encoder leaves out the W3C bits
    stock_span.ClearField("status")  # the stock encoder sends an empty status; unset is the same value
    assert stock_span == prototype_span and len(prototype.resource_spans[0].scope_spans[0].spans) == len(batches[0])
    print(f"{'encoding':34s} {'µs/span':>8s} {'bytes/span':>10s}")
    bodies: dict[str, list[bytes]] = {}
    for name, encode in candidates.items():
        gc.collect()
        start = time.process_time()
        bodies[name] = [encode(batch) for batch in batches]
        cpu = time.process_time() - start
        size = sum(map(len, bodies[name])) / n
        print(f"{name:34s} {cpu / n * 1e6:8.2f} {size:10.0f}")
    for level in (1, 6):
        for name in ("protobuf (stock encoder)", "OTLP/JSON text (ours)"):
            start = time.process_time()
            compressed = [zlib.compress(body, level, wbits=31) for body in bodies[name]]
            cpu = time.process_time() - start
            size = sum(map(len, compressed)) / n
            print(
                f"{'  + gzip level ' + str(level) + ' of ' + name.split(' ')[0]:34s} {cpu / n * 1e6:8.2f} {size:10.0f}"
            )


# -- the orchestrator ---------------------------------------------------------------------------


def _ask(receiver: subprocess.Popen[str], command: str) -> str:
    assert receiver.stdin is not None and receiver.stdout is not None
    receiver.stdin.write(command + "\n")
    receiver.stdin.flush()
    return receiver.stdout.readline().strip()


def _wait_count(receiver: subprocess.Popen[str], expected: int, timeout: float = 60) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        counts: dict[str, int] = json.loads(_ask(receiver, "count"))
        if counts["unique"] >= expected or time.monotonic() > deadline:
            return counts
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=30_000, help="observations per measurement")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per variant (best is reported)")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--encoders", action="store_true", help="only compare wire encodings (CPU and size per span)")
    parser.add_argument(
        "--payload", type=int, default=0, help="with --encoders: characters of prose in each input (half in output)"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    if args.encoders:
        encoders(args.n, args.payload)
        return
    if args.measure:
        print(json.dumps(measure(args.measure, args.base_url, args.n)))
        return

    # This checkout's own source first, so that a copy of another revision measures itself.
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}", "INTERACTIVEAI_DEBUG": "false"}
    receiver = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert receiver.stdout is not None
        base_url = receiver.stdout.readline().strip()
        variants = args.variants.split(",")
        results: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
        for _ in range(args.repeat):
            for variant in variants:  # interleaved, so drift in machine load hits every variant alike
                _ask(receiver, "clear")
                out = subprocess.run(
                    [sys.executable, __file__, "--measure", variant, "--base-url", base_url, "--n", str(args.n)],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=True,
                )
                result = json.loads(out.stdout.strip().splitlines()[-1])
                counts = _wait_count(receiver, args.n + WARMUP)
                if counts["unique"] != args.n + WARMUP:
                    raise SystemExit(f"{variant}: receiver got {counts} spans, expected {args.n + WARMUP}")
                result["duplicates"] = counts["total"] - counts["unique"]
                results[variant].append(result)
                print(f"  {variant:16s} {result['us_per_obs']:7.1f} µs/obs", file=sys.stderr, flush=True)
    finally:
        if receiver.stdin is not None:
            receiver.stdin.close()
        receiver.wait(10)

    best = {v: min(rs, key=lambda r: r["us_per_obs"]) for v, rs in results.items()}
    print(f"\nSDK overhead, {args.n} observations per run, best of {args.repeat}, CPU of caller + export thread")
    header = f"{'variant':16s} {'µs/obs':>8s} {'caller':>8s} {'export':>8s} {'wall s':>7s} {'ratio':>6s}"
    print(header + "   all runs (µs/obs)")
    baseline = best.get("baseline", {}).get("us_per_obs")
    for variant, result in best.items():
        ratio = f"{result['us_per_obs'] / baseline:6.2f}" if baseline else "     -"
        runs = ", ".join(f"{r['us_per_obs']:.1f}" for r in results[variant])
        print(
            f"{variant:16s} {result['us_per_obs']:8.1f} {result['caller_us']:8.1f} {result['export_us']:8.1f}"
            f" {result['wall_s']:7.2f} {ratio}   {runs}"
        )
    if baseline and "observe" in best:
        print(f"\n@observe / baseline = {best['observe']['us_per_obs'] / baseline:.2f} (target <= 0.40)")


if __name__ == "__main__":
    main()
