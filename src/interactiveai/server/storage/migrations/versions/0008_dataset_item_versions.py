"""Dataset item history: one row per state an item has had, so items can be read as they stood.

``GET /dataset-items?datasetName=…&version=<time>`` answers the items of a dataset as they were at
that time: an upsert after it does not change the answer, an item created after it is not there,
and one deleted after it still is. ``dataset_items`` keeps only the current state (every current
read stays on it); each write also closes the item's open version (``valid_to_us``) and adds the
new one, in the same transaction. A version is the item's state from ``valid_from_us`` included to
``valid_to_us`` excluded (NULL: still current, unless the item was deleted).

Existing items get one version each, valid from their creation: their earlier states were not
kept, so a time between their creation and their last update reads their current state.

Written by hand to match ``storage/schema.py`` exactly, like 0003.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ID = sa.String(length=64)

_COPIED = (
    "project_id, item_id, valid_from_us, valid_to_us, dataset_id, input, expected_output, metadata,"
    " source_trace_id, source_observation_id, status, created_at_us"
)


def upgrade() -> None:
    op.create_table(
        "dataset_item_versions",
        sa.Column("project_id", ID, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("valid_from_us", sa.BigInteger(), nullable=False),
        sa.Column("valid_to_us", sa.BigInteger(), nullable=True),
        sa.Column("dataset_id", ID, nullable=False),
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column("expected_output", sa.Text(), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column("source_trace_id", ID, nullable=True),
        sa.Column("source_observation_id", ID, nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id", "dataset_id"],
            ["datasets.project_id", "datasets.id"],
            name=op.f("fk_dataset_item_versions_project_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "item_id", "valid_from_us", name=op.f("pk_dataset_item_versions")),
    )
    op.create_index(
        "ix_dataset_item_versions_project_dataset",
        "dataset_item_versions",
        ["project_id", "dataset_id", "valid_from_us"],
    )
    op.execute(
        f"INSERT INTO dataset_item_versions ({_COPIED})"
        " SELECT project_id, id, created_at_us, NULL, dataset_id, input, expected_output, metadata,"
        " source_trace_id, source_observation_id, status, created_at_us FROM dataset_items"
    )


def downgrade() -> None:
    op.drop_table("dataset_item_versions")
