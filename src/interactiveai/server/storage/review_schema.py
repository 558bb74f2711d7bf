"""Tables of human review: comments on traces, observations and sessions, and annotation queues
(a list of things to review, each reviewed once, with the score configs reviewers fill in).

Objects are referenced by type and id, not by foreign key: a trace may be deleted or expire by
retention while a comment on it or a queue item for it stays readable (it then says the object is
gone). Queue items are unique per queue and object, so adding the same trace twice is a no-op.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKeyConstraint, Index, String, Table, Text, UniqueConstraint

from interactiveai.server.storage.schema import ID, SHORT, metadata

OBJECT_TYPES = ("TRACE", "OBSERVATION", "SESSION")
ITEM_STATUSES = ("PENDING", "COMPLETED")

comments = Table(
    "comments",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("object_type", String(20), nullable=False),  # TRACE | OBSERVATION | SESSION
    Column("object_id", Text, nullable=False),
    Column("content", Text, nullable=False),  # markdown source, at most 5,000 characters
    Column("author_user_id", ID, nullable=True),  # None: written through the API with a project key
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
    Index("ix_comments_project_object", "project_id", "object_type", "object_id", "created_at_us"),
)

annotation_queues = Table(
    "annotation_queues",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("name", SHORT, nullable=False),
    Column("description", Text, nullable=True),
    Column("score_config_ids", Text, nullable=False, default="[]"),  # JSON list, in display order
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
    UniqueConstraint("project_id", "name", name="uq_annotation_queues_project_name"),
)

annotation_queue_items = Table(
    "annotation_queue_items",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("id", ID, primary_key=True),
    Column("queue_id", ID, nullable=False),
    Column("object_type", String(20), nullable=False),
    Column("object_id", Text, nullable=False),
    Column("status", String(10), nullable=False, default="PENDING"),  # PENDING | COMPLETED
    Column("completed_at_us", BigInteger, nullable=True),
    Column("completed_by_user_id", ID, nullable=True),
    Column("created_at_us", BigInteger, nullable=False),
    Column("updated_at_us", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["project_id", "queue_id"], ["annotation_queues.project_id", "annotation_queues.id"], ondelete="CASCADE"
    ),
    UniqueConstraint("project_id", "queue_id", "object_type", "object_id", name="uq_annotation_queue_items_object"),
    Index("ix_annotation_queue_items_queue_status", "project_id", "queue_id", "status", "created_at_us"),
)

annotation_queue_assignments = Table(
    "annotation_queue_assignments",
    metadata,
    Column("project_id", ID, primary_key=True),
    Column("queue_id", ID, primary_key=True),
    Column("user_id", ID, primary_key=True),
    Column("created_at_us", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["project_id", "queue_id"], ["annotation_queues.project_id", "annotation_queues.id"], ondelete="CASCADE"
    ),
)
