"""Group commit: one writer thread turns every concurrent request's spans into one transaction.

Requests hand their mapped spans to :meth:`GroupCommitWriter.submit` and wait on the returned
future; the writer thread takes as many waiting jobs as fit in ``batch_spans``, writes them in one
transaction, commits, and only then resolves the futures, so a 200 always means "committed".
One fsync for many requests is what makes durability cheap.

Failures are contained: when a batch fails for a reason other than the database being
unreachable, each job is retried in its own transaction so one poisonous request fails alone.
The queue is bounded in spans; :class:`Overloaded` tells the caller to answer 429.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from interactiveai.server.ingest.checkpoint import WRITER_AUTOCHECKPOINT_PAGES, WalCheckpointer
from interactiveai.server.ingest.records import MappedSpan
from interactiveai.server.ingest.writes import write_batch

logger = logging.getLogger("interactiveai.server.ingest")

_UNAVAILABLE_RETRIES = 3


class Overloaded(Exception):
    """The queue is full; the client should retry later (429)."""


class StorageUnavailable(Exception):
    """The database cannot be reached or keeps failing transiently (503)."""


class WriteRejected(Exception):
    """The database refused this request's data even when written alone."""


@dataclass
class _Job:
    project_id: str
    spans: list[MappedSpan]
    future: Future[int] = field(default_factory=Future)


class GroupCommitWriter:
    def __init__(self, engine: Engine, *, batch_spans: int, queue_spans: int) -> None:
        self._engine = engine
        self._batch_spans = max(1, batch_spans)
        self._queue_spans = max(1, queue_spans)
        self._jobs: deque[_Job] = deque()
        self._pending_spans = 0  # queued plus being written: what the queue limit bounds
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._conn: Connection | None = None
        self._checkpointer = WalCheckpointer(engine) if engine.dialect.name == "sqlite" else None

    # --- request side ---------------------------------------------------------------------------

    @property
    def pending_spans(self) -> int:
        return self._pending_spans

    def full(self) -> bool:
        return self._pending_spans >= self._queue_spans

    def submit(self, project_id: str, spans: list[MappedSpan]) -> Future[int]:
        job = _Job(project_id, spans)
        if not spans:
            job.future.set_result(0)
            return job.future
        with self._cond:
            if self._stopping:
                raise StorageUnavailable("the server is shutting down")
            # one request larger than the whole queue is still admitted into an empty queue
            if self._pending_spans and self._pending_spans + len(spans) > self._queue_spans:
                raise Overloaded(f"ingestion queue is full ({self._pending_spans} spans waiting)")
            self._pending_spans += len(spans)
            self._jobs.append(job)
            self._cond.notify()
        return job.future

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="interactiveai-ingest-writer", daemon=True)
        self._thread.start()
        if self._checkpointer is not None:
            self._checkpointer.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Write everything already accepted, then stop the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._close()
        if self._checkpointer is not None:
            self._checkpointer.stop()

    # --- writer thread --------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stopping:
                    self._cond.wait()
                if not self._jobs:
                    return
                jobs = [self._jobs.popleft()]
                size = len(jobs[0].spans)
                while self._jobs and size + len(self._jobs[0].spans) <= self._batch_spans:
                    job = self._jobs.popleft()
                    size += len(job.spans)
                    jobs.append(job)
            try:
                self._write(jobs)
            finally:
                with self._cond:
                    self._pending_spans -= size

    def _write(self, jobs: list[_Job]) -> None:
        try:
            counts = self._transaction(jobs)
        except StorageUnavailable as exc:
            for job in jobs:
                job.future.set_exception(exc)
            return
        except Exception as exc:
            if len(jobs) == 1:
                reason = _describe(exc)
                logger.warning("ingestion write rejected (%d spans): %s", len(jobs[0].spans), reason)
                jobs[0].future.set_exception(WriteRejected(reason))
                return
            # isolate the poisonous request: every other request still gets its spans stored
            for job in jobs:
                self._write([job])
            return
        for job, count in zip(jobs, counts, strict=True):
            job.future.set_result(count)

    def _transaction(self, jobs: list[_Job]) -> list[int]:
        """Write jobs in one transaction, retrying transient failures; new-span count per job."""
        delay = 0.2
        for attempt in range(_UNAVAILABLE_RETRIES + 1):
            try:
                with self._begin() as conn:
                    return write_batch(conn, [(job.project_id, job.spans) for job in jobs])
            except (OperationalError, DBAPIError) as exc:
                if not _transient(exc):
                    raise
                self._close()
                if attempt == _UNAVAILABLE_RETRIES:
                    logger.error("ingestion storage unavailable: %s", exc)
                    raise StorageUnavailable(_describe(exc)) from exc
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        conn = self._connection()
        if conn.dialect.name == "sqlite":
            # BEGIN IMMEDIATE takes the write lock up front, so the read-merge-write below is never
            # interleaved with another process's writer (and never fails half-way with SQLITE_BUSY).
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
            if self._checkpointer is not None:
                self._checkpointer.committed()
        else:
            with conn.begin():
                yield conn

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            conn = self._engine.connect()
            if conn.dialect.name == "sqlite":
                # driver-level autocommit: the transaction is ours, opened with BEGIN IMMEDIATE
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                # checkpoints run in their own thread (checkpoint.py), not inside our COMMITs
                conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={WRITER_AUTOCHECKPOINT_PAGES}")
                # when the WAL is rewound, give back the disk space of a burst beyond the bound
                conn.exec_driver_sql(f"PRAGMA journal_size_limit={WRITER_AUTOCHECKPOINT_PAGES * 4096}")
            self._conn = conn
        return self._conn

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
            self._conn = None


def _transient(exc: DBAPIError) -> bool:
    """Connection loss, lock timeouts, deadlocks, serialisation failures: worth retrying."""
    if exc.connection_invalidated or isinstance(exc, OperationalError):
        return True
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in ("40001", "40P01", "55P03", "57P01", "57P03", "08000", "08003", "08006")


def _describe(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
