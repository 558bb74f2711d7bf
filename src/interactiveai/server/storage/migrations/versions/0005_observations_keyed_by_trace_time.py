"""Observations keyed by their trace's creation time: inserts append to the primary key.

The primary key was ``(project_id, trace_id, id)``. Trace ids are random, so every new span
landed on a random page of that index, and on SQLite each page a transaction dirties is written
to the WAL at commit: with ~500 spans per group commit that was a page per span. Prefixing the
trace id with the trace row's ``created_at_us`` (traces are created in time order) makes the
inserts of new traces append at the end. A trace's observations are then found through the trace
row (``schema.observations_of_trace``), still by primary key.

Existing rows get their trace's ``created_at_us``; an observation whose trace row is missing
(never written by the server itself) gets 0 and stays readable by id.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NEW_KEY = ["project_id", "trace_created_at_us", "trace_id", "id"]
OLD_KEY = ["project_id", "trace_id", "id"]
# 0004's partial covering index: dropped and re-created around SQLite's table rebuild, whose
# reflection would not carry the WHERE clause over.
METRICS_INDEX = "ix_observations_metrics"
METRICS_COLUMNS = [
    "project_id",
    "start_time_us",
    "model",
    "type",
    "environment",
    "end_time_us",
    "completion_start_time_us",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "total_cost",
    "trace_id",
]
HAS_MODEL = sa.text("model IS NOT NULL")


def _rekey(columns: list[str], *, require_created: bool, drop_created: bool) -> None:
    """Switch the primary key (and the new column's NOT NULL / existence) on either engine."""
    if op.get_bind().dialect.name == "postgresql":
        if require_created:
            op.alter_column("observations", "trace_created_at_us", existing_type=sa.BigInteger(), nullable=False)
        op.drop_constraint("pk_observations", "observations", type_="primary")
        op.create_primary_key("pk_observations", "observations", columns)
        if drop_created:
            op.drop_column("observations", "trace_created_at_us")
        return
    # SQLite cannot alter a primary key: the table is rebuilt once, with everything at a time.
    op.drop_index(METRICS_INDEX, table_name="observations")
    with op.batch_alter_table("observations", recreate="always") as batch:
        if require_created:
            batch.alter_column("trace_created_at_us", existing_type=sa.BigInteger(), nullable=False)
        batch.drop_constraint("pk_observations", type_="primary")
        batch.create_primary_key("pk_observations", columns)
        if drop_created:
            batch.drop_column("trace_created_at_us")
    op.create_index(METRICS_INDEX, "observations", METRICS_COLUMNS, sqlite_where=HAS_MODEL, postgresql_where=HAS_MODEL)


def upgrade() -> None:
    op.add_column("observations", sa.Column("trace_created_at_us", sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE observations AS o SET trace_created_at_us = t.created_at_us FROM traces AS t"
            " WHERE t.project_id = o.project_id AND t.id = o.trace_id"
        )
    else:
        op.execute(
            "UPDATE observations SET trace_created_at_us = (SELECT t.created_at_us FROM traces AS t"
            " WHERE t.project_id = observations.project_id AND t.id = observations.trace_id)"
        )
    op.execute("UPDATE observations SET trace_created_at_us = 0 WHERE trace_created_at_us IS NULL")
    _rekey(NEW_KEY, require_created=True, drop_created=False)


def downgrade() -> None:
    _rekey(OLD_KEY, require_created=False, drop_created=True)
