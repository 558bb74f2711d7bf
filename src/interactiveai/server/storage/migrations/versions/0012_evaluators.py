"""LLM-as-a-judge: model connections, evaluators and their jobs (``storage/eval_schema.py``).

Only new tables: no existing row is touched. Written by hand to match the schema exactly.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ID = sa.String(length=64)
SHORT = sa.String(length=200)


def _times() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_us", sa.BigInteger(), nullable=False),
    ]


def _project_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["project_id"], ["projects.id"], name=op.f(f"fk_{table}_project_id_projects"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "llm_connections",
        sa.Column("project_id", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("name", SHORT, nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("api_key_encrypted", sa.Text(), nullable=True),
        sa.Column("api_key_hint", sa.String(length=20), nullable=True),
        sa.Column("params", sa.Text(), nullable=False),
        *_times(),
        _project_key("llm_connections"),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_llm_connections")),
        sa.UniqueConstraint("project_id", "name", name="uq_llm_connections_project_name"),
    )
    op.create_table(
        "evaluators",
        sa.Column("project_id", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("name", SHORT, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("connection_id", ID, nullable=False),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("variable_mapping", sa.Text(), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("observation_name", sa.Text(), nullable=True),
        sa.Column("observation_type", sa.String(length=20), nullable=True),
        sa.Column("score_name", SHORT, nullable=False),
        sa.Column("score_data_type", sa.String(length=20), nullable=False),
        sa.Column("score_min", sa.Float(), nullable=True),
        sa.Column("score_max", sa.Float(), nullable=True),
        sa.Column("score_categories", sa.Text(), nullable=True),
        sa.Column("sampling_rate", sa.Float(), nullable=False),
        sa.Column("filter", sa.Text(), nullable=False),
        sa.Column("delay_ms", sa.BigInteger(), nullable=False),
        sa.Column("trace_project_id", ID, nullable=True),
        sa.Column("scan_created_us", sa.BigInteger(), nullable=False),
        sa.Column("scan_trace_id", ID, nullable=False),
        *_times(),
        _project_key("evaluators"),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_evaluators")),
        sa.UniqueConstraint("project_id", "name", name="uq_evaluators_project_name"),
    )
    op.create_table(
        "evaluator_jobs",
        sa.Column("id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("evaluator_id", ID, nullable=False),
        sa.Column("trace_id", ID, nullable=False),
        sa.Column("observation_id", ID, nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_us", sa.BigInteger(), nullable=False),
        sa.Column("lease_until_us", sa.BigInteger(), nullable=True),
        sa.Column("lease_token", sa.String(length=40), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("score_id", ID, nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("input_tokens", sa.BigInteger(), nullable=True),
        sa.Column("output_tokens", sa.BigInteger(), nullable=True),
        sa.Column("total_tokens", sa.BigInteger(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("judge_trace_id", ID, nullable=True),
        *_times(),
        sa.Column("finished_at_us", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id", "evaluator_id"],
            ["evaluators.project_id", "evaluators.id"],
            name=op.f("fk_evaluator_jobs_project_id_evaluators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluator_jobs")),
        sa.UniqueConstraint("project_id", "evaluator_id", "trace_id", name="uq_evaluator_jobs_evaluator_trace"),
    )
    op.create_index("ix_evaluator_jobs_due", "evaluator_jobs", ["status", "next_attempt_us"])
    op.create_index("ix_evaluator_jobs_project_created", "evaluator_jobs", ["project_id", "created_at_us"])
    op.create_index(
        "ix_evaluator_jobs_evaluator_created", "evaluator_jobs", ["project_id", "evaluator_id", "created_at_us"]
    )


def downgrade() -> None:
    op.drop_table("evaluator_jobs")
    op.drop_table("evaluators")
    op.drop_table("llm_connections")
