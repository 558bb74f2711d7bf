"""Each engine's connections carry their session settings, whichever pooled connection a caller gets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text


def test_session_settings_hold_on_every_pooled_connection(dialect: str, engine: Any) -> None:
    # Several connections at once, one of them rolled back: a setting made inside a transaction
    # that is rolled back would be undone.
    connections = [engine.connect() for _ in range(3)]
    try:
        connections[0].rollback()
        for conn in connections:
            if dialect == "postgresql":
                assert conn.execute(text("SHOW jit")).scalar_one() == "off"
            else:
                assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
                assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    finally:
        for conn in connections:
            conn.close()
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        conn.rollback()
    with engine.connect() as conn:
        expected = "off" if dialect == "postgresql" else 30000
        query = "SHOW jit" if dialect == "postgresql" else "PRAGMA busy_timeout"
        assert conn.execute(text(query)).scalar_one() == expected
