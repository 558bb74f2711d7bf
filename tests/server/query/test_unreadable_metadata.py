"""A stored metadata text that is not JSON never fails a list (DESIGN §8; migration 0007).

No version of the server writes such text now, but an older one or a direct write could have.
PostgreSQL 15 has no cast that does not raise: the UI's metadata filter reads the column through
``interactiveai_try_jsonb`` (NULL for text that is not JSON), and parses only the rows whose text
can hold the key. These rows are written straight into the database, on both engines.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import text, update

from interactiveai.server.query.ui_traces import TraceListFilter, count_matching, list_trace_page, matching_ids
from interactiveai.server.storage.schema import traces
from interactiveai.server.tenancy import add_membership, create_user
from tests.server.query.seed import add_observation, add_trace, obs_id, trace_id
from tests.server.ui.conftest import PASSWORD, login

# stored metadata text → which engines match it with ``customer = acme``
BOTH, NONE, SQLITE = ("sqlite", "postgresql"), (), ("sqlite",)
ROWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "plain": ('{"customer": "acme", "plan": "pro"}', BOTH),
    "other value": ('{"customer": "globex"}', NONE),
    "NUL escape elsewhere": ('{"note": "a\\u0000b", "customer": "acme"}', BOTH),
    "quote in another value": ('{"q": "say \\"customer\\"", "customer": "acme"}', BOTH),
    "key only nested": ('{"x": {"customer": "acme"}}', NONE),
    "an array": ('["customer", "acme"]', NONE),
    "a string": ('"customer acme"', NONE),
    # not JSON, or not what jsonb accepts: each made the PostgreSQL filter fail the whole list
    "not JSON": ('{"customer": "acme"', NONE),
    "garbage": ("{not json", NONE),
    "empty": ("", NONE),
    "NaN literal": ('{"a": NaN, "customer": "acme"}', NONE),
    # JSON by RFC 8259, yet refused by jsonb and by the readers (whose metadata then reads {}):
    # SQLite's json_valid accepts them
    "number beyond numeric": ('{"n": 1e999999, "customer": "acme"}', SQLITE),
    "lone surrogate escape": ('{"s": "\\ud800", "customer": "acme"}', SQLITE),
    "deeply nested": ("[" * 5000 + "]" * 5000, NONE),
}


def _seed(engine: Any, project_id: str, rows: dict[str, tuple[str, Any]]) -> dict[str, str]:
    """One trace (with an observation) per row, its metadata written as is; name → trace id."""
    ids = {}
    for n, (name, (stored, _)) in enumerate(rows.items(), 1):
        tid = trace_id(n)
        add_trace(engine, project_id, tid, name=name)
        add_observation(engine, project_id, tid, obs_id(n), metadata="{}")
        with engine.begin() as conn:
            conn.execute(
                update(traces).where(traces.c.project_id == project_id, traces.c.id == tid).values(metadata=stored)
            )
        ids[name] = tid
    return ids


def _matching(engine: Any, ids: dict[str, str]) -> list[str]:
    return sorted(ids[name] for name, (_, engines) in ROWS.items() if engine.dialect.name in engines)


@pytest.fixture
def ui(client: Any, engine: Any, project: Any) -> Any:
    add_membership(engine, create_user(engine, "member@example.com", PASSWORD, name="Mia Member"), project.id)
    assert login(client, "member@example.com").status_code == 303
    return client


def test_the_metadata_filter_skips_unreadable_rows(engine: Any, project: Any, other_project: Any) -> None:
    ids = _seed(engine, project.id, ROWS)
    _seed(engine, other_project.id, {"garbage": ("{not json", NONE)})  # another project's row
    expected = _matching(engine, ids)
    filt = TraceListFilter(metadata=[("customer", "acme")])
    page = list_trace_page(engine, project.id, filt, limit=100)
    assert sorted(row["id"] for row in page.rows) == expected
    assert count_matching(engine, project.id, filt, 1000) == len(expected)
    assert sorted(matching_ids(engine, project.id, filt, 1000)) == expected
    # a filter no row matches reads (and, on PostgreSQL, parses) every row
    assert list_trace_page(engine, project.id, TraceListFilter(metadata=[("customer", "none")])).rows == []
    assert list_trace_page(engine, project.id, TraceListFilter(metadata=[("absent", "x")])).rows == []


def test_the_ui_list_and_the_api_lists_answer(client: Any, ui: Any, engine: Any, project: Any) -> None:
    ids = _seed(engine, project.id, ROWS)
    base = f"/project/{project.id}/traces"
    for meta in ("customer=acme", "customer=none", "a=1", 'q=say "customer"'):
        for path in (base, base + ".json"):
            response = ui.get(f"{path}?range=all&meta={quote(meta)}")
            assert response.status_code == 200, (meta, path, response.text[:300])
    listed = ui.get(f"{base}.json?range=all&limit=100&meta={quote('customer=acme')}").json()["data"]
    assert sorted(t["id"] for t in listed) == _matching(engine, ids)
    for path in ("/api/public/traces?limit=100", "/api/public/observations?limit=100", "/api/public/sessions"):
        response = client.get(path, headers=project.headers)
        assert response.status_code == 200, (path, response.text[:300])
    assert len(client.get("/api/public/traces?limit=100", headers=project.headers).json()["data"]) == len(ROWS)
    for tid in ids.values():
        assert client.get(f"/api/public/traces/{tid}", headers=project.headers).status_code == 200
        assert ui.get(f"{base}/{tid}").status_code == 200


def test_postgresql_reads_an_escaped_key_and_never_raises(engine: Any, project: Any) -> None:
    """The key gate (parse only text that holds the key quoted, or any backslash) misses no match:
    a key spelled with escapes is found, like jsonb finds it. (SQLite's json_extract compares
    keys as written, so there the escaped key does not match.)"""
    if engine.dialect.name != "postgresql":
        pytest.skip("interactiveai_try_jsonb is PostgreSQL's")
    rows = {
        "escaped key": ('{"\\u0063ustomer": "acme"}', ("postgresql",)),
        "escaped quote in key": ('{"a\\"b": "acme"}', NONE),
        "key with a quote": ('{"cu\\"st": "acme"}', NONE),
    }
    ids = _seed(engine, project.id, rows)
    page = list_trace_page(engine, project.id, TraceListFilter(metadata=[("customer", "acme")]))
    assert [row["id"] for row in page.rows] == [ids["escaped key"]]
    page = list_trace_page(engine, project.id, TraceListFilter(metadata=[('cu"st', "acme")]))
    assert [row["id"] for row in page.rows] == [ids["key with a quote"]]
    with engine.connect() as conn:
        for stored, _ in ROWS.values():
            parsed = conn.execute(text("SELECT interactiveai_try_jsonb(:v) IS NULL"), {"v": stored}).scalar_one()
            try:
                with conn.begin_nested():
                    conn.execute(text("SELECT CAST(:v AS jsonb)"), {"v": stored})
                valid = True
            except Exception:
                valid = False
            assert parsed is not valid, stored[:60]
