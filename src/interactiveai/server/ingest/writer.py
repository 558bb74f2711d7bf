"""Group commit: one writer thread turns every concurrent request's spans into one transaction.

Requests hand their mapped spans to :meth:`GroupCommitWriter.submit` and wait on the returned
future; the writer thread takes as many waiting jobs as fit in ``batch_spans``, writes them in one
transaction, commits, and only then resolves the futures, so a 200 always means "committed".
One fsync for many requests is what makes durability cheap.

Failures are told apart and contained (:func:`transient`):

- The database refused the data (PostgreSQL SQLSTATE classes 22 data exception, 23 integrity
  violation, 54 program limit exceeded such as an index row or a tsvector too large; SQLite's
  TOOBIG, CONSTRAINT, MISMATCH; a value the driver cannot bind; any error that is not the
  database's): retrying cannot help, and only some request of the batch can be the cause. The
  heaviest request is written alone first and the others together (the likely cause, once
  bounds.py applies, is a huge payload), then what still fails is bisected: each half commits on
  its own, halves that fail again are split again. Every other request is committed and answered
  200; a request that fails alone is answered 400 (:class:`WriteRejected`, naming the problem).
  A bad request among n costs about 2·log2(n) extra transactions at most, not n; and its error
  message can hold no other request's data.
- The database is unreachable or busy (connection lost, serialisation failure, deadlock, lock
  timeout, disk full, shutting down, …): the whole batch is retried after 0.2, 0.4 and 0.8 s on
  a new connection, then every request still waiting is answered 503 (:class:`StorageUnavailable`).

A future is resolved only after its transaction committed, so a 200 is never lost; a span that
is re-sent (after a 503, or twice in one batch) is stored once (writes.py). A job may also write
its own rows (``submit_write``: the batch ingestion API's events, legacy_writes.py) in the same
transactions, with the same retries and isolation.
The queue is bounded in spans; :class:`Overloaded` tells the caller to answer 429.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError, StatementError

from interactiveai.server.ingest.checkpoint import WRITER_AUTOCHECKPOINT_PAGES, WalCheckpointer
from interactiveai.server.ingest.records import MappedSpan
from interactiveai.server.ingest.writes import write_batch

logger = logging.getLogger("interactiveai.server.ingest")

_UNAVAILABLE_RETRIES = 3
# PostgreSQL SQLSTATE classes of errors about the data itself: 22 data exception (invalid text,
# value out of range, too long), 23 integrity constraint violation, 54 program limit exceeded
# (index row size, tsvector size, statement too complex). Every other class is the database's.
_DATA_SQLSTATE_CLASSES = frozenset({"22", "23", "54"})
_DATA_SQLITE_ERRORS = ("SQLITE_TOOBIG", "SQLITE_CONSTRAINT", "SQLITE_MISMATCH", "SQLITE_RANGE")


class Overloaded(Exception):
    """The queue is full; the client should retry later (429)."""


class StorageUnavailable(Exception):
    """The database cannot be reached or keeps failing transiently (503)."""


class WriteRejected(Exception):
    """The database refused this request's data even when written alone."""


WriteJob = Callable[[Connection], int]
"""A job that writes its own rows in the writer's transaction (the batch ingestion API's events):
it must leave its inputs as they were, the transaction may be retried; returns what it stored."""


