"""Keys for the sessions, users and observation lists at scale (``storage/rollup_schema.py``).

- ``rollup_user_hours``: a project's traces with a user per hour (and UTC day), environment and
  user, maintained by the refresher like the other roll-ups; every hour holding a trace with a
  user is marked dirty here, so the first server start computes it in the background (the users
  list scans dirty hours exactly meanwhile).
- ``ix_traces_project_time_keys``: the sessions and users lists walk the newest traces reading
  only this index.
- ``ix_observations_project_level_start``: observations of a level other than DEFAULT, by time.

Only new tables and indexes: no existing row is rewritten.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

HOUR_US = 3_600_000_000


def upgrade() -> None:
    big = sa.BigInteger()
    op.create_table(
        "rollup_user_hours",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("hour_us", big, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("environment", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("traces", sa.Integer(), nullable=False),
        sa.Column("input_tokens", big, nullable=False),
        sa.Column("output_tokens", big, nullable=False),
        sa.Column("total_tokens", big, nullable=False),
        sa.Column("total_cost", sa.Float(), nullable=False),
        sa.Column("costed", sa.Integer(), nullable=False),
        sa.Column("first_us", big, nullable=False),
        sa.Column("last_us", big, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "hours", "hour_us", "seq", name=op.f("pk_rollup_user_hours")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_rollup_user_hours_user", "rollup_user_hours", ["project_id", "user_id", "hours", "hour_us"])
    op.create_index(
        "ix_traces_project_time_keys", "traces", ["project_id", "timestamp_us", "environment", "user_id", "session_id"]
    )
    not_default = sa.text("level != 'DEFAULT'")
    op.create_index(
        "ix_observations_project_level_start",
        "observations",
        ["project_id", "level", "start_time_us"],
        sqlite_where=not_default,
        postgresql_where=not_default,
    )
    op.execute(
        "INSERT INTO rollup_dirty (project_id, hour_us)"
        f" SELECT DISTINCT project_id, (timestamp_us / {HOUR_US}) * {HOUR_US} FROM traces WHERE user_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_observations_project_level_start", table_name="observations")
    op.drop_index("ix_traces_project_time_keys", table_name="traces")
    op.drop_index("ix_rollup_user_hours_user", table_name="rollup_user_hours")
    op.drop_table("rollup_user_hours")
