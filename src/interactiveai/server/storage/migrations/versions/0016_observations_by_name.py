"""Observations of one name, newest first (``GET /api/public/observations?name=``).

``ix_observations_project_name_start``: without it a name that few observations have was found by
walking the project's start-time index and reading each row until a page was found (6 s at 5 M
observations on PostgreSQL for a name 50 rows have). A project has tens to hundreds of names, so
the index is one more entry per observation, like the type index beside it.

Only a new index: no existing row is rewritten.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_observations_project_name_start", "observations", ["project_id", "name", "start_time_us"])


def downgrade() -> None:
    op.drop_index("ix_observations_project_name_start", table_name="observations")
