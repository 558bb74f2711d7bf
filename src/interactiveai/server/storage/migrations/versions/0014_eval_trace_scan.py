"""LLM-as-a-judge finds new traces by their rows (``storage/eval_schema.py``).

- ``ix_traces_project_created``: traces in creation order, the evaluation worker's scan; before,
  it read the observations' key, so a trace without observations was never evaluated, nor one
  whose first observation arrived after the scan had passed its creation time.
- ``ix_evaluator_jobs_project_trace``: a trace's evaluation jobs, deleted with the trace.

Only new indexes: no existing row is rewritten. The evaluators' scan positions are keys of the
same (creation time, trace id) order, so they carry over.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_traces_project_created", "traces", ["project_id", "created_at_us"])
    op.create_index("ix_evaluator_jobs_project_trace", "evaluator_jobs", ["project_id", "trace_id"])


def downgrade() -> None:
    op.drop_index("ix_evaluator_jobs_project_trace", table_name="evaluator_jobs")
    op.drop_index("ix_traces_project_created", table_name="traces")
