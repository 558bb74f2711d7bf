"""A trace's input/output stored once: its root observation reads them from the trace row.

A trace's input and output are, unless set explicitly to something else, its root observation's
(DESIGN §3), and our SDK, OpenInference and the gen_ai conventions set both: storing both copies
cost 8-10 % of the bytes on disk (docs/benchmarks.md, "Payload storage"). The copy kept is the
trace's, so everything that reads trace payloads (lists, previews, sessions, datasets, and the
full-text indexes of both engines, which index the traces table) reads the same row as before;
the root observation's column holds NULL and a bit of ``observations.io_on_trace`` says "read it
from my trace" (input 1, output 2). Readers of observation payloads select
:data:`OBSERVATION_COLUMNS` instead of the table's columns: the same names and values as
before, a primary-key probe of ``traces`` for the shared ones only.

The trace row mirrors the bits in ``traces.root_io_shared``: it says which payloads its
``root_observation_id`` reads from it, so a writer knows when a change of the trace's payload
(an explicit trace input arriving after the root, a later root span, a legacy update) must first
give the root observation its own copy back (:func:`restore_root_payloads`). Whether to share is
decided only while both texts are in hand: when the root observation is written, its payload is
shared if it equals the trace's, byte for byte.

Rows written before migration 0010 have both bits 0 (each row keeps its own copy) and read as
before; the forms mix freely.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, select, update

from interactiveai.server.storage.schema import observations, traces

INPUT, OUTPUT = 1, 2
SIDES = (("input", INPUT), ("output", OUTPUT))


def _from_trace(side: str, bits: tuple[int, int]) -> ColumnElement[Any]:
    on_trace = select(traces.c[side]).where(
        traces.c.project_id == observations.c.project_id, traces.c.id == observations.c.trace_id
    )
    shared = observations.c.io_on_trace.in_(bits)
    return case((shared, on_trace.correlate_except(traces).scalar_subquery()), else_=observations.c[side]).label(side)


OBSERVATION_INPUT = _from_trace("input", (INPUT, INPUT | OUTPUT))
OBSERVATION_OUTPUT = _from_trace("output", (OUTPUT, INPUT | OUTPUT))
OBSERVATION_COLUMNS: list[ColumnElement[Any]] = [
    OBSERVATION_INPUT if c.name == "input" else OBSERVATION_OUTPUT if c.name == "output" else c for c in observations.c
]
"""``observations``' columns with ``input`` and ``output`` as readers see them: ``select(*OBSERVATION_COLUMNS)``."""


@dataclass(frozen=True, slots=True)
class Restore:
    """Payloads a trace's former sharing observation must hold again, and the bits it keeps."""

    trace_id: str
    trace_created_at_us: int
    observation_id: str
    values: dict[str, str | None]
    io_on_trace: int


def share_root_payloads(
    stored: Mapping[str, Any] | None,
    merged: dict[str, Any],
    new_rows: Iterable[Mapping[str, Any]],
    updated_rows: Iterable[Mapping[str, Any]] = (),
) -> Restore | None:
    """Settle which payloads of one trace its root observation shares; sets ``merged["root_io_shared"]``.

    ``stored`` is the trace row read before this write (None for a new trace), ``merged`` the row
    about to be written, ``new_rows`` the trace's observation rows about to be inserted (left as
    they are: :func:`observation_row` makes the stored form) and ``updated_rows`` its stored
    observations rewritten by this write (their ``io_on_trace`` already says what they keep).
    Returns what the former sharing observation needs back, if the trace's payload or root moved.
    """
    bits = merged.get("root_io_shared") or 0
    restore = None
    if bits and stored is not None:
        old_root = stored["root_observation_id"]
        for row in updated_rows:
            if row["id"] == old_root:
                bits &= row["io_on_trace"]  # a payload the update gave it is its own now
        same_root = merged["root_observation_id"] == old_root
        kept = 0
        values: dict[str, str | None] = {}
        for side, bit in SIDES:
            if bits & bit:
                if same_root and merged[side] == stored[side]:
                    kept |= bit
                else:
                    values[side] = stored[side]
        if values:
            restore = Restore(merged["id"], stored["created_at_us"], old_root, values, kept)
        bits = kept
    root = merged["root_observation_id"]
    if root is not None:
        for row in new_rows:
            if row["id"] == root:
                bits = 0  # a root written now: what it shares is decided by its own payload
                for side, bit in SIDES:
                    value = row[side]
                    if value is not None and value == merged[side]:
                        bits |= bit
    merged["root_io_shared"] = bits
    return restore


def observation_row(row: dict[str, Any], trace: Mapping[str, Any]) -> dict[str, Any]:
    """The form of a new observation row to insert, given its trace's settled row.

    ``row`` itself is never changed (a retried transaction merges the spans again): the root
    observation that shares a payload is a copy without it.
    """
    bits = trace["root_io_shared"]
    if not bits or row["id"] != trace["root_observation_id"]:
        row["io_on_trace"] = 0
        return row
    shared = dict(row, io_on_trace=bits)
    for side, bit in SIDES:
        if bits & bit:
            shared[side] = None
    return shared


def unshared(io_on_trace: int, given: Iterable[str]) -> int:
    """An observation's bits once an update gives it the payload columns in ``given``."""
    for side, bit in SIDES:
        if side in given:
            io_on_trace &= ~bit
    return io_on_trace


def restore_root_payloads(conn: Connection, project_id: str, restores: Sequence[Restore]) -> None:
    """Give observations back the payloads they shared with a trace whose payload or root moved (rare)."""
    for restore in restores:
        conn.execute(
            update(observations)
            .where(
                observations.c.project_id == project_id,
                observations.c.trace_created_at_us == restore.trace_created_at_us,
                observations.c.trace_id == restore.trace_id,
                observations.c.id == restore.observation_id,
            )
            .values(**restore.values, io_on_trace=restore.io_on_trace)
        )
