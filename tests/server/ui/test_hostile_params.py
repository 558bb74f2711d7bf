"""Hostile URL state and form values on the UI: a page that answers (ignoring what it cannot use,
or saying what is wrong), never a 5xx; and what a form refuses is not stored.

A list link's ``page`` or ``cursor`` is state the server made; anything else in it (a number
beyond 64 bits, a cursor holding one, text no engine compares) is ignored: the first page.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from interactiveai.server.clock import MAX_US, MIN_US
from interactiveai.server.storage import schema
from interactiveai.server.ui import formatting
from interactiveai.server.ui.filters import MAX_PAGE, page_number
from tests.server.ui.conftest import csrf_from
from tests.server.ui.seed import add_trace, tid

PAGES = [str(2**64), "9" * 5000, "²", "-3", "0", "1e5", "1.5", " 2", "", "\u0661"]


def cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(parts))).decode().rstrip("=")


def raw_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


CURSORS = [
    cursor("timestamp", 2**64 - 1, "a" * 32, "next"),
    cursor("timestamp", -(2**63) - 1 + 1, "a" * 32, "prev"),
    cursor("latency", 9.9e307, "a" * 32, "next"),
    cursor("name", "a\x00b", "a" * 32, "next"),
    cursor("timestamp", 1, "a\x00", "next"),
    cursor("timestamp", True, "a" * 32, "next"),
    cursor("timestamp", [1], "a" * 32, "next"),
    raw_cursor('["timestamp", 1e999, "a", "next"]'),
    raw_cursor('["timestamp", NaN, "a", "next"]'),
    raw_cursor('["timestamp", 18446744073709551616, "a", "next"]'),
    raw_cursor("[" * 5000 + "]" * 5000),
    "!!!not base64",
    "A" * 10_000,
]


@pytest.fixture
def traces(engine: Any, project: Any) -> list[str]:
    from interactiveai.server.clock import now_us

    now = now_us()
    return [add_trace(engine, project.id, tid(f"t{i}"), timestamp_us=now - i * 1000, name=f"t{i}") for i in range(3)]


@pytest.mark.parametrize("value", CURSORS, ids=range(len(CURSORS)))
def test_a_cursor_it_did_not_make_opens_the_first_page(ui: Any, project: Any, traces: list[str], value: str) -> None:
    first = ui.get(f"/project/{project.id}/traces.json?range=all&sort=timestamp").json()
    for sort in ("timestamp", "name", "latency", "level"):
        base = f"/project/{project.id}/traces"
        page = ui.get(f"{base}?range=all&sort={sort}&cursor={value}")
        assert page.status_code == 200, page.text[:300]
        body = ui.get(f"{base}.json?range=all&sort={sort}&cursor={value}")
        assert body.status_code == 200, body.text[:300]
        if sort == "timestamp":
            assert [r["id"] for r in body.json()["data"]] == [r["id"] for r in first["data"]]


@pytest.mark.parametrize("value", PAGES)
def test_a_page_number_it_cannot_use_opens_a_page(ui: Any, project: Any, traces: list[str], value: str) -> None:
    for path in ("sessions", "users", "scores", "datasets"):
        for suffix in ("", ".json"):
            response = ui.get(f"/project/{project.id}/{path}{suffix}", params={"range": "all", "page": value})
            assert response.status_code == 200, f"{path}{suffix}?page={value[:20]}: {response.text[:300]}"


def test_page_number() -> None:
    assert [page_number(v) for v in ("1", "7", "007", str(MAX_PAGE), str(MAX_PAGE + 1))] == [
        1,
        7,
        7,
        MAX_PAGE,
        MAX_PAGE,
    ]
    assert [page_number(v) for v in ("²", "-3", "1e5", "", None, "\u0661", "9" * 5000)] == [1] * 7


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+00:01", "x" * 5000])
def test_a_custom_range_outside_the_years_1_to_9999_is_reported(
    ui: Any, project: Any, traces: list[str], value: str
) -> None:
    for path in ("traces", "scores"):
        body = ui.get(f"/project/{project.id}/{path}.json", params={"range": "custom", "from": value, "to": value})
        assert body.status_code == 200 and body.json()["errors"], body.text[:300]
        assert ui.get(f"/project/{project.id}/{path}", params={"range": "custom", "from": value}).status_code == 200


@pytest.mark.parametrize(("key", "value"), [("lat_min", "1e400"), ("cost_max", "nan"), ("limit", "9" * 5000)])
def test_numeric_list_filters_never_fail(ui: Any, project: Any, traces: list[str], key: str, value: str) -> None:
    response = ui.get(f"/project/{project.id}/traces.json", params={"range": "all", key: value})
    assert response.status_code == 200


def test_the_level_sort_holds_thousands_of_errors(ui: Any, engine: Any, project: Any, traces: list[str]) -> None:
    """The sort key (errors x 1,000,000 + warnings) is 64-bit: 32 bits overflowed on PostgreSQL."""
    with engine.begin() as conn:
        conn.execute(schema.traces.update().values(error_count=5000, warning_count=3))
    for direction in ("asc", "desc"):
        first = ui.get(f"/project/{project.id}/traces.json?range=all&sort=level&dir={direction}&limit=1")
        assert first.status_code == 200, first.text[:300]
        following = ui.get(
            f"/project/{project.id}/traces.json?range=all&sort=level&dir={direction}&limit=1"
            f"&cursor={first.json()['meta']['nextCursor']}"
        )
        assert following.status_code == 200 and following.json()["data"], following.text[:300]


def _count(engine: Any, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.mark.parametrize(
    "form",
    [
        {"name": "a\x00b", "value": "1"},
        {"name": "ok", "value": "1", "comment": "a\x00b"},
        {"name": "ok", "value": "a\x00b", "data_type": "CATEGORICAL"},
        {"name": "ok", "value": "1e400"},
        {"name": "😀" * 300, "value": "1"},
    ],
    ids=["nul-name", "nul-comment", "nul-value", "infinite", "long-name"],
)
def test_an_annotation_it_cannot_store_is_a_400_page(
    ui: Any, engine: Any, project: Any, traces: list[str], form: dict[str, str]
) -> None:
    page = f"/project/{project.id}/traces/{traces[0]}"
    token = csrf_from(ui.get(page).text)
    response = ui.post(f"{page}/scores", data={"csrf_token": token, **form}, follow_redirects=False)
    assert response.status_code == 400, response.text[:300]
    assert _count(engine, schema.scores) == 0


def test_a_dataset_name_it_cannot_store_is_a_400_page(ui: Any, engine: Any, project: Any) -> None:
    base = f"/project/{project.id}/datasets"
    token = csrf_from(ui.get(base).text)
    for name in ("a\x00b", "x" * 201):
        response = ui.post(base, data={"csrf_token": token, "name": name}, follow_redirects=False)
        assert response.status_code == 400, response.text[:300]
    assert _count(engine, schema.datasets) == 0


def test_formatting_never_fails_on_what_is_stored() -> None:
    for text in ("[" * 5000 + "]" * 5000, "[" * 300 + "]" * 300, '{"a": ' + "[" * 300 + "]" * 300 + "}", "{bad"):
        assert isinstance(formatting.preview(text), str)
        assert formatting.turn_content(text)[0] in ("text", "json")
        assert isinstance(formatting.compact_json(text), str)
    assert formatting.turn_content("[" * 300 + "]" * 300) == ("text", "[" * 300 + "]" * 300)
    for us in (2**63 - 1, -(2**63), MAX_US + 1, MIN_US - 1):
        assert formatting.fmt_time(us)[:4] in ("9999", "0001")
        assert formatting.iso_time(us)[:4] in ("9999", "0001")
    assert formatting.iso_time(MAX_US) == "9999-12-31T23:59:59.999Z"
