"""The writer tells refused data from an unavailable database, and a refused request fails alone.

Requests are queued before the writer thread starts, so they are written in one group commit:
what one of them does to the group is then certain, not a matter of timing.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError as SAOperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from interactiveai.server.ingest.records import MappedSpan
from interactiveai.server.ingest.writer import GroupCommitWriter, StorageUnavailable, WriteRejected, transient
from interactiveai.server.storage.schema import observations
from tests.server.ingest.otlp_builders import SpanSpec, span_id, trace_id
from tests.server.ingest.test_writer import _mapped, _trace


def _noise(size: int = 12_000) -> str:
    return base64.b64encode(os.urandom(size)).decode()[:size]


def _distinct_words(total_bytes: int) -> str:
    words = base64.b32encode(os.urandom(total_bytes * 10 // 17)).decode().lower()
    return " ".join(words[i : i + 16] for i in range(0, len(words), 16))


def _set_user(span: MappedSpan) -> None:
    span.trace.user_id = _noise()  # past the bounds, as if mapping had not applied them


def _set_input(span: MappedSpan) -> None:
    span.trace.input = '"' + _distinct_words(1_300_000) + '"'


def _set_tokens(span: MappedSpan) -> None:
    span.row["input_tokens"] = 2**70


def _set_nul(span: MappedSpan) -> None:
    span.row["name"] = "a\x00b"


def _set_surrogate(span: MappedSpan) -> None:
    span.row["status_message"] = "half a pair: \ud800"


def _set_no_type(span: MappedSpan) -> None:
    span.row["type"] = None


# poison → what each engine does with it: None = stores it, else words of the 400's message
POISONS: dict[str, tuple[Callable[[MappedSpan], None], dict[str, str | None]]] = {
    "index row too large": (_set_user, {"postgresql": "index row", "sqlite": None}),
    # a search vector over 1 MB: since migration 0007 the index reads a bounded prefix, so stored
    "huge distinct-word input": (_set_input, {"postgresql": None, "sqlite": None}),
    "bigint out of range": (_set_tokens, {"postgresql": "out of range", "sqlite": "too large"}),
    "NUL in text": (_set_nul, {"postgresql": "NUL|0x00", "sqlite": None}),  # 0x00: binary COPY
    "lone surrogate": (_set_surrogate, {"postgresql": "surrogates", "sqlite": "surrogates"}),
    "NOT NULL violated": (_set_no_type, {"postgresql": "null value", "sqlite": "NOT NULL"}),
}


def _count(engine: Any, project_id: str) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(observations).where(observations.c.project_id == project_id)
        return int(conn.execute(query).scalar_one())


@pytest.mark.parametrize("poison", POISONS)
def test_a_refused_request_fails_alone_and_the_group_commits(
    engine: Any, project: Any, other_project: Any, poison: str
) -> None:
    spoil, outcome = POISONS[poison]
    expected = outcome[engine.dialect.name]
    writer = GroupCommitWriter(engine, batch_spans=10_000, queue_spans=100_000)
    jobs: list[tuple[str, list[MappedSpan]]] = []
    for index in range(11):
        owner = project.id if index % 2 else other_project.id
        jobs.append((owner, _mapped([SpanSpec(trace_id(), span_id(), f"s{index}-{i}") for i in range(3)], owner)))
    bad_owner, bad = jobs[5]
    spoil(bad[0])
    futures = [writer.submit(owner, spans) for owner, spans in jobs]
    writer.start()
    try:
        for index, future in enumerate(futures):
            if index == 5 and expected is not None:
                with pytest.raises(WriteRejected, match=expected):
                    future.result(timeout=60)
            else:
                assert future.result(timeout=60) == 3
    finally:
        writer.stop()
    for index, (owner, spans) in enumerate(jobs):
        stored = _trace(engine, owner, spans[0].row["trace_id"])
        assert (stored is None) == (index == 5 and expected is not None)
    assert _count(engine, other_project.id) == 6 * 3
    assert _count(engine, project.id) == 5 * 3 - (3 if expected is not None else 0)


def test_several_refused_requests_among_many(engine: Any, project: Any) -> None:
    writer = GroupCommitWriter(engine, batch_spans=10_000, queue_spans=100_000)
    jobs = [_mapped([SpanSpec(trace_id(), span_id(), f"s{i}")], project.id) for i in range(40)]
    bad = {3, 17, 18, 39}
    for index in bad:
        _set_tokens(jobs[index][0])
    futures = [writer.submit(project.id, spans) for spans in jobs]
    writer.start()
    try:
        for index, future in enumerate(futures):
            if index in bad:
                with pytest.raises(WriteRejected):
                    future.result(timeout=60)
            else:
                assert future.result(timeout=60) == 1
    finally:
        writer.stop()
    assert _count(engine, project.id) == 40 - len(bad)


def test_spans_sent_twice_around_a_refused_request_are_stored_once(engine: Any, project: Any) -> None:
    writer = GroupCommitWriter(engine, batch_spans=10_000, queue_spans=100_000)
    specs = [SpanSpec(trace_id(), span_id(), f"s{i}") for i in range(4)]
    bad = _mapped([SpanSpec(trace_id(), span_id(), "bad")], project.id)
    _set_tokens(bad[0])
    # the same spans on both sides of the refused request: the halves commit separately
    futures = [
        writer.submit(project.id, spans) for spans in (_mapped(specs, project.id), bad, _mapped(specs, project.id))
    ]
    writer.start()
    try:
        assert futures[0].result(timeout=60) == 4
        with pytest.raises(WriteRejected):
            futures[1].result(timeout=60)
        assert futures[2].result(timeout=60) == 0  # already stored: acknowledged, not stored again
        assert writer.submit(project.id, _mapped(specs, project.id)).result(timeout=60) == 0
    finally:
        writer.stop()
    assert _count(engine, project.id) == 4


@contextmanager
def _write_lock(engine: Any) -> Iterator[Callable[[], None]]:
    """Another session holds the write lock on traces; yields the function that releases it."""
    holder = engine.connect()
    if engine.dialect.name == "postgresql":
        holder.execute(text("LOCK TABLE traces IN ACCESS EXCLUSIVE MODE"))
        release = holder.rollback
    else:
        holder = holder.execution_options(isolation_level="AUTOCOMMIT")
        holder.exec_driver_sql("BEGIN IMMEDIATE")

        def release() -> None:
            holder.exec_driver_sql("ROLLBACK")

    try:
        yield release
    finally:
        with suppress(Exception):
            release()
        holder.close()


def _impatient(engine: Any) -> Any:
    """An engine on the same database whose sessions give up waiting for a lock after 50 ms."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text(f"ALTER DATABASE \"{engine.url.database}\" SET lock_timeout = '50ms'"))
            conn.commit()
        return create_engine(engine.url, pool_size=1)
    return create_engine(engine.url, connect_args={"timeout": 0.05, "check_same_thread": False})


