"""Datasets: datasets, their items, experiment runs and run items.

Written by hand to match ``storage/schema.py`` exactly (column types, constraint names from the
naming convention), so that autogenerate finds nothing left to do on either engine.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.String(length=64)
SHORT = sa.String(length=200)


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("project_id", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("name", SHORT, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_datasets_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_datasets")),
        sa.UniqueConstraint("project_id", "name", name="uq_datasets_project_name"),
    )
    op.create_index("ix_datasets_project_created", "datasets", ["project_id", "created_at_us"])

    op.create_table(
        "dataset_items",
        sa.Column("project_id", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("dataset_id", ID, nullable=False),
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column("expected_output", sa.Text(), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column("source_trace_id", ID, nullable=True),
        sa.Column("source_observation_id", ID, nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id", "dataset_id"],
            ["datasets.project_id", "datasets.id"],
            name=op.f("fk_dataset_items_project_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_dataset_items")),
    )
    op.create_index("ix_dataset_items_project_dataset", "dataset_items", ["project_id", "dataset_id", "created_at_us"])
    op.create_index(
        "ix_dataset_items_project_source",
        "dataset_items",
        ["project_id", "source_trace_id", "source_observation_id"],
    )

    op.create_table(
        "dataset_runs",
        sa.Column("project_id", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("dataset_id", ID, nullable=False),
        sa.Column("name", SHORT, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id", "dataset_id"],
            ["datasets.project_id", "datasets.id"],
            name=op.f("fk_dataset_runs_project_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_dataset_runs")),
        sa.UniqueConstraint("project_id", "dataset_id", "name", name="uq_dataset_runs_project_dataset_name"),
    )
    op.create_index(
        "ix_dataset_runs_project_dataset_created", "dataset_runs", ["project_id", "dataset_id", "created_at_us"]
    )

    op.create_table(
        "dataset_run_items",
        sa.Column("project_id", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("dataset_run_id", ID, nullable=False),
        sa.Column("dataset_item_id", ID, nullable=False),
        sa.Column("trace_id", ID, nullable=False),
        sa.Column("observation_id", ID, nullable=True),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id", "dataset_run_id"],
            ["dataset_runs.project_id", "dataset_runs.id"],
            name=op.f("fk_dataset_run_items_project_id_dataset_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id", "dataset_item_id"],
            ["dataset_items.project_id", "dataset_items.id"],
            name=op.f("fk_dataset_run_items_project_id_dataset_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_dataset_run_items")),
    )
    op.create_index(
        "ix_dataset_run_items_project_run", "dataset_run_items", ["project_id", "dataset_run_id", "created_at_us"]
    )
    op.create_index("ix_dataset_run_items_project_item", "dataset_run_items", ["project_id", "dataset_item_id"])


def downgrade() -> None:
    # Children first: the foreign keys point from run items to runs and items, and from those to datasets.
    for table in ("dataset_run_items", "dataset_runs", "dataset_items", "datasets"):
        op.drop_table(table)
