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

Both shared stages serve projects fairly (scheduler.py, DESIGN §8): a project that keeps many
large exports in flight does not make another project's request wait behind its backlog. Decode
turns go to the waiting project that has used the least decode time (so a request waits for the
decode in progress, then for at most about one request of each busier project); mapped requests
enter the writer by least spans written, at most ``_WRITER_SPANS`` spans (or two requests) at a
time, in progress and queued there, because the writer commits its queue first come, first
served. Requests waiting to enter count against the queue limits (429) like those inside.

The queue has two limits, checked alike: spans (``ingest_queue_spans``) and payload bytes
(``ingest_queue_bytes``: each request counts its body as decoded, after decompression, which is
about what its mapped spans hold in memory). A count of spans alone let the queue's memory grow
with the payloads: 200,000 spans of 6 KB are over a gigabyte. Each limit is shared by projects
(shares.py): a project may fill it up to the limit less a reserve (``project_reserve_percent``,
default 25 %), and past that only while it holds at most an equal share of the reserve; so a
project that floods the server gets 429 on its own requests (the message names the project's
share) while another project's requests are still accepted. The limits themselves stay the bound
on memory (a 429 naming the server's queue); the writer checks the span limit again, as a
backstop, when spans are handed to it.

Memory is bounded three times: request bodies held at once by the server's byte budget, counted
as they arrive and held until the request is answered (bodies.py), the decoded form by the
number of concurrent decodes, and mapped spans waiting for commit by the queue's two limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from anyio import to_thread
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from interactiveai.server.ingest.body import decompress
from interactiveai.server.ingest.conventions import map_span
from interactiveai.server.ingest.experiments import ExperimentLink, experiment_link, record_links
from interactiveai.server.ingest.otlp import OtlpError, Span, decode_json, decode_protobuf
from interactiveai.server.ingest.pricing import Pricing
from interactiveai.server.ingest.records import MappedSpan
from interactiveai.server.ingest.scheduler import FairAdmission, FairScheduler
from interactiveai.server.ingest.writer import GroupCommitWriter, Overloaded, StorageUnavailable, WriteJob
from interactiveai.server.settings import Settings
from interactiveai.server.shares import SharedLimit

logger = logging.getLogger("interactiveai.server.ingest")

_CONCURRENT_DECODES = 1
_SPANS_BETWEEN_GIL_HANDOVERS = 32
# Spans admitted to the writer at once (in progress and queued), beyond two requests of any size:
# what another project's request may find ahead of it there. Measured with eight 1,000-span
# requests of one project in flight, another project's 10-span requests took (median) 230-300 ms
# on PostgreSQL with 2,000, 545-565 ms with 4,000, 450-565 ms without this bound (780-920 ms before
# any fairness); the lone project's throughput was the same with and without it.
_WRITER_SPANS = 2_000


class IngestService:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.pricing = Pricing(engine)
        # ``queue`` below is the gate; the writer's own limit is a backstop, one batch wider: it counts
        # a batch out only after resolving its futures, whose spans may have left ``queue`` already
        self.writer = GroupCommitWriter(
            engine,
            batch_spans=settings.ingest_batch_spans,
            queue_spans=settings.ingest_queue_spans + settings.ingest_batch_spans,
        )
        self.decodes = FairScheduler(_CONCURRENT_DECODES)
        self.commits = FairAdmission(min(_WRITER_SPANS, settings.ingest_batch_spans))
        # spans past the queue check and not yet through the writer, in total and by project
        self.queue = SharedLimit.with_reserve_percent(settings.ingest_queue_spans, settings.project_reserve_percent)
        # and their payload bytes (the decoded request bodies), by the same rules
        self.queue_bytes = SharedLimit.with_reserve_percent(
            settings.ingest_queue_bytes, settings.project_reserve_percent
        )

    def start(self) -> None:
        # Ingestion allocates millions of short-lived dicts; with the default thresholds the
        # cyclic GC runs every 700 allocations and rescans the app's long-lived objects each
        # time. Freezing what exists at start-up and collecting less often cut server CPU per
        # span by about a tenth in benchmarks/ingest.py. Garbage here is acyclic, so memory
        # stays bounded (reference counting frees it).
        gc.freeze()
        gc.set_threshold(20_000, 50, 100)
        self.writer.start()

    def stop(self) -> None:
        self.writer.stop()

    def overloaded(self, project_id: str | None = None, payload_bytes: int = 1) -> str | None:
        """Why another request (of ``project_id``) would be refused now: checked before its body is
        read, as if it held one span of ``payload_bytes`` (its declared length, when it has one: a
        compressed body decodes to more, which the check after decoding counts); None when it may
        come in."""
        if self.writer.full():
            return self._queue_full()
        return self._refusal(1, max(1, payload_bytes), project_id)

    def _refusal(self, spans: int, payload_bytes: int, project_id: str | None) -> str | None:
        """Why ``spans`` more spans of ``payload_bytes`` would be refused by the queue; None if not."""
        verdict = self.queue.verdict(spans, project_id)
        if verdict == "project" and project_id is not None:
            return self.queue.share_message(project_id, "the ingestion queue", "spans waiting for commit")
        if verdict is not None:
            return self._queue_full()
        verdict = self.queue_bytes.verdict(payload_bytes, project_id)
        if verdict == "project" and project_id is not None:
            return self.queue_bytes.share_message(
                project_id, "the ingestion queue's bytes", "bytes of payload waiting for commit"
            )
        if verdict is not None:
            return (
                f"ingestion queue is full ({self.queue_bytes.held} bytes of payload waiting, "
                f"its limit is {self.queue_bytes.limit}: INTERACTIVEAI_INGEST_QUEUE_BYTES)"
            )
        return None

    def _queue_full(self) -> str:
        return f"ingestion queue is full ({max(self.queue.held, self.writer.pending_spans)} spans waiting)"

    def prepare(self, project_id: str, body: bytes, encoding: str, protobuf: bool) -> tuple[list[MappedSpan], int]:
        """Decompress, decode and map one request body (blocking; call from a worker thread): its
        spans, and the size of the body as decoded (what it counts in the queue's bytes)."""
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
            return _map_all(spans, project_id, pricing), len(raw)
        except Exception as exc:
            # Mapping is meant to accept any attribute value; if one still trips it, the client
            # gets a 400 naming the span instead of a 500, and the log keeps the traceback.
            index = next((i for i, s in enumerate(spans) if not _maps(s, project_id, pricing)), -1)
            logger.exception("could not map span %d of an export", index)
            raise OtlpError(f"span {index}: could not be mapped ({type(exc).__name__}: {exc})") from None

    async def ingest(self, project_id: str, body: bytes, encoding: str, protobuf: bool) -> int:
        """Store one export; returns when committed, with the number of newly stored spans."""
        async with self.decodes.turn(project_id):
            mapped, size = await to_thread.run_sync(self.prepare, project_id, body, encoding, protobuf)
        if not mapped:
            return 0
        submit = functools.partial(self.writer.submit, project_id, mapped)
        stored = await self._commit(project_id, len(mapped), size, submit)
        links = [m.experiment for m in mapped if m.experiment is not None]
        if links:
            await to_thread.run_sync(self._link_experiments, project_id, links)
        return stored

    def _link_experiments(self, project_id: str, links: list[ExperimentLink]) -> None:
        """Dataset run items declared by span attributes, once their spans are stored (a failure is
        a 503: the client sends the export again, and spans and links are both written once)."""
        try:
            record_links(self.engine, project_id, links)
        except SQLAlchemyError as exc:
            logger.warning("could not link experiment items: %s", exc)
            raise StorageUnavailable("the experiment's dataset run items could not be written") from None

    async def write(self, project_id: str, size: int, write: WriteJob, payload_bytes: int = 0) -> int:
        """Commit ``write`` (rows it writes itself: the batch ingestion API's events) in the group
        commit, behind the same queue limits and fairness as spans, counted as ``size`` spans of
        ``payload_bytes`` (its request body)."""
        size = max(1, size)
        submit = functools.partial(self.writer.submit_write, project_id, write, size)
        return await self._commit(project_id, size, payload_bytes, submit)

    async def _commit(self, project_id: str, spans: int, payload_bytes: int, submit: Callable[[], Future[int]]) -> int:
        # as the writer's own limit: one request larger than the whole queue still gets into an empty one
        refusal = self._refusal(spans, payload_bytes, project_id)
        if refusal is not None:
            raise Overloaded(refusal)
        self.queue.take(spans, project_id)
        self.queue_bytes.take(payload_bytes, project_id)
        try:
            await self.commits.enter(project_id, spans)
        except BaseException:
            self._give_back(project_id, spans, payload_bytes)
            raise
        try:
            future = submit()
        except BaseException:
            self._leave(project_id, spans, payload_bytes)
            raise
        loop = asyncio.get_running_loop()
        future.add_done_callback(lambda _: _call_soon(loop, self._leave, project_id, spans, payload_bytes))
        return await asyncio.wrap_future(future)

    def _leave(self, project_id: str, spans: int, payload_bytes: int) -> None:
        """The request's spans are through the writer (committed, refused or failed)."""
        self.commits.leave(project_id, spans)
        self._give_back(project_id, spans, payload_bytes)

    def _give_back(self, project_id: str, spans: int, payload_bytes: int) -> None:
        self.queue.give_back(spans, project_id)
        self.queue_bytes.give_back(payload_bytes, project_id)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Any, *args: Any) -> None:
    """Run ``callback`` on ``loop`` (from the writer thread); nothing to do once the loop is closed."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback, *args)


def _map_all(spans: list[Span], project_id: str, pricing: Pricing) -> list[MappedSpan]:
    mapped = []
    for index, span in enumerate(spans, 1):
        one = map_span(span, project_id, pricing)
        one.experiment = experiment_link(span.span_id, span.trace_id, span.attributes)
        mapped.append(one)
        if not index % _SPANS_BETWEEN_GIL_HANDOVERS:
            time.sleep(0)  # let the writer take the GIL back (see the module docstring)
    return mapped


def _maps(span: Span, project_id: str, pricing: Pricing) -> bool:
    try:
        map_span(span, project_id, pricing)
    except Exception:
        return False
    return True
