"""Human review: comments on traces, observations and sessions, and annotation queues with their
items and assigned reviewers (``storage/review_schema.py``). New tables only.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ID = sa.String(length=64)
SHORT = sa.String(length=200)


def _queue_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["project_id", "queue_id"],
        ["annotation_queues.project_id", "annotation_queues.id"],
        name=op.f(f"fk_{table}_project_id_annotation_queues"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("project_id", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("author_user_id", ID, nullable=True),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_comments")),
    )
    op.create_index(
        "ix_comments_project_object", "comments", ["project_id", "object_type", "object_id", "created_at_us"]
    )
    op.create_table(
        "annotation_queues",
        sa.Column("project_id", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("name", SHORT, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("score_config_ids", sa.Text(), nullable=False),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_annotation_queues")),
        sa.UniqueConstraint("project_id", "name", name="uq_annotation_queues_project_name"),
    )
    op.create_table(
        "annotation_queue_items",
        sa.Column("project_id", ID, nullable=False),
        sa.Column("id", ID, nullable=False),
        sa.Column("queue_id", ID, nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("completed_at_us", sa.BigInteger(), nullable=True),
        sa.Column("completed_by_user_id", ID, nullable=True),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_us", sa.BigInteger(), nullable=False),
        _queue_key("annotation_queue_items"),
        sa.PrimaryKeyConstraint("project_id", "id", name=op.f("pk_annotation_queue_items")),
        sa.UniqueConstraint(
            "project_id", "queue_id", "object_type", "object_id", name="uq_annotation_queue_items_object"
        ),
    )
    op.create_index(
        "ix_annotation_queue_items_queue_status",
        "annotation_queue_items",
        ["project_id", "queue_id", "status", "created_at_us"],
    )
    op.create_table(
        "annotation_queue_assignments",
        sa.Column("project_id", ID, nullable=False),
        sa.Column("queue_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        _queue_key("annotation_queue_assignments"),
        sa.PrimaryKeyConstraint("project_id", "queue_id", "user_id", name=op.f("pk_annotation_queue_assignments")),
    )


def downgrade() -> None:
    op.drop_table("annotation_queue_assignments")
    op.drop_index("ix_annotation_queue_items_queue_status", table_name="annotation_queue_items")
    op.drop_table("annotation_queue_items")
    op.drop_table("annotation_queues")
    op.drop_index("ix_comments_project_object", table_name="comments")
    op.drop_table("comments")
