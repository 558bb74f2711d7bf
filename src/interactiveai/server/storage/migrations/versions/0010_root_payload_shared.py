"""A trace's input/output and its root observation's, stored once (``storage/payload_sharing.py``);
payloads compressed with lz4 on PostgreSQL.

``traces.root_io_shared`` and ``observations.io_on_trace`` say which of input (1) and output (2)
the root observation reads from its trace row instead of keeping a copy. Both are new columns
with a constant default: an O(1) change of the schema on either engine (SQLite keeps the default
in the table's definition; PostgreSQL 11 and later in the catalogue), with no rewrite, scan or
backfill of existing rows, which read as 0 (each keeps its own copy, as before) and stay valid.

PostgreSQL compresses a row's large values (TOAST, above ~2 KB) with pglz unless told otherwise;
lz4 (PostgreSQL 14+, when the server was built with it) wrote the realistic workload's payloads
with ~27 % less server time and 3 % fewer bytes (docs/benchmarks.md, "Payload storage"). ``SET
COMPRESSION`` changes only the catalogue: values already stored keep pglz and read as before,
new ones are written with lz4. A server without lz4 keeps pglz.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


PAYLOAD_COLUMNS = {"traces": ("input", "output"), "observations": ("input", "output")}


def upgrade() -> None:
    op.add_column("traces", sa.Column("root_io_shared", sa.SmallInteger(), nullable=False, server_default="0"))
    op.add_column("observations", sa.Column("io_on_trace", sa.SmallInteger(), nullable=False, server_default="0"))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and _has_lz4(bind):
        for table, columns in PAYLOAD_COLUMNS.items():
            changes = ", ".join(f"ALTER COLUMN {column} SET COMPRESSION lz4" for column in columns)
            op.execute(f"ALTER TABLE {table} {changes}")


def _has_lz4(bind: sa.Connection) -> bool:
    """PostgreSQL 14+ built with lz4 (``default_toast_compression`` accepts it)."""
    if (bind.dialect.server_version_info or (0,)) < (14,):
        return False
    enum = bind.execute(sa.text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'"))
    values = enum.scalar()
    return values is not None and "lz4" in values


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and _has_lz4(bind):
        for table, columns in PAYLOAD_COLUMNS.items():
            changes = ", ".join(f"ALTER COLUMN {column} SET COMPRESSION DEFAULT" for column in columns)
            op.execute(f"ALTER TABLE {table} {changes}")
    # Shared payloads are copied back first, so the observations read as before without the column.
    for side, bits in (("input", "(1, 3)"), ("output", "(2, 3)")):
        op.execute(
            f"UPDATE observations SET {side} = (SELECT t.{side} FROM traces t"
            " WHERE t.project_id = observations.project_id AND t.id = observations.trace_id)"
            f" WHERE io_on_trace IN {bits}"
        )
    # Not a batch (table copy) on SQLite: that would drop the full-text triggers on traces.
    op.execute("ALTER TABLE observations DROP COLUMN io_on_trace")
    op.execute("ALTER TABLE traces DROP COLUMN root_io_shared")
