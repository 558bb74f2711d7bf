"""Observations and trace tags keyed by their trace's creation time: inserts append to the keys.

The primary keys were ``(project_id, trace_id, id)`` and ``(project_id, tag, trace_id)``. Trace
ids are random, so every new span and tag row landed on a random page of its key, and on SQLite
each page a transaction dirties is written to the WAL at commit: with a few hundred spans per
group commit, about a page per span. Putting the trace row's ``created_at_us`` (traces are
created in time order) before the trace id makes the inserts of new traces append at the end.
A trace's rows are then found through the trace row (``schema.observations_of_trace``,
``schema.trace_has_tag``), still by primary key. On SQLite trace_tags loses its rowid: the key
is the whole row.

Existing rows get their trace's ``created_at_us``; an observation whose trace row is missing
(never written by the server itself) gets 0 and stays readable by id; such a tag row is dropped.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from typing import Any

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


TAG_COLUMNS = ["project_id", "tag", "trace_id"]
NEW_TAG_KEY = ["project_id", "tag", "trace_created_at_us", "trace_id"]


def _tags_table(name: str, key: list[str], *, created: bool) -> None:
    """SQLite: a trace_tags table under another name, to copy into (keys cannot be altered)."""
    columns: list[sa.Column[Any]] = [
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("tag", sa.String(length=200), nullable=False),
        sa.Column("trace_id", sa.String(length=64), nullable=False),
    ]
    if created:
        columns.append(sa.Column("trace_created_at_us", sa.BigInteger(), nullable=False))
    op.create_table(name, *columns, sa.PrimaryKeyConstraint(*key, name="pk_trace_tags"), sqlite_with_rowid=not created)


def _rekey_tags_upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("trace_tags", sa.Column("trace_created_at_us", sa.BigInteger(), nullable=True))
        op.execute(
            "UPDATE trace_tags AS g SET trace_created_at_us = t.created_at_us FROM traces AS t"
            " WHERE t.project_id = g.project_id AND t.id = g.trace_id"
        )
        op.execute("DELETE FROM trace_tags WHERE trace_created_at_us IS NULL")
        op.alter_column("trace_tags", "trace_created_at_us", existing_type=sa.BigInteger(), nullable=False)
        op.drop_constraint("pk_trace_tags", "trace_tags", type_="primary")
        op.create_primary_key("pk_trace_tags", "trace_tags", NEW_TAG_KEY)
        return
    _tags_table("trace_tags_rekeyed", NEW_TAG_KEY, created=True)
    op.execute(
        "INSERT INTO trace_tags_rekeyed (project_id, tag, trace_id, trace_created_at_us)"
        " SELECT g.project_id, g.tag, g.trace_id, t.created_at_us FROM trace_tags AS g"
        " JOIN traces AS t ON t.project_id = g.project_id AND t.id = g.trace_id"
    )
    op.drop_table("trace_tags")
    op.rename_table("trace_tags_rekeyed", "trace_tags")


def _rekey_tags_downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("pk_trace_tags", "trace_tags", type_="primary")
        op.create_primary_key("pk_trace_tags", "trace_tags", TAG_COLUMNS)
        op.drop_column("trace_tags", "trace_created_at_us")
        return
    _tags_table("trace_tags_rekeyed", TAG_COLUMNS, created=False)
    op.execute(
        "INSERT INTO trace_tags_rekeyed (project_id, tag, trace_id) SELECT project_id, tag, trace_id FROM trace_tags"
    )
    op.drop_table("trace_tags")
    op.rename_table("trace_tags_rekeyed", "trace_tags")


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
    _rekey_tags_upgrade()


def downgrade() -> None:
    _rekey_tags_downgrade()
    _rekey(OLD_KEY, require_created=False, drop_created=True)
