"""The ingestion service: body → spans → mapped rows → group commit, owned by the app's lifespan.

Decoding and mapping are CPU-bound, so they run in a worker thread (never on the event loop) and
in parallel with the writer thread, whose time is mostly spent inside the database driver with
the GIL released. Two measured choices keep the writer — the serial part — fed:

- One request is decoded and mapped at a time. More threads buy nothing under the GIL; they only
  add contenders for it.
- The mapping loop hands the GIL over every few dozen spans (``time.sleep(0)``). Each time a
  database call returns, the writer needs the GIL back; a thread that never blocks keeps it for
  a whole switch interval (5 ms), several times per transaction. In benchmarks/ingest.py this
  took the median from ~15,500 to ~18,000 spans/s (docs/benchmarks.md).

Memory is bounded twice: request bodies held at once by the server's byte budget, counted as
they arrive and held until the request is answered (bodies.py), and the decoded form by the
number of concurrent decodes.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

from anyio import CapacityLimiter, to_thread
from sqlalchemy import Engine

from interactiveai.server.ingest.body import decompress
from interactiveai.server.ingest.conventions import map_span
from interactiveai.server.ingest.otlp import OtlpError, Span, decode_json, decode_protobuf
from interactiveai.server.ingest.pricing import Pricing
from interactiveai.server.ingest.records import MappedSpan
from interactiveai.server.ingest.writer import GroupCommitWriter
from interactiveai.server.settings import Settings

logger = logging.getLogger("interactiveai.server.ingest")

_CONCURRENT_DECODES = 1
_SPANS_BETWEEN_GIL_HANDOVERS = 32


class IngestService:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.pricing = Pricing(engine)
        self.writer = GroupCommitWriter(
            engine, batch_spans=settings.ingest_batch_spans, queue_spans=settings.ingest_queue_spans
        )
        self._decodes: CapacityLimiter | None = None  # created in start(), inside the event loop

    def start(self) -> None:
        # Ingestion allocates millions of short-lived dicts; with the default thresholds the
        # cyclic GC runs every 700 allocations and rescans the app's long-lived objects each
        # time. Freezing what exists at start-up and collecting less often cut server CPU per
        # span by about a tenth in benchmarks/ingest.py. Garbage here is acyclic, so memory
        # stays bounded (reference counting frees it).
        gc.freeze()
        gc.set_threshold(20_000, 50, 100)
        self._decodes = CapacityLimiter(_CONCURRENT_DECODES)
        self.writer.start()

    def stop(self) -> None:
        self.writer.stop()

    def overloaded(self) -> bool:
        return self.writer.full()

    def prepare(self, project_id: str, body: bytes, encoding: str, protobuf: bool) -> list[MappedSpan]:
        """Decompress, decode and map one request body (blocking; call from a worker thread)."""
        raw = decompress(body, encoding, self.settings.max_body_bytes)
        try:
            spans = decode_protobuf(raw) if protobuf else decode_json(raw)
        except OtlpError:
            raise
        except Exception as exc:
            # A shape the decoder did not foresee is still the client's input: a 400, never a 500.
            logger.exception("could not decode an export")
            raise OtlpError(f"the export could not be decoded ({type(exc).__name__}: {exc})") from None
        pricing = self.pricing
        try:
            return _map_all(spans, project_id, pricing)
        except Exception as exc:
            # Mapping is meant to accept any attribute value; if one still trips it, the client
            # gets a 400 naming the span instead of a 500, and the log keeps the traceback.
            index = next((i for i, s in enumerate(spans) if not _maps(s, project_id, pricing)), -1)
            logger.exception("could not map span %d of an export", index)
            raise OtlpError(f"span {index}: could not be mapped ({type(exc).__name__}: {exc})") from None

    async def ingest(self, project_id: str, body: bytes, encoding: str, protobuf: bool) -> int:
        """Store one export; returns when committed, with the number of newly stored spans."""
        mapped = await to_thread.run_sync(self.prepare, project_id, body, encoding, protobuf, limiter=self._decodes)
        future = self.writer.submit(project_id, mapped)
        return await asyncio.wrap_future(future)


def _map_all(spans: list[Span], project_id: str, pricing: Pricing) -> list[MappedSpan]:
    mapped = []
    for index, span in enumerate(spans, 1):
        mapped.append(map_span(span, project_id, pricing))
        if not index % _SPANS_BETWEEN_GIL_HANDOVERS:
            time.sleep(0)  # let the writer take the GIL back (see the module docstring)
    return mapped


def _maps(span: Span, project_id: str, pricing: Pricing) -> bool:
    try:
        map_span(span, project_id, pricing)
    except Exception:
        return False
    return True
