"""Pre-aggregated roll-ups for the dashboard and the metrics endpoints, and their dirty-hour log.

See ``storage/rollup_schema.py``. Existing data gets its roll-ups from the refresher: every hour
that holds a trace, a model call or a score is written to the dirty log here, so the first server
start computes them in the background (readers scan exactly whatever is still dirty meanwhile).

Written by hand to match ``storage/rollup_schema.py`` exactly, like 0003.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.String(length=64)
HOUR_US = 3_600_000_000


def _rollup(name: str, period: str, *columns: sa.Column[object]) -> None:
    hourly = period == "hour_us"  # hourly tables hold day rows too, told apart by ``hours``
    key = ["project_id", *(["hours"] if hourly else []), period, "seq"]
    op.create_table(
        name,
        sa.Column("project_id", ID, nullable=False),
        *([sa.Column("hours", sa.Integer(), nullable=False)] if hourly else []),
        sa.Column(period, sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{name}")),
        sqlite_with_rowid=False,
    )


def _counts(*names: str) -> list[sa.Column[object]]:
    wide = ("observations", "input_tokens", "output_tokens", "total_tokens", "latency_sum")
    return [sa.Column(n, sa.BigInteger() if n in wide else sa.Integer(), nullable=False) for n in names]


def upgrade() -> None:
    op.create_table(
        "rollup_dirty",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("hour_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_dirty")),
    )
    op.create_index("ix_rollup_dirty_project_hour", "rollup_dirty", ["project_id", "hour_us"])

    def env() -> sa.Column[object]:
        return sa.Column("environment", sa.String(length=40), nullable=False)

    _rollup(
        "rollup_trace_hours",
        "hour_us",
        env(),
        sa.Column("name", sa.Text(), nullable=True),
        *_counts("traces", "observations", "error_traces", "warning_traces"),
        *_counts("input_tokens", "output_tokens", "total_tokens"),
        sa.Column("total_cost", sa.Float(), nullable=False),
        *_counts("costed", "latency_count", "latency_sum"),
        sa.Column("latency_hist", sa.Text(), nullable=False),
    )
    _rollup(
        "rollup_model_hours",
        "hour_us",
        env(),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        *_counts("calls", "input_tokens", "output_tokens", "total_tokens"),
        sa.Column("total_cost", sa.Float(), nullable=False),
        *_counts("costed", "latency_count", "latency_sum"),
        sa.Column("latency_hist", sa.Text(), nullable=False),
    )
    _rollup(
        "rollup_user_days",
        "day_us",
        env(),
        sa.Column("user_id", sa.Text(), nullable=False),
        *_counts("traces", "total_tokens"),
        sa.Column("total_cost", sa.Float(), nullable=False),
        *_counts("costed"),
    )
    _rollup(
        "rollup_model_days",
        "day_us",
        sa.Column("environment", sa.String(length=40), nullable=True),
        sa.Column("model", sa.Text(), nullable=False),
        *_counts("traces"),
    )
    _rollup(
        "rollup_score_hours",
        "hour_us",
        env(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("data_type", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        *_counts("scores", "value_count"),
        sa.Column("value_sum", sa.Float(), nullable=False),
        sa.Column("value_min", sa.Float(), nullable=True),
        sa.Column("value_max", sa.Float(), nullable=True),
        sa.Column("string_counts", sa.Text(), nullable=False),
    )
    op.create_index("ix_scores_project_time", "scores", ["project_id", "timestamp_us"])
    # Every hour that already holds data is dirty: the refresher computes it after the upgrade.
    op.execute(
        "INSERT INTO rollup_dirty (project_id, hour_us)"
        f" SELECT project_id, (timestamp_us / {HOUR_US}) * {HOUR_US} FROM traces"
        f" UNION SELECT project_id, (start_time_us / {HOUR_US}) * {HOUR_US} FROM observations WHERE model IS NOT NULL"
        f" UNION SELECT project_id, (timestamp_us / {HOUR_US}) * {HOUR_US} FROM scores"
    )


def downgrade() -> None:
    op.drop_index("ix_scores_project_time", table_name="scores")
    for name in (
        "rollup_score_hours",
        "rollup_model_days",
        "rollup_user_days",
        "rollup_model_hours",
        "rollup_trace_hours",
    ):
        op.drop_table(name)
    op.drop_index("ix_rollup_dirty_project_hour", table_name="rollup_dirty")
    op.drop_table("rollup_dirty")
