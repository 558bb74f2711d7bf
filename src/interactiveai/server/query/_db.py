"""Small helpers shared by the query modules: connections and JSON columns."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import Connection, Engine

Db = Engine | Connection
"""Query functions accept either; an engine gets a short-lived connection per call."""


@contextmanager
def connect(db: Db) -> Iterator[Connection]:
    """Yield a connection: the given one, or a fresh one from the engine (closed afterwards)."""
    if isinstance(db, Connection):
        yield db
        return
    with db.connect() as conn:
        yield conn


def load_json(text: str | None) -> Any:
    """Parse a stored JSON column. Text that is not JSON is returned as-is, never raised on.

    Ingestion stores what clients sent; a client may have sent a bare string that is not
    JSON, and one odd payload must not make a whole trace unreadable.
    """
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def load_json_object(text: str | None) -> dict[str, Any]:
    """Parse a JSON object column (metadata, usage/cost maps); anything else reads as ``{}``."""
    value = load_json(text)
    return value if isinstance(value, dict) else {}


def load_json_list(text: str | None) -> list[Any]:
    value = load_json(text)
    return value if isinstance(value, list) else []