def test_a_lock_timeout_is_retried_not_refused(engine: Any, project: Any) -> None:
    """Waiting too long for a lock (55P03, SQLITE_BUSY) is the database being busy: retried, no 400."""
    impatient = _impatient(engine)
    writer = GroupCommitWriter(impatient, batch_spans=100, queue_spans=1000)
    try:
        with _write_lock(engine) as release:
            started = time.monotonic()
            future = writer.submit(project.id, _mapped([SpanSpec(trace_id(), span_id(), "waits")], project.id))
            writer.start()
            threading.Timer(0.5, release).start()  # held across a retry or two
            assert future.result(timeout=60) == 1
            assert time.monotonic() - started >= 0.45
    finally:
        writer.stop()
        impatient.dispose()
    assert _count(engine, project.id) == 1


def test_a_lock_held_too_long_answers_unavailable(engine: Any, project: Any) -> None:
    impatient = _impatient(engine)
    writer = GroupCommitWriter(impatient, batch_spans=100, queue_spans=1000)
    try:
        with _write_lock(engine):
            futures = [
                writer.submit(project.id, _mapped([SpanSpec(trace_id(), span_id(), "x")], project.id)) for _ in range(3)
            ]
            writer.start()
            for future in futures:
                with pytest.raises(StorageUnavailable, match="lock timeout|database is locked"):
                    future.result(timeout=60)
    finally:
        writer.stop()
        impatient.dispose()
    assert _count(engine, project.id) == 0


# --- classification: real driver exceptions -------------------------------------------------


def test_postgresql_errors_about_the_data_are_permanent() -> None:
    errors = pytest.importorskip("psycopg.errors")
    for refused in (
        errors.ProgramLimitExceeded,  # 54000: index row size, tsvector size
        errors.StringDataRightTruncation,  # 22001: value too long for type
        errors.NumericValueOutOfRange,  # 22003
        errors.CharacterNotInRepertoire,  # 22021: invalid byte sequence
        errors.UntranslatableCharacter,  # 22P05
        errors.CheckViolation,  # 23514
        errors.NotNullViolation,  # 23502
        errors.StatementTooComplex,  # 54001
    ):
        exc = refused("refused")
        assert not transient(exc), refused
        assert not transient(SAOperationalError("INSERT", {}, exc)), refused


def test_postgresql_errors_of_the_database_are_transient() -> None:
    psycopg = pytest.importorskip("psycopg")
    errors = psycopg.errors
    for unavailable in (
        errors.SerializationFailure,  # 40001
        errors.DeadlockDetected,  # 40P01
        errors.LockNotAvailable,  # 55P03
        errors.AdminShutdown,  # 57P01
        errors.CannotConnectNow,  # 57P03
        errors.QueryCanceled,  # 57014: statement timeout
        errors.DiskFull,  # 53100
        errors.OutOfMemory,  # 53200
        errors.TooManyConnections,  # 53300
        errors.IoError,  # 58030
        errors.ConnectionFailure,  # 08006
    ):
        exc = unavailable("unavailable")
        assert transient(exc), unavailable
        assert transient(SAOperationalError("INSERT", {}, exc)), unavailable
    # no SQLSTATE: the server never answered
    assert transient(psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"))
    assert transient(psycopg.InterfaceError("the connection is closed"))
    # no SQLSTATE, refused by the driver before sending: the data
    assert not transient(psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))


def test_sqlite_errors_are_told_apart(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    first = sqlite3.connect(path, timeout=0, isolation_level=None)
    first.execute("CREATE TABLE t (x INTEGER NOT NULL)")
    with pytest.raises(sqlite3.IntegrityError) as refused:
        first.execute("INSERT INTO t VALUES (NULL)")
    assert not transient(refused.value)
    first.execute("BEGIN IMMEDIATE")
    second = sqlite3.connect(path, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as busy:
        second.execute("BEGIN IMMEDIATE")  # database is locked
    assert transient(busy.value)
    assert transient(SAOperationalError("BEGIN", {}, busy.value))
    first.close()
    second.close()


def test_errors_that_are_not_the_databases() -> None:
    with pytest.raises(UnicodeEncodeError) as encoding:
        "\ud800".encode()
    assert not transient(encoding.value)
    assert not transient(OverflowError("Python int too large to convert to SQLite INTEGER"))
    assert not transient(KeyError("a bug that one request trips"))
    assert transient(PoolTimeout("QueuePool limit of size 5 overflow 5 reached"))
