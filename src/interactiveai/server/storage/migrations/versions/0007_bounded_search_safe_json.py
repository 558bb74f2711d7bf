"""PostgreSQL: a full-text index that accepts any payload, and a JSON cast that never raises.

1. The GIN index of 0002 indexed ``to_tsvector`` of the whole input and output. A tsvector holds at
   most 1 MiB of lexemes and positions (SQLSTATE 54000 beyond), so a trace whose payload has many
   distinct words (a tool output listing 50,000 UUIDs, a retrieved document set) could not be
   stored on PostgreSQL, while SQLite's FTS5 has no such limit. The index now covers the first
   40,000 characters of each of input and output (``substr``, which reads only that slice of a
   long, TOASTed value). Why that bound is safe for any text: a character is at most 4 bytes of
   UTF-8 and sits in at most two lexemes (a hyphenated word and its part, a URL and its host or
   path); each distinct lexeme adds at most 5 bytes (alignment, position count, one position),
   each repeat 2, and a lexeme needs a separator after it. The worst cases measured on
   PostgreSQL 15 (hyphenated pairs and long hyphenated words of distinct 4-byte letters) need
   7.8 bytes per character, approaching 8; the limit of 1,048,575 bytes allows 13.1 bytes per
   character for 80,001 characters (two bounded columns and a space), a margin of 1.6x. Words of
   2 KiB and more are skipped by PostgreSQL itself, with a notice. ``strip()`` would not help:
   the limit is checked while the tsvector is built. ``query/search.py`` builds the very same
   expression, so the planner uses the index.

2. ``interactiveai_try_jsonb(text)``: the text as jsonb, or NULL when it is not valid JSON (or
   holds what jsonb refuses: a ``\\u0000`` escape, a number beyond numeric's range, nesting beyond
   the stack). PostgreSQL 15 has no non-raising cast, and one unreadable stored metadata row made
   the UI's metadata filter fail the whole list. The exception block costs a subtransaction per
   call, and subtransactions cannot start in a parallel worker, so the function is PARALLEL
   UNSAFE (a query using it is planned without parallel workers).

SQLite needs neither: FTS5 has no size limit, and ``json_valid`` already guards ``json_extract``.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SEARCH_CHARS = 40_000
BOUNDED_TSVECTOR = (
    f"to_tsvector('simple', substr(coalesce(input, ''), 1, {SEARCH_CHARS})"
    f" || ' ' || substr(coalesce(output, ''), 1, {SEARCH_CHARS}))"
)
UNBOUNDED_TSVECTOR = "to_tsvector('simple', coalesce(input, '') || ' ' || coalesce(output, ''))"  # 0002's

TRY_JSONB = """
CREATE OR REPLACE FUNCTION interactiveai_try_jsonb(value text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL UNSAFE AS $$
BEGIN
    RETURN value::jsonb;
EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
    RETURN NULL;
END
$$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_traces_fulltext")
    op.execute(f"CREATE INDEX ix_traces_fulltext ON traces USING gin ({BOUNDED_TSVECTOR})")
    op.execute(TRY_JSONB)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS interactiveai_try_jsonb(text)")
    op.execute("DROP INDEX IF EXISTS ix_traces_fulltext")
    # Rows stored since the upgrade may exceed what 0002's index accepts: downgrading then fails
    # with "string is too long for tsvector" and leaves the database at 0007, unchanged.
    op.execute(f"CREATE INDEX ix_traces_fulltext ON traces USING gin ({UNBOUNDED_TSVECTOR})")