@dataclass
class _Job:
    project_id: str
    spans: list[MappedSpan]
    future: Future[int] = field(default_factory=Future)
    write: WriteJob | None = None  # instead of spans
    size: int = -1  # what it counts as in the queue: its spans, unless given

    def __post_init__(self) -> None:
        if self.size < 0:
            self.size = len(self.spans)


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
        return self._submit(_Job(project_id, spans))

    def submit_write(self, project_id: str, write: WriteJob, size: int) -> Future[int]:
        """Run ``write`` in a transaction of the group commit, counted as ``size`` spans."""
        return self._submit(_Job(project_id, [], write=write, size=max(1, size)))

    def _submit(self, job: _Job) -> Future[int]:
        if not job.size:
            job.future.set_result(0)
            return job.future
        with self._cond:
            if self._stopping:
                raise StorageUnavailable("the server is shutting down")
            # one request larger than the whole queue is still admitted into an empty queue
            if self._pending_spans and self._pending_spans + job.size > self._queue_spans:
                raise Overloaded(f"ingestion queue is full ({self._pending_spans} spans waiting)")
            self._pending_spans += job.size
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
                size = jobs[0].size
                while self._jobs and size + self._jobs[0].size <= self._batch_spans:
                    job = self._jobs.popleft()
                    size += job.size
                    jobs.append(job)
            try:
                self._write(jobs)
            finally:
                with self._cond:
                    self._pending_spans -= size

    def _write(self, jobs: list[_Job]) -> None:
        """Commit ``jobs`` together; if the data is refused, bisect until the culprits fail alone."""
        groups = [jobs]
        while groups:
            group = groups.pop()
            try:
                counts = self._transaction(group)
            except StorageUnavailable as exc:
                # the database is gone: nothing not yet committed is worth another attempt now
                for job in (job for waiting in (group, *groups) for job in waiting):
                    job.future.set_exception(exc)
                return
            except Exception as exc:
                reason = _describe(exc)
                if len(group) == 1:
                    job = group[0]
                    logger.warning(
                        "ingestion write rejected (project %s, %d spans): %s", job.project_id, job.size, reason
                    )
                    job.future.set_exception(WriteRejected(reason))
                elif group is jobs:
                    logger.info("ingestion batch of %d requests refused (%s); isolating the cause", len(group), reason)
                    # The heaviest request alone first: what only the database refuses once bounds
                    # apply (a full-text vector over 1 MB) is huge, and costs time at each attempt.
                    suspect = max(group, key=_text_size)
                    groups += ([job for job in group if job is not suspect], [suspect])
                else:
                    half = len(group) // 2  # each half commits on its own (the first half first)
                    groups += (group[half:], group[:half])
                continue
            for job, count in zip(group, counts, strict=True):
                job.future.set_result(count)

    def _transaction(self, jobs: list[_Job]) -> list[int]:
        """Write jobs in one transaction, retrying transient failures; new-span count per job."""
        delay = 0.2
        for attempt in range(_UNAVAILABLE_RETRIES + 1):
            try:
                with self._begin() as conn:
                    counts = iter(write_batch(conn, [(job.project_id, job.spans) for job in jobs if job.write is None]))
                    return [next(counts) if job.write is None else job.write(conn) for job in jobs]
            except Exception as exc:
                if not transient(exc):
                    raise
                self._close(invalidate=True)
                if attempt == _UNAVAILABLE_RETRIES:
                    logger.error("ingestion storage unavailable: %s", exc)
                    raise StorageUnavailable(_describe(exc)) from exc
                logger.warning("ingestion write failed, retrying in %.1f s: %s", delay, _describe(exc))
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
                conn.exec_driver_sql("COMMIT")
            except BaseException:
                try:
                    conn.exec_driver_sql("ROLLBACK")
                except Exception:
                    # SQLite may have rolled back already (a full disk, an I/O error): a new
                    # connection starts clean, and the original error is the one to report
                    self._close(invalidate=True)
                raise
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

    def _close(self, invalidate: bool = False) -> None:
        """Let go of the writer's connection; ``invalidate``: it may be broken, never reuse it."""
        if self._conn is not None:
            try:
                if invalidate:
                    self._conn.invalidate()
                self._conn.close()
            except Exception:
                pass
            self._conn = None


def transient(exc: BaseException) -> bool:
    """True if the database (not the data) failed: worth retrying the same writes later.

    False for an error about the data, which retrying cannot fix (see the module doc). The
    driver's exception is read whether SQLAlchemy wrapped it or not: COPY (bulk.py) runs on the
    driver's own cursor.
    """
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, StatementError) and exc.orig is not None:
        exc = exc.orig  # what the driver (or the parameters) raised
    elif isinstance(exc, SQLAlchemyError):
        return True  # the connection's state, not the data: a pool timeout, a closed transaction
    sqlstate = getattr(exc, "sqlstate", None)  # psycopg: the server's error code
    if isinstance(sqlstate, str) and sqlstate:
        return sqlstate[:2] not in _DATA_SQLSTATE_CLASSES
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", None)
        if name:
            return not name.startswith(_DATA_SQLITE_ERRORS)
        return isinstance(exc, sqlite3.OperationalError)
    # A driver error without a code (psycopg): the server never answered, the connection is lost.
    # Anything else was raised before the data reached the database (a value the driver cannot
    # bind) or in our own code: about this batch, not the database.
    return any(cls.__name__ in ("OperationalError", "InterfaceError") for cls in type(exc).__mro__)


def _text_size(job: _Job) -> int:
    """Characters of payload text a request carries (input, output, metadata)."""
    size = 0
    for span in job.spans:
        row, facts = span.row, span.trace
        size += len(row["input"] or "") + len(row["output"] or "") + len(row["metadata"])
        size += len(facts.input or "") + len(facts.output or "")
    return size


def _describe(exc: BaseException) -> str:
    """One line naming the problem: the database's message (with its SQLSTATE), else the error's."""
    orig = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    lines = str(orig).strip().splitlines()
    text = lines[0][:300] if lines else ""
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        return f"{text} (SQLSTATE {sqlstate})"
    if isinstance(orig, sqlite3.Error) and text:
        return text
    return f"{type(orig).__name__}: {text}" if text else type(orig).__name__
