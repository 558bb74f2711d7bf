"""Full-text search over trace input/output with each engine's own index.

SQLite: an FTS5 table with external content (the traces rows themselves), kept in step by
triggers, so ingestion needs no extra code path. PostgreSQL: a GIN index on a tsvector
expression; the query uses the same expression so the planner picks the index.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_UP = [
    """CREATE VIRTUAL TABLE traces_fts USING fts5(
        input, output, content='traces', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER traces_fts_insert AFTER INSERT ON traces BEGIN
        INSERT INTO traces_fts(rowid, input, output) VALUES (new.rowid, new.input, new.output);
    END""",
    """CREATE TRIGGER traces_fts_delete AFTER DELETE ON traces BEGIN
        INSERT INTO traces_fts(traces_fts, rowid, input, output) VALUES ('delete', old.rowid, old.input, old.output);
    END""",
    # Only when the payload really changed: roll-up updates rewrite the row on every batch.
    """CREATE TRIGGER traces_fts_update AFTER UPDATE OF input, output ON traces
        WHEN old.input IS NOT new.input OR old.output IS NOT new.output BEGIN
        INSERT INTO traces_fts(traces_fts, rowid, input, output) VALUES ('delete', old.rowid, old.input, old.output);
        INSERT INTO traces_fts(rowid, input, output) VALUES (new.rowid, new.input, new.output);
    END""",
    "INSERT INTO traces_fts(traces_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS traces_fts_update",
    "DROP TRIGGER IF EXISTS traces_fts_delete",
    "DROP TRIGGER IF EXISTS traces_fts_insert",
    "DROP TABLE IF EXISTS traces_fts",
]
POSTGRES_TSVECTOR = "to_tsvector('simple', coalesce(input, '') || ' ' || coalesce(output, ''))"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
    else:
        op.execute(f"CREATE INDEX ix_traces_fulltext ON traces USING gin ({POSTGRES_TSVECTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    else:
        op.execute("DROP INDEX IF EXISTS ix_traces_fulltext")
