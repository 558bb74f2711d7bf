"""Full-text search over trace input/output, backed by each engine's own index (migrations 0002, 0007).

SQLite's FTS5 indexes the whole input and output. PostgreSQL's tsvector holds at most 1 MiB, so
its index covers the first :data:`POSTGRES_SEARCH_CHARS` characters of each (migration 0007 says
why that bound holds for any text): a word found only further into a long payload is not found.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Select, and_, bindparam, literal_column, select, text

_TOKEN = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 12  # bound the work one query can ask of the index
POSTGRES_SEARCH_CHARS = 40_000
# Exactly the expression of the GIN index ix_traces_fulltext (migration 0007), so the planner uses it.
POSTGRES_TSVECTOR = (
    f"to_tsvector('simple', substr(coalesce(traces.input, ''), 1, {POSTGRES_SEARCH_CHARS})"
    f" || ' ' || substr(coalesce(traces.output, ''), 1, {POSTGRES_SEARCH_CHARS}))"
)


def search_terms(query: str) -> list[str]:
    """The words of a user's search box, lower-cased; punctuation separates words, as the indexes do."""
    return [token.lower() for token in _TOKEN.findall(query)][:MAX_TERMS]


def trace_fulltext_condition(dialect_name: str, query: str) -> ColumnElement[bool] | None:
    """A WHERE condition on ``traces`` matching every word of ``query`` in input or output.

    The last word matches as a prefix, so results appear while a person is still typing.
    Returns None when the query has no words (no condition to apply).
    """
    terms = search_terms(query)
    if not terms:
        return None
    if dialect_name == "sqlite":
        # FTS5 syntax: quoted strings are literal phrases (quotes doubled), `*` makes a prefix.
        fts_query = " ".join(f'"{term}"' for term in terms[:-1]) + f' "{terms[-1]}"*'
        matching_rowids: Select[tuple[int]] = (
            select(literal_column("rowid"))
            .select_from(text("traces_fts"))
            .where(text("traces_fts MATCH :fts_query").bindparams(bindparam("fts_query", fts_query.strip())))
        )
        return literal_column("traces.rowid").in_(matching_rowids)
    # PostgreSQL: the expression must equal the GIN index's for the planner to use it.
    ts_query = " & ".join(terms[:-1] + [terms[-1] + ":*"])
    condition = text(f"{POSTGRES_TSVECTOR} @@ to_tsquery('simple', :ts_query)").bindparams(
        bindparam("ts_query", ts_query)
    )
    return and_(condition)  # typed as a boolean condition, like the SQLite branch
